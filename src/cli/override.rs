//! `cutover override`: sign a tester override for some routes (or all) and
//! print the cookie value, the `/-/override?token=…` link that sets it, and
//! its expiry.
//!
//! Needs the signing key (the first key `[override]` names that is set):
//! this command is the one place that legitimately reads it. Route ids are
//! checked against routes.toml (with a suggestion on a typo) and the ttl
//! against `max_ttl`. May use: `config`, `flags`, `r#override`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use crate::config::{Offline, closest, shadow::parse_duration};
use crate::flags::Side;
use crate::r#override::{Grant, RouteSet, sign};

/// `cutover override --route ID… | --all --side rust|next [--ttl 2h] [--user ID]`.
#[derive(clap::Args, Debug)]
pub struct OverrideArgs {
    /// A route id from routes.toml (repeat for several).
    #[arg(long = "route", value_name = "ID", required_unless_present = "all")]
    pub routes: Vec<String>,
    /// Every route, present and future.
    #[arg(long, conflicts_with = "routes")]
    pub all: bool,
    /// The side the tester's requests go to: rust or next.
    #[arg(long, value_parser = ["rust", "next"])]
    pub side: String,
    /// How long it lasts: 30m, 2h, … (at most `[override] max_ttl`).
    #[arg(long, default_value = "2h")]
    pub ttl: String,
    /// Only for requests whose verified identity has this user id.
    #[arg(long, value_name = "ID")]
    pub user: Option<String>,
}

/// Sign the grant `args` ask for at `now` (unix seconds): the lines to print.
pub fn run(config: &Path, args: &OverrideArgs, now: u64) -> Result<Vec<String>, String> {
    // Only the override key is needed: [auth] secrets may be unset here.
    let cfg = Offline::load(config).map_err(|e| e.to_string())?;
    let o = cfg.overrides.as_ref().ok_or_else(|| {
        format!(
            "{}: no [override] section: add one naming the signing key (see README, \"Tester override\")",
            config.display()
        )
    })?;
    let key = o.keys.first().ok_or_else(|| {
        format!(
            "no override key is set: {} (named in [override]); set the first one to the signing key",
            o.named_sources
                .iter()
                .map(|s| s.replace("env ", "export "))
                .collect::<Vec<_>>()
                .join(" or ")
        )
    })?;
    let routes = if args.all {
        RouteSet::All
    } else {
        let known: Vec<&str> = cfg.routes.iter().map(|r| r.id.as_str()).collect();
        for id in &args.routes {
            if !known.contains(&id.as_str()) {
                let hint = closest(id, known.iter().copied()).map_or_else(
                    || " (`cutover routes` lists them)".to_string(),
                    |c| format!(" (did you mean `{c}`?)"),
                );
                return Err(format!("no route `{id}` in {}{hint}", config.display()));
            }
        }
        RouteSet::Only(args.routes.iter().cloned().collect())
    };
    let ttl = parse_duration(&args.ttl)
        .filter(|d| *d >= Duration::from_secs(1))
        .ok_or_else(|| format!("--ttl {:?}: write a duration such as 30m or 2h", args.ttl))?;
    if ttl > o.max_ttl {
        return Err(format!(
            "--ttl {} is longer than [override] max_ttl ({}s): ask for less",
            args.ttl,
            o.max_ttl.as_secs()
        ));
    }
    let side = if args.side == "rust" {
        Side::Rust
    } else {
        Side::Next
    };
    let grant = Grant {
        routes,
        side,
        expires: now + ttl.as_secs(),
        user: args.user.clone(),
    };
    let token = sign(&grant, key);
    let expires = chrono::DateTime::from_timestamp(grant.expires as i64, 0)
        .map_or_else(|| grant.expires.to_string(), |t| t.to_rfc3339());
    Ok(vec![
        format!("cookie: {}={token}", o.cookie),
        format!("page: {}?token={token}", crate::r#override::PAGE_PATH),
        format!(
            "expires: {expires} ({}; {} on {})",
            grant.expires,
            grant.describe_routes(),
            side.as_str()
        ),
    ])
}

/// `cutover override`: print the lines, or the error and exit 64.
pub fn command(config: &Path, args: &OverrideArgs) -> ExitCode {
    super::report(run(config, args, crate::proxy::unix_now()), super::EX_USAGE)
}
