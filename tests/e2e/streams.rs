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
    assert_eq!(
        ws.next()
            .await
            .unwrap()
            .unwrap()
            .into_text()
            .unwrap()
            .as_str(),
        "next:hello"
    );

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
    assert_eq!(
        ws.next()
            .await
            .unwrap()
            .unwrap()
            .into_text()
            .unwrap()
            .as_str(),
        "next:still"
    );
    let (mut ws2, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", cutover.proxy))
        .await
        .unwrap();
    ws2.send(Message::text("new")).await.unwrap();
    assert_eq!(
        ws2.next()
            .await
            .unwrap()
            .unwrap()
            .into_text()
            .unwrap()
            .as_str(),
        "rust:new"
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
