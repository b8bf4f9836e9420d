//! Test harness: the real `cutover` binary on port 0 in front of real HTTP
//! upstreams (axum servers on port 0) standing in for next and rust.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use futures::StreamExt;

/// One stand-in backend. Every answer says which backend it came from.
pub struct Upstream {
    pub addr: SocketAddr,
    pub hits: Arc<AtomicU64>,
    /// Calls to the Pusher-style auth endpoint.
    pub auth_hits: Arc<AtomicU64>,
    /// Requests that carried `x-cutover-shadow: 1`.
    pub shadow_hits: Arc<AtomicU64>,
    _task: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct UpState {
    name: &'static str,
    hits: Arc<AtomicU64>,
    auth_hits: Arc<AtomicU64>,
    shadow_hits: Arc<AtomicU64>,
    sse_gate: Arc<tokio::sync::Notify>,
}

impl Upstream {
    pub async fn start(name: &'static str) -> Upstream {
        Self::start_with_gate(name, Arc::new(tokio::sync::Notify::new())).await
    }

    /// `sse_gate`: `/sse` sends its first event, then waits for the gate.
    pub async fn start_with_gate(
        name: &'static str,
        sse_gate: Arc<tokio::sync::Notify>,
    ) -> Upstream {
        let hits = Arc::new(AtomicU64::new(0));
        let auth_hits = Arc::new(AtomicU64::new(0));
        let shadow_hits = Arc::new(AtomicU64::new(0));
        let state = UpState {
            name,
            hits: hits.clone(),
            auth_hits: auth_hits.clone(),
            shadow_hits: shadow_hits.clone(),
            sse_gate,
        };
        let app = Router::new()
            .route("/sse", get(sse))
            .route("/ticks", get(ticks))
            .route("/quiet", get(quiet))
            .route("/ws", get(ws))
            .route("/download/{bytes}", get(download))
            .route("/upload", post(upload))
            .route("/slow/{ms}", get(slow))
            .route("/cookies", get(cookies))
            .route("/api/chat/realtime/auth", post(channel_auth))
            .route("/differ/{case}", any(differ))
            .fallback(any(echo))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Upstream {
            addr,
            hits,
            auth_hits,
            shadow_hits,
            _task: task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// JSON describing the request as the backend saw it.
async fn echo(State(s): State<UpState>, req: Request) -> Response {
    s.hits.fetch_add(1, Ordering::Relaxed);
    let headers: serde_json::Map<String, serde_json::Value> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                serde_json::Value::from(v.to_str().unwrap_or("")),
            )
        })
        .collect();
    let body = serde_json::json!({
        "backend": s.name,
        "method": req.method().as_str(),
        "uri": req.uri().to_string(),
        "headers": headers,
    });
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// A Pusher-style channel authorization: deterministic for the same inputs.
async fn channel_auth(State(s): State<UpState>, body: String) -> Response {
    s.auth_hits.fetch_add(1, Ordering::Relaxed);
    let form: std::collections::HashMap<String, String> =
        serde_urlencoded::from_str(&body).unwrap_or_default();
    let sig = format!(
        "{}:{}",
        form.get("socket_id").map_or("", String::as_str),
        form.get("channel_name").map_or("", String::as_str)
    );
    let body = serde_json::json!({ "auth": format!("app-key:{sig}"), "backend": s.name });
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Answers that differ between "next" and "rust" on purpose, by case:
/// `same`, `field` (a changed field), `random` (a random id on every call),
/// `flaky` (rust: 500 on every other request), `rare` (rust: 500 on 1 % of
/// requests, every 100th), `auth` (rust: 401), `slow`
/// (rust: 400 ms late), `hang` (rust: 3 s late, past its read timeout),
/// `fail` (rust: always 500), `write` (counts
/// `x-cutover-shadow: 1`, answers with the body length).
async fn differ(
    State(s): State<UpState>,
    axum::extract::Path(case): axum::extract::Path<String>,
    headers: HeaderMap,
    body: bytes::Bytes,
) -> Response {
    let rust = s.name == "rust";
    let n = s.hits.fetch_add(1, Ordering::Relaxed);
    let json = |status: u16, v: serde_json::Value| {
        (
            StatusCode::from_u16(status).unwrap(),
            [("content-type", "application/json")],
            v.to_string(),
        )
            .into_response()
    };
    match case.as_str() {
        "same" => json(200, serde_json::json!({"ok": true, "items": [1, 2]})),
        "field" => json(
            200,
            serde_json::json!({"greeting": if rust { "hi" } else { "hello" }, "n": 1}),
        ),
        "random" => json(
            200,
            serde_json::json!({"id": rand::random::<u64>(), "v": 1}),
        ),
        "flaky" if rust && n % 2 == 0 => json(500, serde_json::json!({"error": "boom"})),
        "rare" if rust && n % 100 == 99 => json(500, serde_json::json!({"error": "boom"})),
        "auth" if rust => json(401, serde_json::json!({"error": "unauthorized"})),
        "fail" if rust => json(500, serde_json::json!({"error": "boom"})),
        "slow" => {
            if rust {
                tokio::time::sleep(Duration::from_millis(400)).await;
            }
            json(200, serde_json::json!({"ok": true}))
        }
        "hang" => {
            if rust {
                tokio::time::sleep(Duration::from_secs(3)).await;
            }
            json(200, serde_json::json!({"ok": true, "from": s.name}))
        }
        "write" => {
            if headers.get("x-cutover-shadow").is_some_and(|v| v == "1") {
                s.shadow_hits.fetch_add(1, Ordering::Relaxed);
            }
            json(200, serde_json::json!({"ok": true, "len": body.len()}))
        }
        _ => json(200, serde_json::json!({"ok": true})),
    }
}

async fn sse(State(s): State<UpState>) -> Response {
    let gate = s.sse_gate.clone();
    let stream = async_stream(gate);
    Response::builder()
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache")
        .body(Body::from_stream(stream))
        .unwrap()
}

fn async_stream(
    gate: Arc<tokio::sync::Notify>,
) -> impl futures::Stream<Item = Result<bytes::Bytes, std::io::Error>> + Send {
    futures::stream::unfold(0u8, move |step| {
        let gate = gate.clone();
        async move {
            match step {
                0 => Some((Ok(bytes::Bytes::from_static(b"data: first\n\n")), 1)),
                1 => {
                    gate.notified().await;
                    Some((Ok(bytes::Bytes::from_static(b"data: second\n\n")), 2))
                }
                _ => None,
            }
        }
    })
}

/// Numbered SSE events every 100 ms, forever; each event is written in two
/// chunks (an event boundary is never a chunk boundary by accident).
async fn ticks(State(s): State<UpState>) -> Response {
    let name = s.name;
    let stream = futures::stream::unfold(0u64, move |n| async move {
        if n % 2 == 1 {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let text = match n % 2 {
            0 => format!("id: {}\nevent: tick\n", n / 2),
            _ => format!("data: {{\"n\":{},\"side\":\"{name}\"}}\n\n", n / 2),
        };
        Some((Ok::<_, std::io::Error>(bytes::Bytes::from(text)), n + 1))
    });
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(stream))
        .unwrap()
}

/// One SSE event, then silence: no heartbeat, no further byte.
async fn quiet(State(s): State<UpState>) -> Response {
    let first = format!(
        "id: 0\nevent: tick\ndata: {{\"n\":0,\"side\":\"{}\"}}\n\n",
        s.name
    );
    let once = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(first))]);
    Response::builder()
        .header("content-type", "text/event-stream")
        .body(Body::from_stream(once.chain(futures::stream::pending())))
        .unwrap()
}

async fn ws(State(s): State<UpState>, up: WebSocketUpgrade) -> Response {
    let name = s.name;
    up.on_upgrade(move |mut socket| async move {
        while let Some(Ok(msg)) = socket.recv().await {
            if let Message::Text(t) = msg {
                let reply = format!("{name}:{}", t.as_str());
                if socket.send(Message::Text(reply.into())).await.is_err() {
                    break;
                }
            }
        }
    })
}

async fn download(axum::extract::Path(bytes): axum::extract::Path<u64>) -> Response {
    const CHUNK: usize = 64 * 1024;
    let chunk = bytes::Bytes::from(vec![b'x'; CHUNK]);
    let n = bytes / CHUNK as u64;
    let stream = futures::stream::iter((0..n).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    Response::builder()
        .header("content-length", (n * CHUNK as u64).to_string())
        .body(Body::from_stream(stream))
        .unwrap()
}

async fn upload(body: Body) -> Response {
    let mut total = 0u64;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => total += c.len() as u64,
            Err(_) => return StatusCode::BAD_REQUEST.into_response(),
        }
    }
    total.to_string().into_response()
}

async fn slow(axum::extract::Path(ms): axum::extract::Path<u64>) -> Response {
    tokio::time::sleep(Duration::from_millis(ms)).await;
    "slow done".into_response()
}

async fn cookies(headers: HeaderMap) -> Response {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("")
        .to_string();
    Response::builder()
        .header("set-cookie", "a=1; Path=/")
        .header("set-cookie", "b=2; Path=/; HttpOnly")
        .header("x-seen-host", host)
        .body(Body::from("ok"))
        .unwrap()
}

/// A config directory in a tempdir.
pub struct ConfigDir {
    pub dir: tempfile::TempDir,
}

impl ConfigDir {
    pub fn new(routes: &str) -> ConfigDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("routes.toml"), routes).unwrap();
        std::fs::create_dir(dir.path().join("flags")).unwrap();
        ConfigDir { dir }
    }

    pub fn routes_path(&self) -> PathBuf {
        self.dir.path().join("routes.toml")
    }

    pub fn flags(&self) -> PathBuf {
        self.dir.path().join("flags")
    }

    /// Write a flag file the way an editor does: temp file + rename.
    pub fn write_flag(&self, route: &str, text: &str) {
        let tmp = self.flags().join(format!(".{route}.swp"));
        std::fs::write(&tmp, text).unwrap();
        std::fs::rename(&tmp, self.flags().join(format!("{route}.toml"))).unwrap();
    }
}

/// routes.toml for tests: next and rust as upstream URLs, port 0 listeners.
pub fn routes_toml(next: &str, rust: &str, extra_server: &str, routes: &str) -> String {
    format!(
        r#"
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"
threads = 2
grace_period_seconds = 3
graceful_shutdown_timeout_seconds = 1
reload_interval_ms = 50
{extra_server}

[backends.next]
url = "{next}"
connect_timeout_ms = 500
read_timeout_ms = 1000

[backends.rust]
url = "{rust}"
connect_timeout_ms = 500
read_timeout_ms = 1000

{routes}
"#
    )
}

/// `routes_toml` for a test that opens hundreds of connections at once on a
/// loaded 2-core machine (the test binary runs the others beside it): connect
/// and read timeouts long enough that a slow stand-in is not an
/// `upstream_timeout`, where timeouts are not what the test is about.
pub fn with_patient_timeouts(toml: String) -> String {
    toml.replace("connect_timeout_ms = 500", "connect_timeout_ms = 5000")
        .replace("read_timeout_ms = 1000", "read_timeout_ms = 20000")
}

/// The real cutover binary, killed on drop.
pub struct Cutover {
    pub child: Child,
    pub proxy: SocketAddr,
    pub admin: SocketAddr,
    pub stderr_path: PathBuf,
}

impl Cutover {
    pub fn start(cfg: &ConfigDir) -> Cutover {
        Self::start_with_env(cfg, &[])
    }

    pub fn start_with_env(cfg: &ConfigDir, env: &[(&str, &str)]) -> Cutover {
        Self::spawn(&cfg.routes_path(), env, &[], "cutover.log")
    }

    /// `cutover serve --upgrade` on the same config: blocks (until it has the
    /// listening sockets) only once the running one gets `SIGQUIT`, so call it
    /// from a blocking thread.
    pub fn start_upgrade(routes: &Path) -> Cutover {
        Self::spawn(routes, &[], &["--upgrade"], "cutover-upgraded.log")
    }

    fn spawn(routes: &Path, env: &[(&str, &str)], extra: &[&str], log: &str) -> Cutover {
        let dir = routes.parent().unwrap();
        let stderr_path = dir.join(log);
        let stderr = std::fs::File::create(&stderr_path).unwrap();
        let sock = dir.join("upgrade.sock");
        let pid = dir.join("cutover.pid");
        // Per-instance upgrade socket and pid file (Pingora defaults are fixed /tmp paths).
        let text = std::fs::read_to_string(routes).unwrap();
        if !text.contains("upgrade_sock") {
            let text = text.replacen(
                "[server]\n",
                &format!(
                    "[server]\nupgrade_sock = \"{}\"\npid_file = \"{}\"\n",
                    sock.display(),
                    pid.display()
                ),
                1,
            );
            std::fs::write(routes, text).unwrap();
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_cutover"))
            .arg("serve")
            .args(extra)
            .arg("--config")
            .arg(routes)
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let parse = |key: &str| -> SocketAddr {
            line.split_whitespace()
                .find_map(|w| w.strip_prefix(key))
                .unwrap_or_else(|| panic!("no {key} in {line:?}"))
                .parse()
                .unwrap()
        };
        let c = Cutover {
            proxy: parse("proxy="),
            admin: parse("admin="),
            child,
            stderr_path,
        };
        c.wait_ready();
        c
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(self.proxy).is_ok()
                && std::net::TcpStream::connect(self.admin).is_ok()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("cutover did not start listening");
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.proxy, path)
    }

    pub async fn metrics(&self) -> String {
        reqwest::get(format!("http://{}/metrics", self.admin))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Value of one sample line, e.g. `cutover_config_reloads_total{result="failure"}`.
    pub async fn metric(&self, series: &str) -> f64 {
        metric_value(&self.metrics().await, series)
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Peak resident memory of the process (VmHWM), in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        self.status_kib("VmHWM:")
    }

    /// Resident memory of the process now (VmRSS), in KiB.
    pub fn rss_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }

    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([format!("-{sig}"), self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig}");
    }
}

impl Drop for Cutover {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn metric_value(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .and_then(|rest| rest.strip_prefix(' '))
        })
        .map_or(0.0, |v| v.trim().parse().unwrap())
}

/// Poll `f` until it returns Some or the deadline passes.
pub async fn eventually<T, F, Fut>(within: Duration, mut f: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = f().await {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// `backend` field of an echo response.
pub async fn backend_of(client: &reqwest::Client, url: &str) -> Result<String, String> {
    let r = client.get(url).send().await.map_err(|e| e.to_string())?;
    if !r.status().is_success() {
        return Err(format!("status {}", r.status()));
    }
    let v: serde_json::Value = r.json().await.map_err(|e| e.to_string())?;
    Ok(v["backend"].as_str().unwrap_or("").to_string())
}

pub fn path_exists(p: &Path) -> bool {
    std::fs::symlink_metadata(p).is_ok()
}
