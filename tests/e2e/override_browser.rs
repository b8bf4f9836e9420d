//! A tester's browser with an override cookie sees rust on a route flagged
//! next while another browser stays on next; an expired and a tampered cookie
//! fall back to the flag (issue 16). Headless Chromium (Debian's
//! `/usr/bin/chromium`, driven by tests/browser/override.cjs).
//!
//! The backends behind cutover are stand-ins: next serves a small HTML page
//! that `fetch`es the flagged route, and each side answers that route with
//! its own name. That is enough here because what is under test is cutover's
//! decision per browser, which the API call's `x-cutover-backend` shows.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use axum::Router;
use axum::response::Html;
use axum::routing::get;
use cutover::flags::Side;

use super::overrides::{KEY, OVERRIDE, signed, tampered, token, unix_now};
use crate::support::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const API: &str = "/api/probe";

const PAGE: &str = r#"<!doctype html><html><head><meta charset="utf-8"><title>probe</title>
<link rel="icon" href="data:,"></head><body><p>Answered by <span id="backend">…</span></p>
<script>
const el = document.getElementById('backend');
fetch('/api/probe', { credentials: 'same-origin' })
  .then((r) => r.json())
  .then((j) => { el.textContent = j.backend; })
  .catch((e) => { el.textContent = 'failed: ' + e; })
  .finally(() => { el.dataset.done = '1'; });
</script></body></html>"#;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// next: the page at `/`, and `{"backend":"next"}` everywhere else.
async fn next_with_page() -> (String, tokio::task::JoinHandle<()>) {
    let app = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .fallback(|| async { axum::Json(serde_json::json!({ "backend": "next" })) });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, task)
}

#[tokio::test(flavor = "multi_thread")]
async fn tester_browser_sees_rust_on_a_next_route_and_bad_cookies_fall_back_to_the_flag() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: apt-get install chromium (the browser tests drive Debian's Chromium)"
    );
    let driver = repo().join("tests/browser");
    assert!(
        driver.join("node_modules/playwright-core").exists(),
        "playwright-core is missing: cd tests/browser && npm ci"
    );
    let (next, _task) = next_with_page().await;
    let rust = Upstream::start("rust").await;
    let routes = format!("{OVERRIDE}\n[[route]]\nid = \"probe\"\npath = \"{API}\"\n");
    let cfg = ConfigDir::new(&routes_toml(&next, &rust.url(), "", &routes));
    cfg.write_flag("probe", "backend = \"next\"\n");
    let c = Cutover::start_with_env(&cfg, &[("CUTOVER_OVERRIDE_KEY", KEY)]);
    let good = token(&cfg.routes_path(), &["--route", "probe", "--side", "rust"]);
    let expired = signed(&["probe"], Side::Rust, unix_now() - 60);
    let forged = tampered(&signed(&["probe"], Side::Rust, unix_now() + 600));
    let artifacts = repo().join("target/browser-override");

    let run = tokio::process::Command::new("node")
        .arg(driver.join("override.cjs"))
        .env("BASE_URL", format!("http://{}", c.proxy))
        .env("API_PATH", API)
        .env("TOKEN", &good)
        .env("EXPIRED", &expired)
        .env("TAMPERED", &forged)
        .env("COOKIE", "cutover_override")
        .env("ARTIFACTS", &artifacts)
        .env("CHROMIUM", CHROMIUM)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs tests/browser/override.cjs");
    let out = tokio::time::timeout(Duration::from_secs(120), run.wait_with_output())
        .await
        .expect("the browser script finished within 2 minutes")
        .expect("wait for node");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");

    let landing = &v["tester"]["landing"];
    assert_eq!(landing["status"], 200, "{v}");
    assert!(
        landing["text"]
            .as_str()
            .unwrap()
            .contains("route probe go to rust"),
        "{v}"
    );
    let cookie = &v["tester"]["cookies"][0];
    assert_eq!(cookie["name"], "cutover_override", "{v}");
    assert_eq!(cookie["httpOnly"], true, "{v}");
    for (who, side) in [
        ("tester", "rust"),
        ("other", "next"),
        ("expired", "next"),
        ("tampered", "next"),
    ] {
        let ctx = &v[who];
        assert_eq!(
            ctx["api"],
            serde_json::json!([{ "status": 200, "backend": side }]),
            "{who}: {v}"
        );
        assert_eq!(ctx["shown"], side, "{who}: {v}");
        assert_eq!(ctx["errors"], serde_json::json!([]), "{who}: {v}");
    }
    let m = c.metrics().await;
    for reason in ["expired", "bad_signature"] {
        let series = format!("cutover_override_rejected_total{{reason=\"{reason}\"}}");
        assert!(metric_value(&m, &series) >= 1.0, "{series}\n{m}");
    }
    assert!(!c.log().contains(&good), "the token is in cutover's log");
}
