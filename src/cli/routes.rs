//! `cutover routes`: the effective route table, in routes.toml order, with
//! columns as wide as their widest cell. A route whose flag file is invalid
//! is marked `! INVALID` and explained under the table; the table is still
//! printed. Needs no secret values (`config::Offline`).

use std::path::Path;
use std::process::ExitCode;

/// `cutover routes`: print the table (exit 0), or the load error (exit 64).
pub fn routes(path: &Path) -> ExitCode {
    let cfg = match super::check::load(path) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let mut rows = vec![[
        "ROUTE".to_string(),
        "METHODS".to_string(),
        "PATTERN".to_string(),
        "BACKEND".to_string(),
    ]];
    for id in &cfg.route_order {
        let Some(r) = cfg.routes.get(id) else {
            continue;
        };
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
        rows.push([
            r.id.as_str().to_string(),
            methods,
            r.pattern.as_str().to_string(),
            flag,
        ]);
    }
    rows.push(["(unmatched)".into(), "*".into(), "*".into(), "next".into()]);
    print!("{}", table(&rows));
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

/// Rows as lines, every column but the last padded to its widest cell
/// (counted in characters) plus two spaces; no trailing spaces.
pub fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < N {
                let pad = widths[i] - cell.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests;
