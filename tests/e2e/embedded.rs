//! The embedded rust adapter, in-process, with a router the test builds:
//! request and response bodies stream, status and headers pass.

use std::time::Duration;

use async_trait::async_trait;
use axum::body::Body;
use axum::routing::{get, post};
use futures::StreamExt;
use pingora::server::{RunArgs, ShutdownSignal, ShutdownSignalWatch};

use crate::support::*;

struct ChannelSignal(tokio::sync::Mutex<tokio::sync::oneshot::Receiver<()>>);

#[async_trait]
impl ShutdownSignalWatch for ChannelSignal {
    async fn recv(&self) -> ShutdownSignal {
        let _ = (&mut *self.0.lock().await).await;
        ShutdownSignal::FastShutdown
    }
}

fn test_router() -> axum::Router {
    axum::Router::new()
        .route(
            "/chat/hang",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(30)).await;
                "too late"
            }),
        )
        .route(
            "/chat/count",
            post(|req: axum::extract::Request| async move {
                let user = req.headers().get("x-test").cloned();
                let mut n = 0usize;
                let mut s = req.into_body().into_data_stream();
                while let Some(c) = s.next().await {
                    n += c.unwrap().len();
                }
                let mut r = axum::response::Response::new(Body::from(format!("{{\"bytes\":{n}}}")));
                *r.status_mut() = axum::http::StatusCode::CREATED;
                r.headers_mut()
                    .insert("content-type", "application/json".parse().unwrap());
                if let Some(u) = user {
                    r.headers_mut().insert("x-echo", u);
                }
                r
            }),
        )
        .route(
            "/chat/fail",
            post(|body: bytes::Bytes| async move {
                // Read the whole body, then fail: the body is gone from the
                // client's stream by the time the fallback replays it.
                assert!(!body.is_empty());
                axum::http::StatusCode::INTERNAL_SERVER_ERROR
            }),
        )
        .route(
            "/chat/ticks",
            get(|| async {
                let s = futures::stream::unfold(0u32, |i| async move {
                    if i == 3 {
                        return None;
                    }
                    if i > 0 {
                        tokio::time::sleep(Duration::from_millis(300)).await;
                    }
                    Some((
                        Ok::<_, std::io::Error>(bytes::Bytes::from(format!("tick{i}\n"))),
                        i + 1,
                    ))
                });
                Body::from_stream(s)
            }),
        )
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_router_streams_bodies_both_ways_with_status_and_headers() {
    let next = Upstream::start("next").await;
    let routes = r#"
[[route]]
id = "count"
path = "/api/chat/count"
rust_path = "/chat/count"

[[route]]
id = "ticks"
path = "/api/chat/ticks"
rust_path = "/chat/ticks"

[[route]]
id = "hang"
path = "/api/chat/hang"
rust_path = "/chat/hang"

[[route]]
id = "hang-fb"
path = "/api/chat/hang-fb"
rust_path = "/chat/hang"
fallback = "next"
fallback_budget = { ratio = 1.0, window = "60s" }

[[route]]
id = "fail-keyed"
path = "/differ/write"
rust_path = "/chat/fail"
fallback = "next"
fallback_budget = { ratio = 1.0, window = "60s" }
fallback_non_idempotent = true

[[route]]
id = "fail-plain"
path = "/api/chat/fail"
rust_path = "/chat/fail"
fallback = "next"
fallback_budget = { ratio = 1.0, window = "60s" }
"#;
    let cfg = ConfigDir::new(&routes_toml(&next.url(), "embedded", "", routes));
    cfg.write_flag("count", "backend = \"rust\"\n");
    cfg.write_flag("ticks", "backend = \"rust\"\n");
    cfg.write_flag("hang", "backend = \"rust\"\n");
    cfg.write_flag("hang-fb", "backend = \"rust\"\n");
    cfg.write_flag("fail-keyed", "backend = \"rust\"\n");
    cfg.write_flag("fail-plain", "backend = \"rust\"\n");
    let config = cutover::config::Config::load(&cfg.routes_path()).unwrap();
    let rust = cutover::app::Embedded {
        router: test_router(),
        runtime: tokio::runtime::Handle::current(),
        health: Default::default(),
    };
    let built = cutover::server::build(config, &cfg.routes_path(), rust, false).unwrap();
    let proxy = built.proxy_addr;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
    let server = built.server;
    let thread = std::thread::spawn(move || {
        server.run(RunArgs {
            shutdown_signal: Box::new(ChannelSignal(tokio::sync::Mutex::new(stop_rx))),
        })
    });
    let client = reqwest::Client::new();
    let up = eventually(Duration::from_secs(5), || async {
        client
            .get(format!("http://{proxy}/nothing"))
            .send()
            .await
            .ok()
            .map(|_| ())
    })
    .await;
    assert!(up.is_some());

    // 8 MiB streamed up in chunks: the handler counts it as it arrives.
    let chunk = bytes::Bytes::from(vec![7u8; 64 * 1024]);
    let stream =
        futures::stream::iter((0..128).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    let r = client
        .post(format!("http://{proxy}/api/chat/count"))
        .header("x-test", "abc")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["x-echo"], "abc");
    assert_eq!(r.headers()["x-cutover-backend"], "rust");
    assert_eq!(
        r.text().await.unwrap(),
        format!("{{\"bytes\":{}}}", 128 * 64 * 1024)
    );

    // The first tick arrives before the handler has produced the last.
    let r = client
        .get(format!("http://{proxy}/api/chat/ticks"))
        .send()
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let mut body = r.bytes_stream();
    let first = body.next().await.unwrap().unwrap();
    assert_eq!(&first[..], b"tick0\n");
    assert!(
        started.elapsed() < Duration::from_millis(550),
        "first tick was buffered"
    );
    let mut rest = Vec::new();
    while let Some(c) = body.next().await {
        rest.extend_from_slice(&c.unwrap());
    }
    assert_eq!(rest, b"tick1\ntick2\n");

    // A handler that never answers gets the rust read timeout (1 s here): JSON 504.
    let r = client
        .get(format!("http://{proxy}/api/chat/hang"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 504);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"], "upstream_timeout");
    assert_eq!(v["route"], "hang");
    assert_eq!(v["backend"], "rust");

    // The same hang on a route with `fallback = "next"`: next answers, marked.
    let r = client
        .get(format!("http://{proxy}/api/chat/hang-fb"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-cutover-fallback"], "timeout");
    assert_eq!(r.headers()["x-cutover-backend"], "next");
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["backend"], "next");
    assert_eq!(v["uri"], "/api/chat/hang-fb");

    // A POST with a body whose embedded handler fails: on a route with
    // `fallback_non_idempotent` the body was buffered first and next gets
    // all of it; without the key the client gets rust's 500.
    let body = r#"{"batchId":"b-1","events":[]}"#;
    let r = client
        .post(format!("http://{proxy}/differ/write"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-cutover-fallback"], "status");
    assert_eq!(r.headers()["x-cutover-backend"], "next");
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["len"], body.len(), "next got the whole body");
    let r = client
        .post(format!("http://{proxy}/api/chat/fail"))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(r.headers()["x-cutover-backend"], "rust");

    stop_tx.send(()).unwrap();
    thread.join().unwrap();
}
