//! Hostile HTTP: raw bytes to cutover, and what the upstream received.
//!
//! Each case is either refused by cutover (400/414/431, connection closed,
//! nothing forwarded) or reaches the upstream as exactly one request with
//! unambiguous framing; a smuggled second request never reaches it. Route
//! differentials: a path variant that a backend could read as a claimed route
//! is refused, so no route's handler is reached without that route's auth and
//! rust never sees a path the table did not claim.

mod paths;
mod recorder;
mod slow;

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

[[route]]
id = "capped"
path = "/api/capped"
methods = ["POST"]
cap = { per_client = "100/10s", burst = 100 }
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
        // One field, not only digits: never read as a length (pingora-core
        // patch 8 parses a field of digits directly, anything else as before).
        (
            "signed content-length",
            post("Content-Length: +4\r\n", "abcd"),
            Expect::Refused(400),
        ),
        (
            "content-length past u64",
            post("Content-Length: 18446744073709551620\r\n", "abcd"),
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
    let before = stack.cutover.rss_kib();
    for _ in 0..8 {
        let batch = cases
            .iter()
            .cycle()
            .take(16)
            .map(|(_, raw, _)| exchange(&stack, raw.as_bytes()));
        futures::future::join_all(batch).await;
    }
    let after = stack.cutover.rss_kib();
    assert!(
        after < before + 16 * 1024,
        "RSS grew from {before} KiB to {after} KiB after 128 oversized heads"
    );
}
