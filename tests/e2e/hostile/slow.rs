//! Slow clients: a trickled head is cut at its deadline; idle keep-alive
//! connections are closed.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{stack_with, status_of};

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
