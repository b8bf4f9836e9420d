//! Query-token hygiene on an SSE route (`kind = "sse"`, `query_token = true`,
//! chatbot bearer tokens): `EventSource` cannot set `Authorization`, so the
//! token rides in `?token=`. It opens the stream, and then it is nowhere:
//! not in an access line, not in `/metrics`, not in Pingora's own error
//! lines, not in the request line either backend receives. A bad or expired
//! token is a JSON 401 before any backend is contacted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::mint;
use crate::support::*;

const ISS: &str = "tenant-chatbot";
const HS256: &str = "query-token-hs256-secret-0123456789abcdef";
const IDENTITY_KEY: &str = "e2e-identity-key-0123456789abcdef0123456789";

/// A backend that records every request head exactly as received (raw TCP)
/// and answers with an SSE stream: one event, then held open until the
/// peer closes. A path containing `/broken/` is dropped without an answer;
/// `/keepalive/` is answered `ok` on a reusable connection whose next
/// request is dropped (cutover retries it on a new one, and Pingora writes
/// its own "Fail to proxy … retry" line).
struct Recorder {
    addr: std::net::SocketAddr,
    heads: Arc<std::sync::Mutex<Vec<String>>>,
    connections: Arc<AtomicU64>,
    _task: tokio::task::JoinHandle<()>,
}

impl Recorder {
    async fn start() -> Recorder {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let heads = Arc::new(std::sync::Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicU64::new(0));
        let (h, c) = (heads.clone(), connections.clone());
        let task = tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                c.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(serve_one(sock, h.clone()));
            }
        });
        Recorder {
            addr,
            heads,
            connections,
            _task: task,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }

    fn request_lines(&self) -> Vec<String> {
        let heads = self.heads();
        heads
            .iter()
            .map(|h| h.lines().next().unwrap_or("").to_string())
            .collect()
    }
}

async fn serve_one(mut sock: tokio::net::TcpStream, heads: Arc<std::sync::Mutex<Vec<String>>>) {
    let mut chunk = [0u8; 4096];
    for nth in 0.. {
        let mut buf = Vec::new();
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 65536 {
            match sock.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let head = String::from_utf8_lossy(&buf).into_owned();
        let line = head.lines().next().unwrap_or("").to_string();
        heads.lock().unwrap().push(head);
        if line.contains("/broken/") || (line.contains("/keepalive/") && nth > 0) {
            return;
        }
        if line.contains("/keepalive/") {
            // Complete and reusable: cutover pools the connection.
            if sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                .await
                .is_err()
            {
                return;
            }
            continue;
        }
        let event = "data: hello\n\n";
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n\
             transfer-encoding: chunked\r\n\r\n{:x}\r\n{event}\r\n",
            event.len()
        );
        if sock.write_all(answer.as_bytes()).await.is_err() {
            return;
        }
        // Held open, as a stream is, until cutover closes it.
        while matches!(sock.read(&mut chunk).await, Ok(n) if n > 0) {}
        return;
    }
}

fn routes(next: &str, rust: &str) -> String {
    let routes = format!(
        r#"
[auth]
identity_key_env = "CUTOVER_IDENTITY_KEY"

[[auth.chatbot]]
name = "widget"
issuer = "{ISS}"
algorithms = ["HS256"]
hs256_secret_env = "CHATBOT_JWT_SECRET"
required_claims = ["sub"]
tenant_claim = "tenantId"
tenants = ["*"]

[[route]]
id = "chatbot-stream"
path = "/api/tenant-chatbot/conversations/{{conversationId}}/stream"
methods = ["GET"]
kind = "sse"
auth = "required"
schemes = ["chatbot"]
query_token = true

[[route]]
id = "chatbot-stream-rust"
path = "/api/widget/conversations/{{conversationId}}/stream"
rust_path = "/v2/conversations/{{conversationId}}/stream"
methods = ["GET"]
kind = "sse"
auth = "required"
schemes = ["chatbot"]
query_token = true

[[route]]
id = "keepalive"
path = "/api/keepalive/{{id}}"
methods = ["GET"]
auth = "required"
schemes = ["chatbot"]
query_token = true

[[route]]
id = "broken-stream"
path = "/api/broken/{{conversationId}}/stream"
methods = ["GET"]
kind = "sse"
auth = "required"
schemes = ["chatbot"]
query_token = true
"#
    );
    routes_toml(next, rust, "", &routes)
}

/// Chatbot tokens: valid, signed with another secret, expired 10 minutes ago.
fn tokens() -> (String, String, String) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let sign = |payload: serde_json::Value, key: &str| {
        json!({"kind": "jwt", "payload": payload, "key": key,
               "options": {"algorithm": "HS256", "issuer": ISS}})
    };
    let claims = json!({"sub": "visitor-1", "tenantId": "t1", "exp": now + 600});
    let expired =
        json!({"sub": "visitor-1", "tenantId": "t1", "iat": now - 1200, "exp": now - 600});
    let minted = mint::mint(json!([
        sign(claims.clone(), HS256),
        sign(claims, "some-other-secret-entirely-0123456789abcdef"),
        sign(expired, HS256),
    ]));
    (
        mint::token(&minted[0]),
        mint::token(&minted[1]),
        mint::token(&minted[2]),
    )
}

/// Both recording backends, the routes (the rust stream route flagged
/// `rust`) and cutover with the chatbot secret, the identity key and
/// `extra_env`.
async fn stack(
    extra_env: &[(&'static str, &'static str)],
) -> (Recorder, Recorder, ConfigDir, Cutover) {
    let next = Recorder::start().await;
    let rust = Recorder::start().await;
    let cfg = ConfigDir::new(&routes(&next.url(), &rust.url()));
    cfg.write_flag("chatbot-stream-rust", "backend = \"rust\"\n");
    let mut env = vec![
        ("CHATBOT_JWT_SECRET", HS256),
        ("CUTOVER_IDENTITY_KEY", IDENTITY_KEY),
    ];
    env.extend_from_slice(extra_env);
    let cutover = Cutover::start_with_env(&cfg, &env);
    (next, rust, cfg, cutover)
}

/// The token, and the parts of it that identify it (payload, signature).
fn leaked_in(text: &str, token: &str) -> bool {
    text.contains(token) || token.split('.').skip(1).any(|part| text.contains(part))
}

#[tokio::test(flavor = "multi_thread")]
async fn query_token_opens_the_stream_and_reaches_no_log_metric_or_backend() {
    let (next, rust, _cfg, cutover) = stack(&[("CUTOVER_LOG_FORMAT", "json")]).await;
    let (token, _, _) = tokens();
    let client = reqwest::Client::new();

    // The stream opens on each side; the first event arrives.
    for path in [
        "/api/tenant-chatbot/conversations/c-1/stream",
        "/api/widget/conversations/c-2/stream",
    ] {
        let mut r = client
            .get(cutover.url(&format!("{path}?lastEventId=4&token={token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], "text/event-stream");
        let first = tokio::time::timeout(Duration::from_secs(5), r.chunk())
            .await
            .expect("no event within 5 s")
            .unwrap()
            .unwrap();
        assert_eq!(&first[..], b"data: hello\n\n", "{path}");
    }
    // An upstream that drops the request: Pingora's error path, a 502.
    let r = client
        .get(cutover.url(&format!("/api/broken/c-3/stream?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    // A pooled connection the upstream drops: Pingora retries and warns.
    for _ in 0..2 {
        let r = client
            .get(cutover.url(&format!("/api/keepalive/k-1?token={token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.unwrap(), "ok");
    }

    // Each backend got the request line without the token; the rest of the query kept.
    assert_eq!(
        next.request_lines(),
        [
            "GET /api/tenant-chatbot/conversations/c-1/stream?lastEventId=4 HTTP/1.1",
            "GET /api/broken/c-3/stream HTTP/1.1",
            "GET /api/keepalive/k-1 HTTP/1.1",
            "GET /api/keepalive/k-1 HTTP/1.1",
            "GET /api/keepalive/k-1 HTTP/1.1",
        ]
    );
    assert_eq!(
        rust.request_lines(),
        ["GET /v2/conversations/c-2/stream?lastEventId=4 HTTP/1.1"]
    );
    for head in next.heads().iter().chain(&rust.heads()) {
        assert!(!leaked_in(head, &token), "token reached a backend:\n{head}");
        assert!(head.contains("x-cutover-user-id: visitor-1"), "{head}");
    }

    // Five access lines, each with the token redacted; the failure's detail
    // is there, Pingora's own retry line too, and the whole log has no
    // trace of the token.
    let log = eventually(Duration::from_secs(10), || async {
        let log = cutover.log();
        (log.matches("cutover::access").count() >= 5).then_some(log)
    })
    .await
    .expect("five access lines");
    let access: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|l| l["target"] == "cutover::access")
        .collect();
    assert_eq!(access.len(), 5, "{log}");
    for line in &access {
        assert!(
            line["path"].as_str().unwrap().ends_with("token=REDACTED"),
            "{line}"
        );
    }
    let failed = access
        .iter()
        .find(|l| l["status"] == 502)
        .expect("502 line");
    assert!(failed["error_detail"].as_str().is_some(), "{failed}");
    let pingora: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("Fail to proxy") && l.contains("pingora"))
        .collect();
    assert_eq!(pingora.len(), 1, "Pingora's retry line:\n{log}");
    assert!(
        pingora[0].contains("/api/keepalive/k-1?token=REDACTED"),
        "{}",
        pingora[0]
    );
    assert!(!leaked_in(&log, &token), "token in the log:\n{log}");
    assert!(
        !leaked_in(&cutover.metrics().await, &token),
        "token in /metrics"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_or_expired_query_token_is_a_json_401_before_any_backend() {
    let (next, rust, _cfg, cutover) = stack(&[]).await;
    let (_, bad, expired) = tokens();
    let client = reqwest::Client::new();
    for path in [
        "/api/tenant-chatbot/conversations/c-1/stream",
        "/api/widget/conversations/c-2/stream",
    ] {
        for (token, reason) in [(&bad, "bad_signature"), (&expired, "expired")] {
            let r = client
                .get(cutover.url(&format!("{path}?token={token}")))
                .header("accept", "text/event-stream")
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 401, "{path} {reason}");
            assert!(
                r.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("application/json")
            );
            assert_eq!(
                r.json::<serde_json::Value>().await.unwrap(),
                json!({"error": "unauthorized", "reason": reason}),
                "{path}"
            );
        }
    }
    assert_eq!(next.connections.load(Ordering::SeqCst), 0, "next contacted");
    assert_eq!(rust.connections.load(Ordering::SeqCst), 0, "rust contacted");
    let log = cutover.log();
    for token in [&bad, &expired] {
        assert!(
            !leaked_in(&log, token),
            "a refused token in the log:\n{log}"
        );
    }
}
