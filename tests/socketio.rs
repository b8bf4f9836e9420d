//! Socket.IO through cutover: a real `socket.io` 4 server (tests/socketio,
//! npm) is the `next` backend at `/socket.io/*` and the real
//! `socket.io-client` connects through cutover's port. No route claims
//! `/socket.io/`: cutover classifies Engine.IO polling GETs as long-polls (no
//! read timeout) and the upgrade as a WebSocket.
//!
//! The server's heartbeat is 2 s (pingInterval) and cutover's next
//! `read_timeout_ms` is 1000 (the harness's), so every held long-poll outlasts
//! the read timeout: were it applied, the poll would be cut with a 504 and the
//! polling-only client would drop.

#[path = "e2e/support.rs"]
#[allow(dead_code)]
mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;

use serde_json::Value;
use support::{ConfigDir, Cutover, Upstream, routes_toml};

const TOKEN: &str = "sio-handshake-token-7f3a";
const PING_INTERVAL_MS: u64 = 2000;
/// `read_timeout_ms` of next in [`routes_toml`].
const READ_TIMEOUT_MS: f64 = 1000.0;

static NPM_CI: Mutex<bool> = Mutex::new(false);

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/socketio")
}

/// `npm ci` in tests/socketio once, when its node_modules are missing.
fn ensure_node_modules() {
    let mut done = NPM_CI.lock().unwrap_or_else(|p| p.into_inner());
    if *done {
        return;
    }
    let dir = fixture_dir();
    if !dir.join("node_modules/.package-lock.json").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm must be installed (apt-get install nodejs npm)");
        assert!(status.success(), "npm ci in tests/socketio failed");
    }
    *done = true;
}

/// The Socket.IO server on port 0, killed on drop.
struct SocketIoServer {
    child: Child,
    port: u16,
}

impl SocketIoServer {
    fn start() -> SocketIoServer {
        ensure_node_modules();
        let mut child = Command::new("node")
            .arg("server.cjs")
            .current_dir(fixture_dir())
            .env("SIO_TOKEN", TOKEN)
            .env("SIO_PING_INTERVAL_MS", PING_INTERVAL_MS.to_string())
            .env("SIO_PING_TIMEOUT_MS", "2000")
            .stdout(Stdio::piped())
            .spawn()
            .expect("node must be installed (apt-get install nodejs)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|v| v["port"].as_u64())
            .unwrap_or_else(|| panic!("server.cjs printed {line:?}, not {{\"port\":N}}"));
        SocketIoServer {
            child,
            port: u16::try_from(port).unwrap(),
        }
    }
}

impl Drop for SocketIoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The server as next, a stand-in rust, cutover in front (JSON logs).
async fn start() -> (SocketIoServer, Upstream, ConfigDir, Cutover) {
    let sio = SocketIoServer::start();
    let rust = Upstream::start("rust").await;
    let next = format!("http://127.0.0.1:{}", sio.port);
    let cfg = ConfigDir::new(&routes_toml(&next, &rust.url(), "", ""));
    let cutover = Cutover::start_with_env(&cfg, &[("CUTOVER_LOG_FORMAT", "json")]);
    (sio, rust, cfg, cutover)
}

/// Runs client.cjs through cutover; its JSON lines and whether it exited 0.
async fn client(cutover: &Cutover, scenario: &str, token: &str) -> (Vec<Value>, bool) {
    let base = cutover.url("");
    let out = tokio::process::Command::new("node")
        .args(["client.cjs", scenario, &base, token, "3"])
        .current_dir(fixture_dir())
        .output()
        .await
        .unwrap();
    let events = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    (events, out.status.success())
}

fn find<'a>(events: &'a [Value], event: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == event).collect()
}

/// cutover's access lines for `/socket.io/`.
fn access_lines(cutover: &Cutover) -> Vec<Value> {
    cutover
        .log()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["target"] == "cutover::access")
        .filter(|l| {
            l["path"]
                .as_str()
                .is_some_and(|p| p.starts_with("/socket.io/"))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn polling_handshake_upgrades_to_websocket_and_acks_flow_both_ways() {
    let (_sio, _rust, _cfg, cutover) = start().await;
    let (events, ok) = client(&cutover, "upgrade", TOKEN).await;
    assert!(ok, "{events:#?}");
    assert_eq!(
        find(&events, "connect")[0]["opened"],
        "polling",
        "{events:#?}"
    );
    assert_eq!(find(&events, "upgrade")[0]["transport"], "websocket");
    let ack = find(&events, "ack")[0];
    assert_eq!(
        (&ack["echo"], &ack["transport"]),
        (&"hello over websocket".into(), &"websocket".into()),
        "{events:#?}"
    );
    assert_eq!(find(&events, "question")[0]["text"], "ready?");
    assert_eq!(find(&events, "answer-received")[0]["answer"], "yes: ready?");
    assert_eq!(find(&events, "done")[0]["connected"], true);
    // It all went through cutover, to next, unclaimed: the handshake poll and the upgrade.
    let lines = support::eventually(std::time::Duration::from_secs(5), || async {
        let lines = access_lines(&cutover);
        lines.iter().any(|l| l["status"] == 101).then_some(lines)
    })
    .await
    .expect("no access line for the WebSocket upgrade");
    for l in &lines {
        assert_eq!(
            (&l["route"], &l["backend"]),
            (&"(unmatched)".into(), &"next".into())
        );
    }
    assert!(
        lines.iter().any(|l| l["status"] == 200
            && l["method"] == "GET"
            && l["path"].as_str().unwrap().contains("transport=polling")),
        "{lines:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn polling_only_client_outlives_the_read_timeout_across_heartbeats() {
    let (_sio, _rust, _cfg, cutover) = start().await;
    let (events, ok) = client(&cutover, "polling", TOKEN).await;
    assert!(ok, "{events:#?}");
    let pings = find(&events, "ping");
    assert_eq!(pings.len(), 3, "{events:#?}");
    assert!(pings.iter().all(|p| p["transport"] == "polling"));
    // Connected throughout: the only disconnect is the client's own, at the end.
    let disconnects = find(&events, "disconnect");
    assert!(
        disconnects
            .iter()
            .all(|d| d["reason"] == "io client disconnect"),
        "{events:#?}"
    );
    let ack = find(&events, "ack")[0];
    assert_eq!(ack["transport"], "polling", "{events:#?}");
    assert_eq!(find(&events, "answer-received")[0]["answer"], "yes: ready?");
    // The held polls really were longer than the read timeout, and none was
    // cut (access lines go out in batches: wait for the last ones).
    let is_held =
        |l: &&Value| l["method"] == "GET" && l["duration_ms"].as_f64().unwrap() > READ_TIMEOUT_MS;
    let lines = support::eventually(std::time::Duration::from_secs(5), || async {
        let lines = access_lines(&cutover);
        (lines.iter().filter(is_held).count() >= 2).then_some(lines)
    })
    .await
    .unwrap_or_else(|| access_lines(&cutover));
    let held: Vec<&Value> = lines.iter().filter(is_held).collect();
    assert!(
        held.len() >= 2,
        "no long-poll held past the read timeout: {lines:#?}"
    );
    assert!(held.iter().all(|l| l["status"] == 200), "{held:#?}");
    // (The poll pending when the client exits may end without a status.)
    assert!(
        lines
            .iter()
            .all(|l| l["status"].as_u64().is_some_and(|s| s < 500)),
        "a poll was cut: {lines:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_handshake_token_is_refused_with_connect_error() {
    let (_sio, _rust, _cfg, cutover) = start().await;
    let (events, ok) = client(&cutover, "badtoken", "not-the-token").await;
    assert!(ok, "{events:#?}");
    let refused = find(&events, "connect_error");
    assert_eq!(refused.len(), 1, "{events:#?}");
    assert_eq!(refused[0]["message"], "unauthorized");
    assert_eq!(refused[0]["data"]["reason"], "bad_token");
    assert!(find(&events, "connect").is_empty(), "{events:#?}");
}
