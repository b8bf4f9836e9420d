//! `cutover flip`: edit one route's flag file in place, say what changed, and
//! wait until the running proxy has applied it.
//!
//! Only the written file (and the route table it needs) is validated: a bad
//! flag file of another route never blocks a flip or a rollback. The edit
//! keeps comments, key order and unrelated keys (`toml_edit`); unknown keys
//! (typos such as `backnd`) are removed and named. May use: `config`, `flags`.

use std::path::{Path, PathBuf};

use crate::config::{Offline, closest};
use crate::flags::{Side, StickyBy};
use crate::route::RouteId;

/// `cutover flip ROUTE next|rust [options]`.
#[derive(clap::Args, Debug)]
pub struct FlipArgs {
    /// The route id (as in routes.toml).
    pub route: String,
    /// next or rust
    pub backend: String,
    /// With `rust`: send only this percent of clients to rust (sticky canary).
    #[arg(long, value_name = "N")]
    pub percent: Option<i64>,
    /// Canary stickiness (with --percent): user (default), ip, cookie:NAME, header:NAME.
    #[arg(long, value_name = "KEY")]
    pub sticky_by: Option<String>,
    /// Copy this percent of requests to the other side and compare (0 removes shadowing).
    #[arg(long, value_name = "PERCENT")]
    pub shadow: Option<i64>,
    /// Print the change and the diff; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Wait until the running proxy applies the file (the default when its admin port answers).
    #[arg(long)]
    pub wait: bool,
    /// Do not wait for the running proxy.
    #[arg(long)]
    pub no_wait: bool,
    /// The running proxy's admin address (default: `admin_listen` of routes.toml).
    #[arg(long, value_name = "ADDR", env = "CUTOVER_ADMIN")]
    pub admin: Option<String>,
    /// How long to wait for the running proxy, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    pub wait_timeout: u64,
}

/// What the options ask for, once they are known not to contradict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub side: Side,
    /// `Some`: a canary of this percent (side is rust).
    pub percent: Option<u8>,
    pub sticky_by: Option<String>,
    /// `Some(0)`: stop shadowing.
    pub shadow: Option<u8>,
}

/// Check the options against each other: every contradiction is an error.
pub fn plan(a: &FlipArgs) -> Result<Change, String> {
    let side = match a.backend.as_str() {
        "next" => Side::Next,
        "rust" => Side::Rust,
        other => {
            return Err(format!(
                "backend `{other}` is not `next` or `rust`{}",
                hint(closest(other, ["next", "rust"]))
            ));
        }
    };
    if a.wait && a.no_wait {
        return Err("--wait and --no-wait contradict each other: pick one".into());
    }
    if a.dry_run && a.wait {
        return Err("--dry-run writes nothing, so there is nothing to --wait for: drop one".into());
    }
    let percent = match (side, a.percent) {
        (Side::Next, Some(_)) => {
            return Err(
                "--percent goes with rust (the share of clients on rust): `flip ROUTE next` sends everyone to next"
                    .into(),
            );
        }
        (_, Some(p)) if !(0..=100).contains(&p) => {
            return Err(format!("--percent {p} is out of range 0..=100"));
        }
        (_, p) => p.map(|p| p as u8),
    };
    if let Some(s) = &a.sticky_by {
        if percent.is_none() {
            return Err(format!(
                "--sticky-by {s} sets a canary's stickiness: add --percent N (a canary), or drop --sticky-by"
            ));
        }
        StickyBy::parse(s)?;
    }
    let shadow = match a.shadow {
        Some(p) if !(0..=100).contains(&p) => {
            return Err(format!("--shadow {p} is out of range 0..=100"));
        }
        p => p.map(|p| p as u8),
    };
    Ok(Change {
        side,
        percent,
        sticky_by: a.sticky_by.clone(),
        shadow,
    })
}

fn hint(s: Option<&str>) -> String {
    s.map(|s| format!("; did you mean `{s}`?"))
        .unwrap_or_default()
}

/// Run `cutover flip`: Ok(lines for stdout), Err(one message, exit 64).
pub fn run(path: &Path, a: &FlipArgs) -> Result<Vec<String>, String> {
    let change = plan(a)?;
    // No secret values needed: the route table and the one flag file.
    let cfg = Offline::load(path).map_err(|e| e.to_string())?;
    let known: Vec<&str> = cfg.routes.iter().map(|r| r.id.as_str()).collect();
    let id = RouteId::parse(&a.route)
        .ok()
        .filter(|id| cfg.routes.get(id).is_some())
        .ok_or_else(|| {
            format!(
                "no route `{}` in {}{} (known: {})",
                a.route,
                path.display(),
                hint(closest(&a.route, known.iter().copied())),
                known.join(", ")
            )
        })?;
    let problem = cfg
        .flag_problems
        .iter()
        .find(|p| p.route == id.as_str() && !p.orphan);
    let dest: PathBuf = cfg
        .flag(&id)
        .map(|f| f.source.clone())
        .or_else(|| problem.map(|p| p.error.file.clone()))
        .unwrap_or_else(|| cfg.flags_dir.join(format!("{id}.toml")));
    let old = match std::fs::read_to_string(&dest) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("{}: cannot read: {e}", dest.display())),
    };
    let before = match (cfg.flag(&id), problem) {
        (Some(f), None) => f.describe(),
        (_, Some(p)) => format!("invalid file ({})", p.error),
        (None, None) => "next (no flag)".to_string(),
    };
    let (text, notes) = edit(old.as_deref(), &change);
    let flag = crate::config::parse_flag_text(&dest, &text, &cfg.routes)
        .map_err(|e| format!("{e} (in the edited file; nothing written)"))?;
    let after = flag.describe();
    let mut out = Vec::new();
    if old.as_deref() == Some(text.as_str()) {
        out.push(format!(
            "{id}: {before} → {after} (unchanged; {} left as is)",
            dest.display()
        ));
        return Ok(out);
    }
    out.push(format!("{id}: {before} → {after}"));
    out.extend(notes.iter().map(|n| format!("note: {n}")));
    if a.dry_run {
        out.push(format!("dry run: would write {}:", dest.display()));
        out.push(
            diff(old.as_deref().unwrap_or(""), &text)
                .trim_end()
                .to_string(),
        );
        return Ok(out);
    }
    let admin = if a.no_wait {
        Err("--no-wait".to_string())
    } else {
        admin_addr(a, &cfg)
    };
    let before_gen = admin
        .as_ref()
        .ok()
        .and_then(|addr| admin_config(*addr).ok());
    write_atomically(&cfg.flags_dir, &dest, &id, &text)?;
    out.push(format!("wrote {}", dest.display()));
    let fingerprint = hex::encode(flag.fingerprint);
    out.push(match (admin, before_gen) {
        (Err(why), _) => format!("did not wait for the running proxy ({why}); it applies the file within its reload interval"),
        (Ok(addr), None) => format!(
            "did not wait: the admin port {addr} does not answer; a running proxy applies the file within its reload interval"
        ),
        (Ok(addr), Some(start)) => wait_applied(addr, &id, &fingerprint, start_generation(&start), a.wait_timeout),
    });
    Ok(out)
}

fn write_atomically(dir: &Path, dest: &Path, id: &RouteId, text: &str) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let tmp = dir.join(format!(".{id}.toml.tmp-{}", std::process::id()));
    std::fs::write(&tmp, text).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, dest).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: {e}", dest.display())
    })
}

mod edit;
#[cfg(test)]
mod tests;
mod wait;

pub use edit::{diff, edit};
use wait::{admin_addr, admin_config, start_generation, wait_applied};
pub(crate) use wait::{admin_get, resolve_admin};
