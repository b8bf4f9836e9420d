//! `cutover check`: validate routes.toml, every flag file and every secret
//! reference without binding a port or needing a secret's value.
//!
//! Errors and warnings are `file:line: message and fix`. A secret `[auth]`
//! names that is unset is a warning (all of them, each at its key's line), an
//! error with `--strict` (what `serve` enforces). A secret under 32 bytes is a
//! warning in every mode. Uses `config::Offline`.

use std::path::Path;
use std::process::ExitCode;

use super::EX_USAGE;
use crate::config::Offline;

#[derive(clap::Args, Debug, Default)]
pub struct CheckArgs {
    /// Also fail (exit 64) when a secret routes.toml names is unset, as
    /// `serve` does; without it, unset secrets are warnings.
    #[arg(long)]
    pub strict: bool,
}

/// `routes.toml` cannot be found: say where we looked and how to point at it.
/// `None` when the path exists (other read errors are reported by the loader).
pub fn config_missing(path: &Path) -> Option<String> {
    if path.exists() {
        return None;
    }
    let cwd = std::env::current_dir()
        .map(|d| d.display().to_string())
        .unwrap_or_else(|_| "?".into());
    Some(format!(
        "{}: not found (looked in {cwd}); pass --config PATH/TO/routes.toml or set CUTOVER_CONFIG",
        path.display()
    ))
}

/// Load without secret values; errors (and a missing file) are printed and
/// mapped to exit 64. Shared by `check` and `routes`.
pub fn load(path: &Path) -> Result<Offline, ExitCode> {
    let loaded = match config_missing(path) {
        Some(msg) => Err(msg),
        None => Offline::load(path).map_err(|e| e.to_string()),
    };
    loaded.map_err(|msg| {
        eprintln!("error: {msg}");
        ExitCode::from(EX_USAGE)
    })
}

/// `cutover check [--strict]`: every problem at once, exit 64 on an error.
pub fn check(path: &Path, args: &CheckArgs) -> ExitCode {
    let cfg = match load(path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let unset_level = if args.strict { "error" } else { "warning" };
    for e in &cfg.unset_secrets {
        eprintln!("{unset_level}: {e}");
    }
    for w in &cfg.weak_secrets {
        eprintln!("warning: {w}");
    }
    for p in &cfg.flag_problems {
        eprintln!("error: {}", p.error);
    }
    let mut failed = false;
    if !cfg.flag_problems.is_empty() {
        failed = true;
        eprintln!(
            "{}: {} bad flag file(s); a running proxy keeps each one's last good flag and applies every other file",
            path.display(),
            cfg.flag_problems.len()
        );
    }
    let unset = cfg.unset_secrets.len();
    if unset > 0 {
        failed |= args.strict;
        eprintln!(
            "{}: {unset} secret(s) not set here; `serve` refuses to start without them{}",
            path.display(),
            if args.strict {
                ""
            } else {
                " (`check --strict` makes this an error)"
            }
        );
    }
    if failed {
        return ExitCode::from(EX_USAGE);
    }
    println!(
        "{}: ok ({} routes, {} flag files)",
        path.display(),
        cfg.routes.len(),
        cfg.flags.len()
    );
    ExitCode::SUCCESS
}
