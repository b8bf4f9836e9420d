//! Retry-storm caps with real clients: 20 real pusher-js 8 clients (one node
//! process, `tests/realtime/storm.cjs`) on a real Soketi, whose private
//! channel authorization goes through the real cutover binary to a signing
//! backend in this test (real Pusher signatures, Soketi checks them).
//!
//! 1. Every client subscribes (`pusher:subscription_succeeded`).
//! 2. The backend starts failing (500) and the clients storm: for 5 s each
//!    one drops its socket and reconnects every 500 ms — pusher-js
//!    re-authorizes its private channel on every reconnect — and, like a
//!    naive app, asks again 100 ms after every failed authorization.
//!    cutover answers every call (no network error; 429/503 carry
//!    `Retry-After`), its breaker opens, and the backend sees at most the
//!    bound below while the clients send many times more.
//! 3. The backend recovers; once the breaker's cooldown has passed (the
//!    gauge says half-open), every client reconnects and subscribes again.
//!
//! The bound on backend calls during the failing period, and why
//! (`cap = { per_client = "5/10s", burst = 2, per_channel = "3/10s",
//! collapse = true, cache_ttl_ms = 2000, max_inflight = 4,
//! breaker = { error_ratio = 0.5, min_requests = 5, window = "10s",
//! cooldown = "5s" } }`):
//! - closed: the breaker opens on the outcome that makes failures ≥ 50 % of
//!   at least 5 outcomes in the 10 s window. The window holds at most `S`
//!   successes (every backend call of step 1), so at most `max(S, 5)`
//!   failures are recorded before it opens, and at most `max_inflight − 1`
//!   more calls were already admitted and still in flight then;
//! - open: no backend call at all for the 5 s cooldown (503 + Retry-After);
//! - half-open: one probe (`probes = 1`); it fails and reopens the breaker.
//!   Over a failing period of `D` seconds there are at most `⌊D / 5⌋ + 1`.
//!
//! So the backend sees ≤ `max(S, 5) + 3 + ⌊D / 5⌋ + 1` calls: 25 for S = 20
//! and a failing period of 5 s ≤ D < 10 s (D = the 5 s storm plus its
//! drain), against well over 100 auth calls from the clients (about 1,300
//! on an idle machine). The per-client caps (keyed by `socket_id` here: no
//! login on this route, and every reconnect gets a new socket) refuse a
//! client's retries beyond its burst of 2 with 429 before they reach the
//! breaker; the bound does not count on them, the test only checks that
//! they fired (`reason="client_rate"`).

#[path = "support/soketi.rs"]
mod soketi;
#[path = "e2e/support.rs"]
#[allow(dead_code)]
mod support;

use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use soketi::Soketi;
use support::{ConfigDir, Cutover, eventually, routes_toml};

const APP_ID: &str = "storm-app";
const KEY: &str = "storm-key";
const SECRET: &str = "storm-secret";
const CLIENTS: usize = 20;
const MIN_REQUESTS: u64 = 5;
const MAX_INFLIGHT: u64 = 4;
const COOLDOWN: Duration = Duration::from_secs(5);
const STORM_MS: u64 = 5_000;
const RECONNECT_EVERY_MS: u64 = 500;
const RETRY_MS: u64 = 100;

const ROUTE: &str = r#"
[[route]]
id = "realtime-auth"
path = "/api/chat/realtime/auth"
methods = ["POST"]
cap = { per_client = "5/10s", burst = 2, per_channel = "3/10s", collapse = true, cache_ttl_ms = 2000, max_inflight = 4, breaker = { error_ratio = 0.5, min_requests = 5, window = "10s", cooldown = "5s" } }
"#;

/// The auth backend behind cutover: signs real Pusher channel
/// authorizations, or answers 500 while `failing`; counts every call.
#[derive(Clone, Default)]
struct Signer {
    failing: Arc<AtomicBool>,
    calls: Arc<AtomicU64>,
}

async fn sign(State(s): State<Signer>, body: String) -> Response {
    s.calls.fetch_add(1, Ordering::SeqCst);
    if s.failing.load(Ordering::SeqCst) {
        return (StatusCode::INTERNAL_SERVER_ERROR, r#"{"error":"down"}"#).into_response();
    }
    let form: std::collections::HashMap<String, String> =
        serde_urlencoded::from_str(&body).unwrap_or_default();
    let (Some(socket), Some(channel)) = (form.get("socket_id"), form.get("channel_name")) else {
        return (StatusCode::BAD_REQUEST, r#"{"error":"form"}"#).into_response();
    };
    let sig = cutover::handlers::pusher::sign(SECRET, &format!("{socket}:{channel}"));
    let body = serde_json::json!({ "auth": format!("{KEY}:{sig}") });
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn start_signer() -> (Signer, String) {
    let signer = Signer::default();
    let app = axum::Router::new()
        .route("/api/chat/realtime/auth", axum::routing::post(sign))
        .with_state(signer.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (signer, url)
}

/// The node process holding the pusher-js clients; killed on drop.
struct Clients {
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    _child: Child,
}

impl Clients {
    fn start(soketi_port: u16, auth_url: &str) -> Clients {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/realtime");
        let mut child = Command::new("node")
            .arg("storm.cjs")
            .current_dir(dir)
            .env("SOKETI_PORT", soketi_port.to_string())
            .env("PUSHER_KEY", KEY)
            .env("AUTH_URL", auth_url)
            .env("CLIENTS", CLIENTS.to_string())
            .env("RETRY_MS", RETRY_MS.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs tests/realtime/storm.cjs");
        Clients {
            stdin: child.stdin.take().unwrap(),
            lines: BufReader::new(child.stdout.take().unwrap()).lines(),
            _child: child,
        }
    }

    async fn send(&mut self, command: &str) {
        self.stdin
            .write_all(format!("{command}\n").as_bytes())
            .await
            .unwrap();
        self.stdin.flush().await.unwrap();
    }

    /// The next report, which must be `phase`.
    async fn report(&mut self, phase: &str) -> Value {
        let line = tokio::time::timeout(Duration::from_secs(30), self.lines.next_line())
            .await
            .expect("storm.cjs reports within 30 s")
            .unwrap()
            .expect("storm.cjs is still running");
        let v: Value = serde_json::from_str(&line).expect("storm.cjs prints JSON lines");
        assert_eq!(v["phase"], phase, "{v}");
        v
    }
}

/// A sample of `family` whose labels include every one of `labels`.
fn sample(metrics: &str, family: &str, labels: &[&str]) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(&format!("{family}{{")))
        .find(|l| labels.iter().all(|want| l.contains(want)))
        .and_then(|l| l.rsplit(' ').next())
        .map_or(0.0, |v| v.parse().unwrap())
}

fn count(report: &Value, key: &str) -> u64 {
    report[key].as_u64().unwrap_or(0)
}

fn status(report: &Value, code: u16) -> u64 {
    report["status"][code.to_string()].as_u64().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pusher_js_reconnect_storm_against_a_failing_auth_backend_is_capped_then_recovers() {
    let started = Instant::now();
    let soketi = Soketi::start(APP_ID, KEY, SECRET).await;
    let (signer, signer_url) = start_signer().await;
    let cfg = ConfigDir::new(&routes_toml(&signer_url, &signer_url, "", ROUTE));
    let cutover = Cutover::start(&cfg);
    let mut clients = Clients::start(soketi.port, &cutover.url("/api/chat/realtime/auth"));

    // 1. Every client subscribes with an authorization signed behind cutover.
    let up = clients.report("subscribed").await;
    eprintln!("subscribed: {up}");
    assert_eq!(count(&up, "ok"), CLIENTS as u64, "{up}\n{}", cutover.log());
    assert_eq!(count(&up, "network_errors"), 0, "{up}");
    let successes = signer.calls.load(Ordering::SeqCst);

    // 2. The backend fails; the clients storm.
    signer.failing.store(true, Ordering::SeqCst);
    let failing_since = Instant::now();
    let calls_before = signer.calls.load(Ordering::SeqCst);
    clients
        .send(&format!("storm {STORM_MS} {RECONNECT_EVERY_MS}"))
        .await;
    let storm = clients.report("storm").await;
    let failing_for = failing_since.elapsed();
    let backend_calls = signer.calls.load(Ordering::SeqCst) - calls_before;
    let half_opens = (failing_for.as_secs_f64() / COOLDOWN.as_secs_f64()).floor() as u64 + 1;
    let bound = successes.max(MIN_REQUESTS) + (MAX_INFLIGHT - 1) + half_opens;
    let metrics = cutover.metrics().await;
    let by_breaker = sample(
        &metrics,
        "cutover_cap_rejections_total",
        &[r#"reason="breaker""#],
    );
    let by_client = sample(
        &metrics,
        "cutover_cap_rejections_total",
        &[r#"reason="client_rate""#],
    );
    eprintln!(
        "storm: {storm}; backend calls {backend_calls} (bound {bound}, S = {successes}, \
         failing for {failing_for:?}); rejections: breaker {by_breaker}, client_rate {by_client}"
    );
    let attempts = count(&storm, "attempts");
    assert_eq!(
        count(&storm, "network_errors"),
        0,
        "cutover answered every call: {storm}"
    );
    assert_eq!(
        count(&storm, "no_retry_after"),
        0,
        "429/503 carry Retry-After: {storm}"
    );
    let answered = status(&storm, 500) + status(&storm, 503) + status(&storm, 429);
    assert_eq!(answered, attempts, "only 500 (backend), 503, 429: {storm}");
    assert!(
        status(&storm, 503) > 0,
        "the breaker refused calls: {storm}"
    );
    assert!(
        backend_calls <= bound,
        "backend saw {backend_calls} auth calls during the storm, bound {bound}: {storm}"
    );
    assert!(
        attempts >= 4 * bound,
        "the clients stormed ({attempts} attempts) far above the bound {bound}"
    );
    assert!(
        by_breaker > 0.0,
        "breaker rejections in /metrics:\n{metrics}"
    );
    assert!(
        by_client > 0.0,
        "per-client rejections in /metrics:\n{metrics}"
    );

    // 3. The backend recovers; after the cooldown every client subscribes again.
    signer.failing.store(false, Ordering::SeqCst);
    let half_open = eventually(COOLDOWN + Duration::from_secs(3), || async {
        let m = cutover.metrics().await;
        (sample(&m, "cutover_breaker_state", &[r#"route="realtime-auth""#]) == 2.0).then_some(())
    })
    .await;
    assert!(half_open.is_some(), "breaker half-open after its cooldown");
    clients.send("recover 15000").await;
    let back = clients.report("recovered").await;
    eprintln!("recovered: {back}; whole test {:?}", started.elapsed());
    assert_eq!(
        count(&back, "ok"),
        CLIENTS as u64,
        "{back}\n{}",
        cutover.log()
    );
    assert_eq!(count(&back, "network_errors"), 0, "{back}");
    let closed = sample(
        &cutover.metrics().await,
        "cutover_breaker_state",
        &[r#"route="realtime-auth""#],
    );
    assert_eq!(closed, 0.0, "breaker closed again");
}
