//! `/-/ui`: the status page, server-rendered from the `/-/routes` document
//! (so the page and the JSON never disagree). One HTML page, no build step,
//! no external asset: inline CSS (a table that turns into stacked cards
//! under 760 px: phones and terminal-sized windows) and a small inline
//! script that refetches the page every second and swaps its `<main>`; with
//! JavaScript off a `<noscript>` meta refresh does the same every 2 s. Every value is HTML-escaped; the
//! Content-Security-Policy allows only that style and that script (by hash)
//! and same-origin fetches. Served on the admin port only.

use std::fmt::Write;
use std::sync::OnceLock;

use base64::Engine;
use http::{HeaderValue, Response};
use serde_json::Value;
use sha2::{Digest, Sha256};

const STYLE: &str = include_str!("ui/page.css");
const SCRIPT: &str = include_str!("ui/refresh.js");

/// The page as an HTTP response, with its security headers.
pub fn response(doc: &Value) -> Response<Vec<u8>> {
    let mut r = super::reply(200, "text/html; charset=utf-8", page(doc).into_bytes());
    let h = r.headers_mut();
    h.insert(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    if let Ok(v) = HeaderValue::from_str(csp()) {
        h.insert(http::header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    r
}

/// Only the inline style and script (by hash), fetches to this origin.
fn csp() -> &'static str {
    static CSP: OnceLock<String> = OnceLock::new();
    CSP.get_or_init(|| {
        let hash = |s: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s));
        format!(
            "default-src 'none'; style-src 'sha256-{}'; script-src 'sha256-{}'; \
             connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
            hash(STYLE),
            hash(SCRIPT)
        )
    })
}

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A JSON value as display text (strings unquoted), escaped.
fn text(v: &Value) -> String {
    esc(&match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// The whole page for a `/-/routes` document.
pub fn page(doc: &Value) -> String {
    let mut h = String::with_capacity(8192);
    h.push_str("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str("<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
    h.push_str("<title>cutover status</title>");
    h.push_str("<noscript><meta http-equiv=\"refresh\" content=\"2\"></noscript>");
    let _ = write!(h, "<style>{STYLE}</style></head><body>");
    h.push_str("<main id=\"status\">");
    summary(&mut h, doc);
    table(&mut h, doc);
    let _ = write!(
        h,
        "<p class=\"m\">As of {} · refreshes itself · JSON at <a href=\"/-/routes\">/-/routes</a>, \
         details at <a href=\"/-/config\">/-/config</a> and <a href=\"/-/diffs\">/-/diffs</a>.</p>",
        esc(&clock(doc["now_unix"].as_f64().unwrap_or(0.0)))
    );
    h.push_str("</main>");
    let _ = write!(h, "<script>{SCRIPT}</script></body></html>");
    h
}

/// Generation, reloads, rejected edits, backends.
fn summary(h: &mut String, doc: &Value) {
    let now = doc["now_unix"].as_f64().unwrap_or(0.0);
    let last = doc["last_reload_unix"].as_f64().unwrap_or(0.0);
    let _ = write!(
        h,
        "<header><h1>cutover</h1><p>config generation <b data-field=\"generation\">{}</b> · \
         last reload {} ({} s ago) · reload failures {}</p>",
        text(&doc["generation"]),
        esc(&clock(last)),
        (now - last).max(0.0).round(),
        text(&doc["reload_failures"]),
    );
    let rejected = &doc["last_rejected_config_edit"];
    if rejected.is_object() {
        let at = rejected["since"].as_f64().unwrap_or(0.0);
        let (class, state) = if rejected["still_rejected"].as_bool() == Some(true) {
            (
                "bad",
                "the last good config stays in force until a valid edit",
            )
        } else {
            ("m", "a later edit was applied")
        };
        let _ = write!(
            h,
            "<p class=\"{class}\">Last rejected routes.toml edit, at {}: {} ({state})</p>",
            esc(&clock(at)),
            text(&rejected["error"]),
        );
    }
    let rejected = &doc["last_rejected_flag_edit"];
    if rejected.is_object() {
        let _ = write!(
            h,
            "<p class=\"bad\">Flag file not applied: {} (since {})</p>",
            text(&rejected["error"]),
            esc(&clock(rejected["since"].as_f64().unwrap_or(0.0)))
        );
    }
    for o in doc["orphan_flag_files"].as_array().into_iter().flatten() {
        let _ = write!(
            h,
            "<p class=\"bad\">Ignored flag file (names no route): {}</p>",
            text(&o["error"])
        );
    }
    h.push_str("<p>Backends: ");
    backends(h, &doc["backends"]);
    h.push_str("</p></header>");
}

fn backends(h: &mut String, b: &Value) {
    for name in ["next", "rust", "database", "soketi"] {
        let v = &b[name];
        if v.is_null() {
            continue;
        }
        let _ = write!(
            h,
            "<span class=\"be\" data-backend=\"{name}\"><b>{name}</b>"
        );
        if let Some(url) = v["url"].as_str() {
            let _ = write!(h, " <code>{}</code>", esc(url));
        }
        match v["state"].as_str() {
            Some("up") => h.push_str(" <span class=\"ok\">up</span>"),
            Some("down") => h.push_str(" <span class=\"bad\">DOWN</span>"),
            Some(other) => {
                let _ = write!(h, " <span class=\"m\">{}</span>", esc(other));
            }
            None => {}
        }
        if let Some(why) = v["reason"].as_str() {
            let _ = write!(h, " <span class=\"m\">{}</span>", esc(why));
        }
        if let Some(n) = v["errors_recent"].as_u64().filter(|n| *n > 0) {
            let _ = write!(
                h,
                " <span class=\"m\">({n} errors in the last minute)</span>"
            );
        }
        h.push_str("</span> ");
    }
}

const HEADS: [&str; 8] = [
    "Route",
    "Stage / side",
    "Flag file",
    "Guard",
    "next: rps · errors · p99",
    "rust: rps · errors · p99",
    "Shadow mismatches",
    "Fallback budget",
];

fn table(h: &mut String, doc: &Value) {
    h.push_str("<table><thead><tr>");
    for head in HEADS {
        let _ = write!(h, "<th>{}</th>", esc(head));
    }
    h.push_str("</tr></thead><tbody>");
    for r in doc["routes"].as_array().into_iter().flatten() {
        row(h, r);
    }
    h.push_str("</tbody></table>");
}

fn row(h: &mut String, r: &Value) {
    let stage = r["stage"].as_str().unwrap_or("next");
    let _ = write!(
        h,
        "<tr data-route=\"{}\" data-stage=\"{}\">",
        text(&r["id"]),
        esc(stage)
    );
    let cell = |h: &mut String, i: usize, field: &str, body: String| {
        let _ = write!(
            h,
            "<td data-label=\"{}\" data-field=\"{field}\"><span class=\"v\">{body}</span></td>",
            esc(HEADS[i])
        );
    };
    cell(
        h,
        0,
        "route",
        format!(
            "<b>{}</b><br><code>{}</code>",
            text(&r["id"]),
            text(&r["path"])
        ),
    );
    let mut side = format!(
        "<span class=\"b st-{0}\">{0}</span> {1}",
        esc(stage),
        text(&r["side"])
    );
    if r["shadow_percent"].as_u64().unwrap_or(0) > 0 {
        let _ = write!(side, " · shadow {}%", text(&r["shadow_percent"]));
    }
    if stage == "tripped" {
        side.push_str(" · <span class=\"bad\">held on next</span>");
    }
    cell(h, 1, "side", side);
    cell(h, 2, "flag", flag_cell(&r["flag_file"]));
    let guard = match r["guard"]["state"].as_str() {
        Some("tripped") => format!(
            "<span class=\"bad\">TRIPPED</span> {}",
            text(&r["guard"]["reason"])
        ),
        Some("armed") => "armed".to_string(),
        _ => "<span class=\"m\">off</span>".to_string(),
    };
    cell(h, 3, "guard", guard);
    for (i, side) in [(4, "next"), (5, "rust")] {
        cell(h, i, side, window_cell(&r["window"], side));
    }
    cell(h, 6, "shadow", shadow_cell(&r["shadow"]));
    cell(h, 7, "fallback", fallback_cell(&r["fallback"]));
    h.push_str("</tr>");
}

fn flag_cell(f: &Value) -> String {
    let file = f["file"].as_str().map(short_path);
    if f["valid"].as_bool() == Some(false) {
        let full = f["error"].as_str().unwrap_or("");
        let line = f["line"]
            .as_u64()
            .map(|l| format!(":{l}"))
            .unwrap_or_default();
        let prefix = format!("{}{line}: ", f["file"].as_str().unwrap_or(""));
        let message = full.strip_prefix(&prefix).unwrap_or(full);
        return format!(
            "<span class=\"bad\">INVALID</span> <code>{}{}</code> {} <span class=\"m\">since {}; keeps its last good flag</span>",
            esc(&file.unwrap_or_default()),
            esc(&line),
            esc(message),
            esc(&clock(f["since"].as_f64().unwrap_or(0.0)))
        );
    }
    match file {
        Some(file) => format!("<span class=\"ok\">ok</span> <code>{}</code>", esc(&file)),
        None => "<span class=\"m\">no flag file (next)</span>".to_string(),
    }
}

fn window_cell(w: &Value, side: &str) -> String {
    if !w.is_object() {
        return "<span class=\"m\">no guard: not judged</span>".to_string();
    }
    let s = &w[side];
    let ratio = s["error_ratio"].as_f64().unwrap_or(0.0);
    let err = format!("{:.1}% err", ratio * 100.0);
    format!(
        "{:.1} rps · {} · p99 {} <span class=\"m\">({} req / {} s)</span>",
        s["rps"].as_f64().unwrap_or(0.0),
        if ratio > 0.0 {
            format!("<span class=\"bad\">{err}</span>")
        } else {
            err
        },
        ms(s["p99_ms"].as_f64().unwrap_or(0.0)),
        text(&s["requests"]),
        text(&w["seconds"]),
    )
}

fn shadow_cell(s: &Value) -> String {
    let compared = s["compared"].as_u64().unwrap_or(0);
    if compared == 0 {
        return "<span class=\"m\">none compared</span>".to_string();
    }
    let ratio = s["mismatch_ratio"].as_f64().unwrap_or(0.0);
    let mut out = format!(
        "<span class=\"{}\">{:.1}%</span> of {compared} differ",
        if ratio > 0.0 { "bad" } else { "ok" },
        ratio * 100.0
    );
    for p in s["top_places"].as_array().into_iter().flatten() {
        let _ = write!(
            out,
            "<br><code>{}</code> ×{}",
            text(&p["place"]),
            text(&p["count"])
        );
    }
    out
}

fn fallback_cell(f: &Value) -> String {
    if !f.is_object() {
        return "<span class=\"m\">no fallback</span>".to_string();
    }
    format!(
        "{:.0}% spent <span class=\"m\">({} of {} requests fell back; budget {:.1}% / {} s)</span>",
        f["spent"].as_f64().unwrap_or(0.0) * 100.0,
        text(&f["fallbacks"]),
        text(&f["requests"]),
        f["ratio"].as_f64().unwrap_or(0.0) * 100.0,
        text(&f["window_seconds"]),
    )
}

fn ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.1} ms")
    } else {
        format!("{v:.0} ms")
    }
}

/// The last two components of a path (`flags/route.toml`).
fn short_path(p: &str) -> String {
    let parts: Vec<&str> = p.rsplit('/').take(2).collect();
    parts.into_iter().rev().collect::<Vec<_>>().join("/")
}

/// Unix seconds as `HH:MM:SS UTC` (`-` for none).
fn clock(unix: f64) -> String {
    match chrono::DateTime::from_timestamp(unix as i64, 0) {
        Some(t) if unix > 0.0 => t.format("%H:%M:%S UTC").to_string(),
        _ => "-".to_string(),
    }
}

#[cfg(test)]
mod tests;
