//! Command line: `serve`, `check`, `routes`, `flip`, `handlers`.

pub mod flip;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Config;

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
    /// Point a route at a backend: edit its flag file in place (atomically),
    /// then wait until the running proxy applies it.
    Flip(flip::FlipArgs),
    /// Apply the database migrations (DATABASE_URL) the handlers and the Next app share.
    Migrate,
    /// Serve only the rust handlers (for a separate deployment).
    Handlers {
        #[arg(long, default_value = "127.0.0.1:8081")]
        listen: String,
    },
}

/// `cutover check`: every error with file:line (all bad flag files, not just
/// the first), exit 64 on failure.
pub fn check(path: &Path) -> ExitCode {
    match Config::load_lenient(path) {
        Ok(cfg) if cfg.flag_problems.is_empty() => {
            println!(
                "{}: ok ({} routes, {} flag files)",
                path.display(),
                cfg.routes.len(),
                cfg.flags.len()
            );
            ExitCode::SUCCESS
        }
        Ok(cfg) => {
            for p in &cfg.flag_problems {
                eprintln!("error: {}", p.error);
            }
            eprintln!(
                "{}: {} bad flag file(s); a running proxy keeps each one's last good flag and applies every other file",
                path.display(),
                cfg.flag_problems.len()
            );
            ExitCode::from(EX_USAGE)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EX_USAGE)
        }
    }
}

/// `cutover routes`: the effective table. A bad flag file is marked in its
/// row and explained under the table; the table is still printed.
pub fn routes(path: &Path) -> ExitCode {
    let cfg = match Config::load_lenient(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EX_USAGE);
        }
    };
    println!("{:<28} {:<52} BACKEND", "ROUTE", "PATTERN");
    for r in cfg.routes.iter() {
        let bad = cfg
            .flag_problems
            .iter()
            .find(|p| !p.orphan && p.route == r.id.as_str());
        let flag = match bad {
            Some(p) => format!(
                "! INVALID {} (a running proxy keeps its last good flag)",
                p.error.file.display()
            ),
            None => cfg
                .flag(&r.id)
                .map_or_else(|| "next (no flag)".to_string(), |f| f.describe()),
        };
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
    for p in &cfg.flag_problems {
        let what = if p.orphan {
            "ignored: names no route (a removed route's leftover? delete it)"
        } else {
            "not applied: fix it, or `cutover flip` the route"
        };
        eprintln!("! {} ({what})", p.error);
    }
    ExitCode::SUCCESS
}

/// `cutover flip`: see [`flip`]; errors exit 64.
pub fn flip(path: &Path, args: &flip::FlipArgs) -> ExitCode {
    match flip::run(path, args) {
        Ok(lines) => {
            for l in lines {
                println!("{l}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EX_USAGE)
        }
    }
}
