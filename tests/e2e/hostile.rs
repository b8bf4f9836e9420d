//! Hostile HTTP: raw bytes to cutover, and what the upstream received.
//!
//! Each case is either refused by cutover (400/414/431, connection closed,
//! nothing forwarded) or reaches the upstream as exactly one request with
//! unambiguous framing; a smuggled second request never reaches it. Route
//! differentials: a path variant that a backend could read as a claimed route
//! is refused, so no route's handler is reached without that route's auth and
//! rust never sees a path the table did not claim.

mod recorder;

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::*;

const SMUGGLED: &str = "GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n";

/// What a case may end in.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// This status from cutover, nothing forwarded, connection closed.
    Refused(u16),
    /// Refused with 400, or exactly one unambiguous request upstream.
    RefusedOrOne,
}

struct Stack {
    _cfg: ConfigDir,
    cutover: Cutover,
    next: recorder::Log,
    rust: recorder::Log,
}

async fn stack() -> Stack {
    stack_with("").await
}

async fn stack_with(extra_server: &str) -> Stack {
    let (next_addr, next) = recorder::start().await;
    let (rust_addr, rust) = recorder::start().await;
    let routes = r#"
[auth]
identity_key_env = "CUTOVER_IDENTITY_KEY"

[auth.session]
flavor = "nextauth-v4"
secret_envs = ["NEXTAUTH_SECRET"]

[[route]]
id = "secret"
path = "/api/secret/{id}"
auth = "required"
schemes = ["session"]

[[route]]
id = "open"
path = "/api/open/{id}"
"#;
    let cfg = ConfigDir::new(&routes_toml(
        &format!("http://{next_addr}"),
        &format!("http://{rust_addr}"),
        extra_server,
        routes,
    ));
    cfg.write_flag("open", "backend = \"rust\"\n");
    cfg.write_flag("secret", "backend = \"rust\"\n");
    let cutover = Cutover::start_with_env(
        &cfg,
        &[
            (
                "NEXTAUTH_SECRET",
                "hostile-nextauth-secret-0123456789abcdef",
            ),
            (
                "CUTOVER_IDENTITY_KEY",
                "hostile-identity-key-0123456789abcdef01234",
            ),
        ],
    );
    Stack {
        _cfg: cfg,
        cutover,
        next,
        rust,
    }
}

/// Send `raw`, read until cutover closes or goes quiet; the response bytes
/// and whether the connection was closed.
async fn exchange(stack: &Stack, raw: &[u8]) -> (String, bool) {
    let mut sock = tokio::net::TcpStream::connect(stack.cutover.proxy)
        .await
        .unwrap();
    let _ = sock.write_all(raw).await;
    let mut got = Vec::new();
    let mut buf = [0u8; 16384];
    let closed = loop {
        match tokio::time::timeout(Duration::from_millis(1500), sock.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => break false,
        }
    };
    (String::from_utf8_lossy(&got).into_owned(), closed)
}

fn status_of(response: &str) -> Option<u16> {
    response.split(' ').nth(1)?.parse().ok()
}

fn smuggling_cases() -> Vec<(&'static str, Vec<u8>, Expect)> {
    let post = |headers: &str, body: &str| {
        format!("POST /x HTTP/1.1\r\nHost: a\r\n{headers}\r\n{body}").into_bytes()
    };
    vec![
        (
            "content-length and transfer-encoding",
            post(
                "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
                &format!("0\r\n\r\n{SMUGGLED}"),
            ),
            // Pingora drops the Content-Length (RFC 9112 §6.3), forwards one
            // chunked request and closes the connection after it.
            Expect::RefusedOrOne,
        ),
        (
            "duplicate content-length",
            post("Content-Length: 4\r\nContent-Length: 40\r\n", "abcd"),
            Expect::Refused(400),
        ),
        (
            "comma-joined content-length",
            post("Content-Length: 4, 40\r\n", "abcd"),
            Expect::Refused(400),
        ),
        (
            "transfer-encoding with trailing space",
            post(
                "Transfer-Encoding: chunked \r\n",
                &format!("4\r\nabcd\r\n0\r\n\r\n{SMUGGLED}"),
            ),
            Expect::RefusedOrOne,
        ),
        (
            "xchunked",
            post(
                "Transfer-Encoding: xchunked\r\n",
                &format!("4\r\nabcd\r\n0\r\n\r\n{SMUGGLED}"),
            ),
            Expect::Refused(400),
        ),
        (
            "space before the colon",
            post(
                "Transfer-Encoding : chunked\r\nContent-Length: 4\r\n",
                &format!("0\r\n\r\n{SMUGGLED}"),
            ),
            Expect::Refused(400),
        ),
        (
            "folded transfer-encoding",
            post(
                "Transfer-Encoding: x\r\n chunked\r\nContent-Length: 4\r\n",
                &format!("0\r\n\r\n{SMUGGLED}"),
            ),
            Expect::Refused(400),
        ),
        (
            "bad chunk size",
            post(
                "Transfer-Encoding: chunked\r\n",
                &format!("zz\r\nabcd\r\n0\r\n\r\n{SMUGGLED}"),
            ),
            Expect::RefusedOrOne,
        ),
        (
            "chunk extension",
            post(
                "Transfer-Encoding: chunked\r\n",
                "4;name=value\r\nabcd\r\n0\r\n\r\n",
            ),
            Expect::RefusedOrOne,
        ),
        (
            "bare LF line ends",
            b"GET /x HTTP/1.1\nHost: a\n\n".to_vec(),
            Expect::RefusedOrOne,
        ),
        (
            "NUL in the request line",
            b"GET /x\0y HTTP/1.1\r\nHost: a\r\n\r\n".to_vec(),
            // Pingora percent-encodes it: the upstream gets `/x%00y`.
            Expect::RefusedOrOne,
        ),
        (
            "NUL in a header value",
            b"GET /x HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n".to_vec(),
            Expect::Refused(400),
        ),
        (
            "non-ASCII in the request line",
            "GET /x\u{e9} HTTP/1.1\r\nHost: a\r\n\r\n"
                .as_bytes()
                .to_vec(),
            Expect::RefusedOrOne,
        ),
        (
            "header name with a space",
            b"GET /x HTTP/1.1\r\nHost: a\r\nX Forwarded-For: 1.2.3.4\r\n\r\n".to_vec(),
            Expect::Refused(400),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn smuggling_attempts_are_refused_or_reach_the_upstream_as_one_request() {
    let stack = stack().await;
    let mut failures = Vec::new();
    for (name, raw, expect) in smuggling_cases() {
        let (response, closed) = exchange(&stack, &raw).await;
        let status = status_of(&response);
        let got = stack.next.take();
        let refused = got.is_empty() && status.is_some_and(|s| (400..500).contains(&s)) && closed;
        let ok = match expect {
            Expect::Refused(code) => refused && status == Some(code),
            Expect::RefusedOrOne => {
                refused
                    || (got.len() == 1
                        && !got[0].ambiguous
                        && !got[0].request_line().contains("smuggled"))
            }
        };
        if !ok || got.iter().any(|r| r.request_line().contains("smuggled")) {
            failures.push(format!(
                "{name}: expected {expect:?}, got status {status:?} closed={closed}, upstream received {:?}",
                got.iter().map(|r| (r.head.clone(), r.ambiguous)).collect::<Vec<_>>()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_heads_are_refused_without_memory_growth() {
    let stack = stack().await;
    let long_line = format!("GET /{} HTTP/1.1\r\nHost: a\r\n\r\n", "a".repeat(70_000));
    let big_header = format!(
        "GET /x HTTP/1.1\r\nHost: a\r\nX-Big: {}\r\n\r\n",
        "b".repeat(70_000)
    );
    let many: String = (0..300).map(|i| format!("X-H{i}: v\r\n")).collect();
    let many_headers = format!("GET /x HTTP/1.1\r\nHost: a\r\n{many}\r\n");
    let huge_head = format!(
        "GET /x HTTP/1.1\r\nHost: a\r\nX-Big: {}\r\n\r\n",
        "c".repeat(1_100_000)
    );
    let cases = [
        ("request line", long_line, 414),
        ("header block", big_header, 431),
        ("header count", many_headers, 431),
        ("head past the read limit", huge_head, 431),
    ];
    for (name, raw, code) in &cases {
        let (response, closed) = exchange(&stack, raw.as_bytes()).await;
        assert_eq!(status_of(&response), Some(*code), "{name}: {response:.200}");
        assert!(closed, "{name}: connection left open");
        assert!(stack.next.take().is_empty(), "{name}: forwarded");
    }
    // Many more of them, 16 at a time: the process gives the memory back.
    let before = rss_kib(&stack.cutover);
    for _ in 0..8 {
        let batch = cases
            .iter()
            .cycle()
            .take(16)
            .map(|(_, raw, _)| exchange(&stack, raw.as_bytes()));
        futures::future::join_all(batch).await;
    }
    let after = rss_kib(&stack.cutover);
    assert!(
        after < before + 16 * 1024,
        "RSS grew from {before} KiB to {after} KiB after 128 oversized heads"
    );
}

fn rss_kib(c: &Cutover) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", c.child.id())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// `(path, what cutover must do)`: Refused(400), or the route it claims (the
/// auth of `secret` answers 401 without a cookie), or next untouched.
#[tokio::test(flavor = "multi_thread")]
async fn path_variants_never_reach_a_route_without_its_auth() {
    let stack = stack().await;
    let cases: &[(&str, &str)] = &[
        ("/api/secret/1", "401"),
        ("/api/secret/1/", "401"),
        ("/api/secret/%2e%2e/secret/1", "400"),
        ("/api/open/../secret/1", "400"),
        ("/api/open/x/..%2f..%2fsecret/1", "400"),
        ("/api/secret%2f1", "400"),
        ("/api\\secret/1", "400"),
        ("//api/secret/1", "400"),
        ("/api/./secret/1", "400"),
        ("/api/s%65cret/1", "400"),
        ("/API/secret/1", "next"),
        ("/api/secret/1;x=y", "401"),
        ("/api/secret;x/1", "next"),
        ("/api/open/1", "rust"),
        ("/api/open/a%2fb", "400"),
        ("/blog/../about", "next"),
        ("http://a/api/secret/1", "401"),
        ("http://evil.example/api/secret/1", "400"),
        ("http://evil.example/api/open/1", "400"),
    ];
    let mut failures = Vec::new();
    for (target, want) in cases {
        let raw = format!("GET {target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        let (response, _) = exchange(&stack, raw.as_bytes()).await;
        let (next, rust) = (stack.next.take(), stack.rust.take());
        let got = match status_of(&response) {
            Some(401) if next.is_empty() && rust.is_empty() => "401".to_string(),
            Some(400) if next.is_empty() && rust.is_empty() => "400".to_string(),
            Some(200) if rust.is_empty() && next.len() == 1 => "next".to_string(),
            Some(200) if next.is_empty() && rust.len() == 1 => "rust".to_string(),
            other => format!("{other:?} next={next:?} rust={rust:?}"),
        };
        // Whatever reached an upstream went in origin form.
        for r in next.iter().chain(&rust) {
            let target = r.request_line().split(' ').nth(1).unwrap_or("");
            if !target.starts_with('/') {
                failures.push(format!("{target}: forwarded in absolute form: {}", r.head));
            }
        }
        if got != *want {
            failures.push(format!("{target}: want {want}, got {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Header slowloris: a client trickling its head (one header line every
/// 200 ms, forever) is answered 408 and closed once its deadline (keep-alive
/// + head timeout) passes,
/// on a fresh connection and on a reused one; an idle keep-alive connection
/// is closed quietly after its keep-alive timeout.
#[tokio::test(flavor = "multi_thread")]
async fn slow_heads_are_cut_at_the_deadline() {
    let stack = stack_with("client_header_timeout_ms = 1000\nclient_keepalive_seconds = 2").await;
    // Fresh connection.
    let start = std::time::Instant::now();
    let mut sock = tokio::net::TcpStream::connect(stack.cutover.proxy)
        .await
        .unwrap();
    let (response, closed_after) = trickle(&mut sock, "GET /x HTTP/1.1\r\nHost: a\r\n").await;
    assert_eq!(status_of(&response), Some(408), "fresh: {response:.200}");
    assert!(
        closed_after < Duration::from_secs(4),
        "fresh: open for {closed_after:?}"
    );
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "cut before the deadline"
    );

    // Reused: one complete request, then a trickled one.
    let mut sock = tokio::net::TcpStream::connect(stack.cutover.proxy)
        .await
        .unwrap();
    sock.write_all(b"GET /first HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 4096];
    let n = sock.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let (response, closed_after) = trickle(&mut sock, "GET /second HTTP/1.1\r\nHost: a\r\n").await;
    assert_eq!(status_of(&response), Some(408), "reused: {response:.200}");
    assert!(
        closed_after < Duration::from_secs(6),
        "reused: open for {closed_after:?}"
    );

    // Idle keep-alive: closed after ~2 s, without a response.
    let mut sock = tokio::net::TcpStream::connect(stack.cutover.proxy)
        .await
        .unwrap();
    sock.write_all(b"GET /idle HTTP/1.1\r\nHost: a\r\n\r\n")
        .await
        .unwrap();
    let n = sock.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let idle = std::time::Instant::now();
    let n = tokio::time::timeout(Duration::from_secs(10), sock.read(&mut buf))
        .await
        .expect("idle keep-alive connection never closed")
        .unwrap_or(0);
    assert_eq!(
        n,
        0,
        "idle connection got bytes: {:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    assert!(
        idle.elapsed() >= Duration::from_millis(1500),
        "closed early: {:?}",
        idle.elapsed()
    );
    let got = stack.next.take();
    assert_eq!(
        got.len(),
        2,
        "only the complete requests reach the upstream: {got:?}"
    );
}

/// Send `start`, then one header line every 200 ms until cutover answers or
/// closes (at most 10 s); the answer and how long the connection stayed open.
async fn trickle(sock: &mut tokio::net::TcpStream, start: &str) -> (String, Duration) {
    let began = std::time::Instant::now();
    let _ = sock.write_all(start.as_bytes()).await;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let mut i = 0;
    while began.elapsed() < Duration::from_secs(10) {
        match tokio::time::timeout(Duration::from_millis(200), sock.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => {
                i += 1;
                if sock
                    .write_all(format!("X-Slow-{i}: x\r\n").as_bytes())
                    .await
                    .is_err()
                {
                    break;
                }
            }
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), began.elapsed())
}
