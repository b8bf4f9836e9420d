//! Slow clients: a trickled head is cut at its deadline; idle keep-alive
//! connections are closed; a trickled or stalled body is cut at its
//! deadline, and never reaches the upstream whole.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{exchange, stack_with, status_of};

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

/// Body slowloris: with `client_body_deadline_seconds = 2` (and no minimum
/// rate), a client trickling a body one byte every 200 ms, and one that
/// trickles and then stalls, are answered 408 and closed at the deadline
/// (not at a per-read timeout). One that goes silent at once outlasts the
/// upstream's 1 s read timeout first: that too is the client's 408, not a
/// 504 against rust. The rust upstream never receives any of them whole,
/// next is never asked (no fallback), and no upstream error is counted.
/// Cutover then answers the next request, and a slow upload that finishes
/// within its deadline reaches the upstream whole.
#[tokio::test(flavor = "multi_thread")]
async fn slow_bodies_are_cut_at_the_deadline() {
    let stack =
        stack_with("client_body_deadline_seconds = 2\nclient_body_min_bytes_per_second = 0").await;
    let head = "POST /api/open/1 HTTP/1.1\r\nHost: a\r\nContent-Length: 1000\r\n\r\n";
    let deadline = Duration::from_secs(2);

    // One byte every 200 ms, forever: cut when a byte arrives past the deadline.
    // Stalled after 1.6 s (the upstream's 1 s read timeout would fire at
    // 2.6 s): the last read is armed with the 0.4 s left.
    for (case, stall_after) in [("trickled", None), ("stalled", Some(8))] {
        let mut sock = tokio::net::TcpStream::connect(stack.cutover.proxy)
            .await
            .unwrap();
        let (response, open_for) = trickle_body(&mut sock, head, stall_after).await;
        assert_eq!(status_of(&response), Some(408), "{case}: {response:.300}");
        assert!(
            response.contains("\"error\":\"request_timeout\""),
            "{case}: {response:.300}"
        );
        assert!(
            open_for >= deadline - Duration::from_millis(100),
            "{case}: cut before the deadline, after {open_for:?}"
        );
        assert!(
            open_for < deadline + Duration::from_millis(1500),
            "{case}: open for {open_for:?}"
        );
    }
    // A body cutover reads itself (a capped route's form) has the same bound.
    let form = "POST /api/capped HTTP/1.1\r\nHost: a\r\n\
                Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n";
    let mut sock = tokio::net::TcpStream::connect(stack.cutover.proxy)
        .await
        .unwrap();
    let (response, open_for) = trickle_body(&mut sock, form, None).await;
    assert_eq!(status_of(&response), Some(408), "form: {response:.300}");
    assert!(
        open_for < deadline + Duration::from_millis(1500),
        "form: open for {open_for:?}"
    );

    // One byte, then silence: the upstream's read times out (1 s) first.
    let mut sock = tokio::net::TcpStream::connect(stack.cutover.proxy)
        .await
        .unwrap();
    let (response, open_for) = trickle_body(&mut sock, head, Some(1)).await;
    assert_eq!(status_of(&response), Some(408), "silent: {response:.300}");
    assert!(open_for < deadline, "silent: open for {open_for:?}");
    assert_eq!(
        stack.rust.take().len(),
        0,
        "the upstream never gets a cut body as a complete request"
    );
    assert_eq!(stack.next.take().len(), 0, "a slow client is no fallback");
    let metrics = stack.cutover.metrics().await;
    let refused =
        "cutover_requests_total{backend=\"cutover\",route=\"open\",status_class=\"4xx\"} 3";
    let form_refused =
        "cutover_requests_total{backend=\"cutover\",route=\"capped\",status_class=\"4xx\"} 1";
    assert!(metrics.contains(form_refused), "{metrics}");
    assert!(metrics.contains(refused), "{metrics}");
    assert!(
        !metrics.contains("cutover_upstream_errors_total{"),
        "a stalled client is no upstream error: {metrics}"
    );

    // Cutover is fine: the next request is answered.
    let (response, _) = exchange(&stack, b"GET /after HTTP/1.1\r\nHost: a\r\n\r\n").await;
    assert_eq!(status_of(&response), Some(200), "after: {response:.300}");

    // A slow upload within its deadline: 10 bytes, one every 100 ms.
    let mut sock = tokio::net::TcpStream::connect(stack.cutover.proxy)
        .await
        .unwrap();
    sock.write_all(b"POST /api/open/2 HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n")
        .await
        .unwrap();
    for b in b"0123456789" {
        tokio::time::sleep(Duration::from_millis(100)).await;
        sock.write_all(&[*b]).await.unwrap();
    }
    let mut buf = [0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), sock.read(&mut buf))
        .await
        .expect("no answer to a slow upload within its deadline")
        .unwrap();
    let response = String::from_utf8_lossy(&buf[..n]);
    assert_eq!(status_of(&response), Some(200), "upload: {response:.300}");
    let got = stack.rust.take();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].body, b"0123456789");
}

/// Send `head`, then one body byte every 200 ms (none after `stall_after`
/// bytes) until cutover answers or closes (at most 10 s); the answer and how
/// long the connection stayed open.
async fn trickle_body(
    sock: &mut tokio::net::TcpStream,
    head: &str,
    stall_after: Option<usize>,
) -> (String, Duration) {
    let began = std::time::Instant::now();
    let _ = sock.write_all(head.as_bytes()).await;
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let mut sent = 0;
    while began.elapsed() < Duration::from_secs(10) {
        match tokio::time::timeout(Duration::from_millis(200), sock.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) if stall_after.is_some_and(|n| sent >= n) => {}
            Err(_) => {
                sent += 1;
                if sock.write_all(b"x").await.is_err() {
                    break;
                }
            }
        }
    }
    (String::from_utf8_lossy(&got).into_owned(), began.elapsed())
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
