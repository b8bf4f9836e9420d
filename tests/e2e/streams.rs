//! Streams through the proxy: SSE, WebSocket across a flip, 200 MB both ways.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;

use crate::support::*;

#[tokio::test(flavor = "multi_thread")]
async fn sse_first_event_arrives_before_the_upstream_finishes() {
    let gate = Arc::new(tokio::sync::Notify::new());
    let next = Upstream::start_with_gate("next", gate.clone()).await;
    let rust = Upstream::start("rust").await;
    let routes = "[[route]]\nid = \"events\"\npath = \"/sse\"\nkind = \"sse\"\n";
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", routes));
    let cutover = Cutover::start(&cfg);

    let resp = reqwest::get(cutover.url("/sse")).await.unwrap();
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    let mut body = resp.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(5), body.next())
        .await
        .expect("first event held back by the proxy")
        .unwrap()
        .unwrap();
    assert_eq!(&first[..], b"data: first\n\n");
    // The upstream has not finished: it is waiting for the gate.
    gate.notify_one();
    let second = body.next().await.unwrap().unwrap();
    assert_eq!(&second[..], b"data: second\n\n");
    // Longer than the 1 s read timeout of http routes: sse has none.
    assert!(body.next().await.is_none());
}

/// One text reply on `ws`; on failure, the proxy's log says why.
async fn reply<S>(ws: &mut S, cutover: &Cutover) -> String
where
    S: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    match ws.next().await {
        Some(Ok(m)) => m.into_text().unwrap().as_str().to_string(),
        other => panic!("no reply: {other:?}\ncutover log:\n{}", cutover.log()),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_echo_works_and_an_open_socket_survives_a_flip() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let routes = "[[route]]\nid = \"socket\"\npath = \"/ws\"\nkind = \"websocket\"\n";
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", routes));
    cfg.write_flag("socket", "backend = \"next\"\n");
    let cutover = Cutover::start(&cfg);

    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", cutover.proxy))
        .await
        .unwrap();
    ws.send(Message::text("hello")).await.unwrap();
    assert_eq!(reply(&mut ws, &cutover).await, "next:hello");

    cfg.write_flag("socket", "backend = \"rust\"\n");
    let client = reqwest::Client::new();
    let moved = eventually(Duration::from_secs(10), || async {
        let r = client.get(cutover.url("/ws")).send().await.ok()?;
        (r.headers().get("x-cutover-backend")? == "rust").then_some(())
    })
    .await;
    assert!(moved.is_some(), "flip not applied");

    // Longer than the 1 s read timeout: a websocket route has none.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    ws.send(Message::text("still")).await.unwrap();
    assert_eq!(reply(&mut ws, &cutover).await, "next:still");
    let (mut ws2, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", cutover.proxy))
        .await
        .unwrap();
    ws2.send(Message::text("new")).await.unwrap();
    assert_eq!(reply(&mut ws2, &cutover).await, "rust:new");
}

/// An upstream that answers `101` the moment it accepts a connection (so
/// the answer is already waiting when the proxy has written the request),
/// then echoes whatever follows the request head.
async fn eager_upgrade_upstream() -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n";
                conn.write_all(head.as_bytes()).await?;
                // Skip the request head, then echo.
                let mut seen = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let n = conn.read(&mut buf).await?;
                    if n == 0 {
                        return Ok::<_, std::io::Error>(());
                    }
                    seen.extend_from_slice(&buf[..n]);
                    if let Some(at) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        let rest = seen.split_off(at + 4);
                        conn.write_all(&rest).await?;
                        break;
                    }
                }
                loop {
                    let n = conn.read(&mut buf).await?;
                    if n == 0 {
                        return Ok(());
                    }
                    conn.write_all(&buf[..n]).await?;
                }
            });
        }
    });
    addr
}

/// Pingora's upgrade race (cloudflare/pingora#946, fixed in our vendored
/// pingora-proxy): when the upstream's `101` was read before the upgrade
/// request's own empty body, the tunnel closed right after the handshake.
/// An upstream that answers at once makes that order the common one: every
/// tunnel must still carry bytes both ways.
#[tokio::test(flavor = "multi_thread")]
async fn an_upgrade_answered_before_the_request_is_read_stays_open() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let upstream = eager_upgrade_upstream().await;
    let rust = Upstream::start("rust").await;
    let routes = "[[route]]\nid = \"socket\"\npath = \"/ws\"\nkind = \"websocket\"\n";
    let cfg = ConfigDir::new(&routes_toml(
        &format!("http://{upstream}"),
        &rust.url(),
        "",
        routes,
    ));
    let cutover = Cutover::start(&cfg);
    let mut closed = 0;
    for i in 0..200 {
        let mut conn = tokio::net::TcpStream::connect(cutover.proxy).await.unwrap();
        let req = "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        conn.write_all(req.as_bytes()).await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = conn.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed before the 101");
            got.extend_from_slice(&buf[..n]);
        }
        assert!(
            got.starts_with(b"HTTP/1.1 101"),
            "{}",
            String::from_utf8_lossy(&got)
        );
        let msg = format!("frame {i}");
        conn.write_all(msg.as_bytes()).await.unwrap();
        let mut echo = vec![0u8; msg.len()];
        let read = tokio::time::timeout(Duration::from_secs(5), conn.read_exact(&mut echo)).await;
        match read {
            Ok(Ok(_)) => assert_eq!(echo, msg.as_bytes()),
            _ => closed += 1,
        }
    }
    assert_eq!(
        closed, 0,
        "{closed} of 200 tunnels closed right after the 101"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn upload_and_download_of_200_mb_pass_with_bounded_proxy_memory() {
    const SIZE: u64 = 200 * 1024 * 1024;
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let routes = "[[route]]\nid = \"media\"\npath = \"/download/{n}\"\nkind = \"media\"\n";
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", routes));
    let cutover = Cutover::start(&cfg);
    let before = cutover.peak_rss_kib();

    let resp = reqwest::get(cutover.url(&format!("/download/{SIZE}")))
        .await
        .unwrap();
    let mut got = 0u64;
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        got += chunk.unwrap().len() as u64;
    }
    assert_eq!(got, SIZE);

    let chunk = bytes::Bytes::from(vec![b'u'; 64 * 1024]);
    let n = SIZE / chunk.len() as u64;
    let stream = futures::stream::iter((0..n).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    let resp = reqwest::Client::new()
        .post(cutover.url("/upload"))
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.text().await.unwrap(), SIZE.to_string());

    let after = cutover.peak_rss_kib();
    // Streaming holds a few buffers, not the body: allow 64 MiB of growth for 400 MB moved.
    assert!(
        after - before < 64 * 1024,
        "peak RSS grew from {before} KiB to {after} KiB"
    );
}
