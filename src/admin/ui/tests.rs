use super::*;
use serde_json::json;

fn doc_with(route: Value) -> Value {
    json!({
        "now_unix": 1_700_000_100.0,
        "generation": 7,
        "last_reload_unix": 1_700_000_000.0,
        "reload_failures": 1,
        "last_rejected_flag_edit": null,
        "orphan_flag_files": [],
        "backends": {
            "next": { "url": "http://next:3000", "state": "down", "reason": "connect refused <x>", "errors_recent": 4 },
            "rust": { "url": "embedded", "state": "up" },
        },
        "routes": [route],
    })
}

fn route() -> Value {
    json!({
        "id": "threads", "path": "/api/threads", "stage": "canary", "side": "canary 30%",
        "rust_percent": 30, "shadow_percent": 0, "flag": "canary",
        "flag_file": { "valid": true, "file": "/etc/cutover/flags/threads.toml" },
        "guard": { "state": "armed" },
        "window": { "seconds": 60.0,
            "next": { "requests": 120, "errors": 0, "rps": 2.0, "error_ratio": 0.0, "p99_ms": 12.0 },
            "rust": { "requests": 60, "errors": 3, "rps": 1.0, "error_ratio": 0.05, "p99_ms": 4.2 } },
        "shadow": { "compared": 0, "mismatches": 0, "mismatch_ratio": 0.0, "top_places": [] },
        "fallback": null,
    })
}

#[test]
fn every_value_is_html_escaped() {
    let mut r = route();
    r["path"] = json!("/api/<script>alert(1)</script>");
    r["flag_file"] = json!({
        "valid": false, "file": "/x/flags/a\"b.toml", "line": 2,
        "error": "/x/flags/a\"b.toml:2: unknown key `<img src=x onerror=alert(1)>`",
        "since": 1_700_000_000,
    });
    let html = page(&doc_with(r));
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("flags/a&quot;b.toml:2"), "{html}");
}

#[test]
fn row_carries_stage_side_flag_guard_and_window_without_javascript() {
    let html = page(&doc_with(route()));
    assert!(html.contains("data-route=\"threads\" data-stage=\"canary\""));
    assert!(html.contains("canary 30%"));
    assert!(html.contains("<code>flags/threads.toml</code>"), "{html}");
    assert!(html.contains("armed"));
    assert!(
        html.contains("1.0 rps · <span class=\"bad\">5.0% err</span> · p99 4.2 ms"),
        "{html}"
    );
    assert!(html.contains("<noscript><meta http-equiv=\"refresh\" content=\"2\"></noscript>"));
}

#[test]
fn invalid_flag_file_is_marked_with_file_and_line() {
    let mut r = route();
    r["flag_file"] = json!({
        "valid": false, "file": "/etc/cutover/flags/threads.toml", "line": 1,
        "error": "/etc/cutover/flags/threads.toml:1: unknown key `backnd`",
        "since": 1_700_000_000,
    });
    let html = page(&doc_with(r));
    assert!(
        html.contains("INVALID</span> <code>flags/threads.toml:1</code> unknown key `backnd`"),
        "{html}"
    );
}

#[test]
fn csp_pins_the_inline_style_and_script_by_hash() {
    let resp = response(&doc_with(route()));
    let csp = resp.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.starts_with("default-src 'none'; style-src 'sha256-"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"));
    let hash = |s: &str| base64::engine::general_purpose::STANDARD.encode(Sha256::digest(s));
    assert!(csp.contains(&hash(SCRIPT)) && csp.contains(&hash(STYLE)));
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body = String::from_utf8(resp.into_body()).unwrap();
    assert!(body.contains(&format!("<script>{SCRIPT}</script>")));
}

#[test]
fn backend_health_is_shown_with_its_reason() {
    let html = page(&doc_with(route()));
    assert!(
        html.contains("<b>next</b> <code>http://next:3000</code> <span class=\"bad\">DOWN</span> <span class=\"m\">connect refused &lt;x&gt;</span>"),
        "{html}"
    );
    assert!(html.contains("<b>rust</b> <code>embedded</code> <span class=\"ok\">up</span>"));
}
