//! `cutover status`: the status page's table in a terminal. Reads
//! `/-/routes` from the running proxy's admin port (`--admin`, else
//! `admin_listen` of routes.toml) and prints one aligned row per route:
//! stage and side, flag file, guard, requests/s · error % · p99 per side over
//! the judge window, shadow mismatches. Colour only when stdout is a
//! terminal (and `NO_COLOR` is unset). May use: `config`, `cli::flip`'s
//! admin client.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;

use serde_json::Value;

use super::flip::{admin_get, resolve_admin};
use crate::config::Config;

/// `cutover status [--admin ADDR]`.
#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    /// The running proxy's admin address (default: `admin_listen` of routes.toml).
    #[arg(long, value_name = "ADDR", env = "CUTOVER_ADMIN")]
    pub admin: Option<String>,
}

/// Fetch and print; exit 1 with a hint when the admin port does not answer.
pub fn run(path: &Path, args: &StatusArgs) -> ExitCode {
    let text = match &args.admin {
        Some(a) => a.clone(),
        None => match Config::load_lenient(path) {
            Ok(cfg) => cfg.process.admin_listen.clone(),
            Err(e) => {
                eprintln!(
                    "error: cannot read the admin address from {}: {e}\nhint: pass --admin HOST:PORT (the running proxy's admin_listen)",
                    path.display()
                );
                return ExitCode::from(super::EX_USAGE);
            }
        },
    };
    let addr = match resolve_admin(&text) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(super::EX_USAGE);
        }
    };
    match admin_get(addr, "/-/routes") {
        Ok(doc) => {
            let colour = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            print!("{}", render(&doc, colour));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "error: the admin port {addr} does not answer /-/routes ({e})\nhint: is `cutover serve` running with this config? pass --admin HOST:PORT to ask another address"
            );
            ExitCode::from(1)
        }
    }
}

/// One cell: its plain text (for widths) and its colour (an SGR code).
struct Cell {
    text: String,
    colour: Option<&'static str>,
}

fn cell(text: impl Into<String>) -> Cell {
    Cell {
        text: text.into(),
        colour: None,
    }
}

fn red(text: impl Into<String>) -> Cell {
    Cell {
        text: text.into(),
        colour: Some("31"),
    }
}

const HEADS: [&str; 8] = [
    "ROUTE",
    "STAGE",
    "SIDE",
    "FLAG FILE",
    "GUARD",
    "NEXT rps/err/p99",
    "RUST rps/err/p99",
    "SHADOW",
];

/// The table (and a summary line) for a `/-/routes` document.
pub fn render(doc: &Value, colour: bool) -> String {
    let mut rows: Vec<Vec<Cell>> = vec![HEADS.iter().map(|h| cell(*h)).collect()];
    for r in doc["routes"].as_array().into_iter().flatten() {
        rows.push(row(r));
    }
    let widths: Vec<usize> = (0..HEADS.len())
        .map(|i| {
            rows.iter()
                .map(|r| r[i].text.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!(
        "generation {} · reload failures {}\n",
        doc["generation"], doc["reload_failures"]
    );
    let backends: Vec<String> = ["next", "rust", "database", "soketi"]
        .iter()
        .filter_map(|name| {
            let b = &doc["backends"][name];
            let state = b["state"].as_str()?;
            Some(match b["reason"].as_str() {
                Some(why) if state == "down" => format!("{name} DOWN ({why})"),
                _ => format!("{name} {state}"),
            })
        })
        .collect();
    if !backends.is_empty() {
        out.push_str(&format!("backends: {}\n", backends.join(" · ")));
    }
    for (n, r) in rows.iter().enumerate() {
        let mut line = String::new();
        for (i, c) in r.iter().enumerate() {
            let last = i + 1 == r.len();
            let pad = if last {
                0
            } else {
                widths[i] - c.text.chars().count() + 2
            };
            let code = if n == 0 { Some("1") } else { c.colour };
            match code.filter(|_| colour) {
                Some(code) => line.push_str(&format!("\x1b[{code}m{}\x1b[0m", c.text)),
                None => line.push_str(&c.text),
            }
            line.push_str(&" ".repeat(pad));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    if let Some(e) = doc["last_rejected_config_edit"]["error"].as_str() {
        out.push_str(&format!("last rejected routes.toml edit: {e}\n"));
    }
    if let Some(e) = doc["last_rejected_flag_edit"]["error"].as_str() {
        out.push_str(&format!("flag file not applied: {e}\n"));
    }
    out
}

fn row(r: &Value) -> Vec<Cell> {
    let stage = r["stage"].as_str().unwrap_or("?");
    let stage_cell = Cell {
        text: stage.to_string(),
        colour: match stage {
            "rust" => Some("32"),
            "canary" => Some("33"),
            "shadow" => Some("35"),
            "tripped" => Some("31"),
            _ => None,
        },
    };
    let mut side = r["side"].as_str().unwrap_or("?").to_string();
    if let Some(p) = r["shadow_percent"].as_u64().filter(|p| *p > 0) {
        side.push_str(&format!(" +shadow {p}%"));
    }
    let f = &r["flag_file"];
    let flag = if f["valid"].as_bool() == Some(false) {
        let line = f["line"]
            .as_u64()
            .map(|l| format!(":{l}"))
            .unwrap_or_default();
        red(format!(
            "INVALID {}{line}",
            short(f["file"].as_str().unwrap_or("?"))
        ))
    } else {
        cell(f["file"].as_str().map_or("-".to_string(), short))
    };
    let guard = match r["guard"]["state"].as_str() {
        Some("tripped") => red("TRIPPED"),
        Some(s) => cell(s),
        None => cell("-"),
    };
    vec![
        cell(r["id"].as_str().unwrap_or("?")),
        stage_cell,
        cell(side),
        flag,
        guard,
        window(&r["window"], "next"),
        window(&r["window"], "rust"),
        shadow(&r["shadow"]),
    ]
}

fn window(w: &Value, side: &str) -> Cell {
    if !w.is_object() {
        return cell("-");
    }
    let s = &w[side];
    let err = s["error_ratio"].as_f64().unwrap_or(0.0) * 100.0;
    let text = format!(
        "{:.1}/{err:.1}%/{:.0}ms",
        s["rps"].as_f64().unwrap_or(0.0),
        s["p99_ms"].as_f64().unwrap_or(0.0)
    );
    if err > 0.0 { red(text) } else { cell(text) }
}

fn shadow(s: &Value) -> Cell {
    let compared = s["compared"].as_u64().unwrap_or(0);
    if compared == 0 {
        return cell("-");
    }
    let ratio = s["mismatch_ratio"].as_f64().unwrap_or(0.0) * 100.0;
    let top = s["top_places"][0]["place"].as_str();
    let text = match top {
        Some(p) => format!("{ratio:.1}% of {compared} ({p})"),
        None => format!("{ratio:.1}% of {compared}"),
    };
    if ratio > 0.0 { red(text) } else { cell(text) }
}

/// `flags/route.toml` from a full path.
fn short(p: &str) -> String {
    let parts: Vec<&str> = p.rsplit('/').take(2).collect();
    parts.into_iter().rev().collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests;
