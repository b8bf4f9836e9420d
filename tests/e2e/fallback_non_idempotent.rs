//! `fallback_non_idempotent = true`, end to end: POST and PATCH on such a
//! route fall back to next when a remote rust fails (5xx head, timeout,
//! connect error; the body replayed); a POST on a route without the key
//! gets rust's own failure.

use crate::support::*;

/// A route on `path` whose rust side is `/differ/{rust_case}` (`fail`: always
/// 500; `hang`: past the 1 s read timeout); next answers `/differ/write` with
/// the length of the body it received, other paths with an echo.
fn route(id: &str, path: &str, rust_case: &str, extra: &str) -> String {
    format!(
        "[[route]]\nid = \"{id}\"\npath = \"{path}\"\nrust_path = \"/differ/{rust_case}\"\n\
         fallback = \"next\"\nfallback_budget = {{ ratio = 1.0, window = \"60s\" }}\n{extra}\n"
    )
}

const NON_IDEMPOTENT: &str = "fallback_non_idempotent = true";

const BODY: &str = r#"{"batchId":"b-1"}"#;

fn fallbacks(route: &str) -> String {
    format!("cutover_fallbacks_total{{result=\"taken\",route=\"{route}\"}}")
}

/// Sends `method` with `BODY` and expects next's answer, marked `why`;
/// returns next's JSON.
async fn falls_back(
    c: &Cutover,
    method: reqwest::Method,
    path: &str,
    why: &str,
) -> serde_json::Value {
    let r = reqwest::Client::new()
        .request(method.clone(), c.url(path))
        .header("content-type", "application/json")
        .body(BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{method}");
    assert_eq!(r.headers()["x-cutover-fallback"], why, "{method}");
    assert_eq!(r.headers()["x-cutover-backend"], "next", "{method}");
    r.json().await.unwrap()
}

/// Like `falls_back`, on `/differ/write`: next got the whole body again.
async fn falls_back_with_body(c: &Cutover, method: reqwest::Method, why: &str) {
    let v = falls_back(c, method.clone(), "/differ/write", why).await;
    assert_eq!(v["len"], BODY.len(), "{method}: next got the whole body");
}

/// Rust answers 500 or hangs: POST and PATCH on the keyed routes are retried
/// on next; the same POST on a route without the key gets rust's 500, not
/// retried.
#[tokio::test(flavor = "multi_thread")]
async fn post_falls_back_on_a_rust_5xx_or_timeout_only_with_fallback_non_idempotent() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let routes = [
        route("keyed", "/differ/write", "fail", NON_IDEMPOTENT),
        route("keyed-hang", "/keyed/hang", "hang", NON_IDEMPOTENT),
        route("unkeyed", "/unkeyed/write", "fail", ""),
    ]
    .concat();
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", &routes));
    for id in ["keyed", "keyed-hang", "unkeyed"] {
        cfg.write_flag(id, "backend = \"rust\"\n");
    }
    let c = Cutover::start(&cfg);

    falls_back_with_body(&c, reqwest::Method::POST, "status").await;
    falls_back_with_body(&c, reqwest::Method::PATCH, "status").await;
    assert_eq!(c.metric(&fallbacks("keyed")).await, 2.0);
    let v = falls_back(&c, reqwest::Method::POST, "/keyed/hang", "timeout").await;
    assert_eq!(v["method"], "POST");
    assert_eq!(c.metric(&fallbacks("keyed-hang")).await, 1.0);

    let r = reqwest::Client::new()
        .post(c.url("/unkeyed/write"))
        .header("content-type", "application/json")
        .body(BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert!(r.headers().get("x-cutover-fallback").is_none());
    assert_eq!(r.headers()["x-cutover-backend"], "rust");
    assert_eq!(r.text().await.unwrap(), r#"{"error":"boom"}"#);
    assert_eq!(c.metric(&fallbacks("unkeyed")).await, 0.0);
}

/// Rust refuses connections: a POST on the keyed route goes to next, body
/// and all; on a route without the key it gets a 502.
#[tokio::test(flavor = "multi_thread")]
async fn post_falls_back_on_a_rust_connect_error_only_with_fallback_non_idempotent() {
    let next = Upstream::start("next").await;
    let routes = [
        route("keyed", "/differ/write", "fail", NON_IDEMPOTENT),
        route("unkeyed", "/unkeyed/write", "fail", ""),
    ]
    .concat();
    let cfg = ConfigDir::new(&routes_toml(&next.url(), "http://127.0.0.1:1", "", &routes));
    cfg.write_flag("keyed", "backend = \"rust\"\n");
    cfg.write_flag("unkeyed", "backend = \"rust\"\n");
    let c = Cutover::start(&cfg);

    falls_back_with_body(&c, reqwest::Method::POST, "connect").await;
    let r = reqwest::Client::new()
        .post(c.url("/unkeyed/write"))
        .body(BODY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    assert!(r.headers().get("x-cutover-fallback").is_none());
    assert_eq!(c.metric(&fallbacks("unkeyed")).await, 0.0);
}
