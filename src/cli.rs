//! Command line: `serve`, `check`, `routes`, `flip`, `handlers`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::flags::Side;

/// Exit code for bad config or usage (sysexits EX_USAGE).
pub const EX_USAGE: u8 = 64;

#[derive(Parser, Debug)]
#[command(
    name = "cutover",
    version,
    about = "Move a Next.js app's API to Rust one route at a time"
)]
pub struct Cli {
    /// Path to routes.toml (flags are read from its `flags_dir`).
    #[arg(
        long,
        global = true,
        env = "CUTOVER_CONFIG",
        default_value = "routes.toml"
    )]
    pub config: PathBuf,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the proxy.
    Serve {
        /// Take over the listening sockets of a running cutover (graceful upgrade).
        #[arg(long)]
        upgrade: bool,
    },
    /// Validate routes.toml and every flag file without binding a port.
    Check,
    /// Print the effective route table.
    Routes,
    /// Point a route at a backend by rewriting its flag file atomically.
    Flip {
        route: String,
        /// next or rust
        backend: String,
        /// With `rust`: send only this percent of clients to rust (sticky canary).
        #[arg(long)]
        percent: Option<u8>,
        /// Canary stickiness: user, ip, cookie:NAME, header:NAME.
        #[arg(long, default_value = "user")]
        sticky_by: String,
    },
    /// Apply the database migrations (DATABASE_URL) the handlers and the Next app share.
    Migrate,
    /// Serve only the rust handlers (for a separate deployment).
    Handlers {
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: String,
    },
}

/// `cutover check`: every error with file:line, exit 64 on failure.
pub fn check(path: &Path) -> ExitCode {
    match Config::load(path) {
        Ok(cfg) => {
            println!(
                "{}: ok ({} routes, {} flag files)",
                path.display(),
                cfg.routes.len(),
                cfg.flags.len()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EX_USAGE)
        }
    }
}

/// `cutover routes`: the effective table.
pub fn routes(path: &Path) -> ExitCode {
    let cfg = match Config::load(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EX_USAGE);
        }
    };
    println!("{:<28} {:<52} BACKEND", "ROUTE", "PATTERN");
    for r in cfg.routes.iter() {
        let flag = cfg
            .flag(&r.id)
            .map_or_else(|| "next (no flag)".to_string(), |f| f.describe());
        let methods = r.methods.as_ref().map_or("*".to_string(), |ms| {
            ms.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(",")
        });
        println!(
            "{:<28} {:<52} {}",
            r.id.as_str(),
            format!("{methods} {}", r.pattern.as_str()),
            flag
        );
    }
    println!("{:<28} {:<52} next", "(unmatched)", "*");
    ExitCode::SUCCESS
}

/// `cutover flip`: write `flags/<route>.toml` via temp file + rename, after
/// validating the whole config with the new flag in place.
pub fn flip(
    path: &Path,
    route: &str,
    backend: &str,
    percent: Option<u8>,
    sticky_by: &str,
) -> ExitCode {
    match flip_inner(path, route, backend, percent, sticky_by) {
        Ok(msg) => {
            println!("{msg}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EX_USAGE)
        }
    }
}

fn flip_inner(
    path: &Path,
    route: &str,
    backend: &str,
    percent: Option<u8>,
    sticky_by: &str,
) -> Result<String, String> {
    let cfg = Config::load(path).map_err(|e| e.to_string())?;
    let id = crate::route::RouteId::parse(route)?;
    if cfg.routes.get(&id).is_none() {
        return Err(format!("no route `{route}` in {}", path.display()));
    }
    let side = match backend {
        "next" => Side::Next,
        "rust" => Side::Rust,
        other => return Err(format!("backend `{other}` is not next or rust")),
    };
    let body = match (side, percent) {
        (Side::Next, Some(_)) => {
            return Err("--percent goes with rust (the share of clients on rust)".into());
        }
        (_, Some(p)) if p > 100 => return Err(format!("--percent {p} is out of range 0..=100")),
        (Side::Rust, Some(p)) => {
            crate::flags::StickyBy::parse(sticky_by)?;
            format!(
                "# written by `cutover flip`\ncanary = {{ percent = {p}, sticky_by = \"{sticky_by}\" }}\n"
            )
        }
        (side, None) => format!(
            "# written by `cutover flip`\nbackend = \"{}\"\n",
            side.as_str()
        ),
    };
    // Validate the result before anyone can read it.
    let target = cfg.flags_dir.join(format!("{route}.toml"));
    let existing = cfg.flags.get(&id).map(|f| f.source.clone());
    let dest = existing.unwrap_or(target);
    crate::config::validate_flag_text(&dest, &body, &cfg.routes).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&cfg.flags_dir)
        .map_err(|e| format!("{}: {e}", cfg.flags_dir.display()))?;
    let tmp = cfg
        .flags_dir
        .join(format!(".{route}.toml.tmp-{}", std::process::id()));
    std::fs::write(&tmp, &body).map_err(|e| format!("{}: {e}", tmp.display()))?;
    // Follow a symlinked flag (ConfigMap) to its real file? No: replace the link's target dir entry.
    std::fs::rename(&tmp, &dest).map_err(|e| format!("{}: {e}", dest.display()))?;
    Ok(format!(
        "{route}: {} ({})",
        body.lines().nth(1).unwrap_or("").trim(),
        dest.display()
    ))
}
