//! The flip policy for open streams (issue 15): `streams = "migrate"` ends
//! SSE streams at event boundaries, paced, and they reconnect to the new
//! side; a WebSocket mid-way through a large message gets it whole, then
//! close code 1012; `keep` leaves streams alone; `drain` ends them at
//! `max_age`. Real cutover binary, stand-in upstreams.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::support::*;

fn ticks_route(next: &Upstream, rust: &Upstream, keys: &str) -> ConfigDir {
    let routes = format!("[[route]]\nid = \"ticks\"\npath = \"/ticks\"\nkind = \"sse\"\n{keys}\n");
    // 200 streams open at once beside the other tests: a slow first byte
    // from the stand-in is not what these tests are about.
    let toml = with_patient_timeouts(routes_toml(&next.url(), &rust.url(), "", &routes));
    let cfg = ConfigDir::new(&toml);
    cfg.write_flag("ticks", "backend = \"next\"\n");
    cfg
}

fn backend(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("x-cutover-backend")
        .map_or("-", |v| v.to_str().unwrap())
        .to_string()
}

/// The whole body of a stream that cutover ends: `Err` if it ended abruptly
/// (a connection error instead of a clean chunked end) or not in `within`.
async fn read_to_end(resp: reqwest::Response, within: Duration) -> Result<String, String> {
    let mut body = resp.bytes_stream();
    let mut text = Vec::new();
    let read = async {
        while let Some(chunk) = body.next().await {
            text.extend_from_slice(&chunk.map_err(|e| format!("not a clean end: {e}"))?);
        }
        Ok::<_, String>(())
    };
    tokio::time::timeout(within, read)
        .await
        .map_err(|_| "still open".to_string())??;
    String::from_utf8(text).map_err(|e| e.to_string())
}

/// Whole events, then `retry: <ms>` as the last field: never a partial event.
fn assert_ended_at_a_boundary(body: &str) {
    let (events, retry) = body
        .rsplit_once("retry: ")
        .unwrap_or_else(|| panic!("no retry: in {body:?}"));
    assert!(
        events.is_empty() || events.ends_with("\n\n"),
        "partial event before retry: {body:?}"
    );
    let ms = retry.strip_suffix("\n\n").expect("retry: ends the body");
    assert!(ms.parse::<u64>().is_ok(), "retry: {ms:?}");
    for event in events.split_terminator("\n\n") {
        let fields: Vec<&str> = event
            .lines()
            .map(|l| l.split(':').next().unwrap())
            .collect();
        assert_eq!(
            fields,
            ["id", "event", "data"],
            "incomplete event {event:?}"
        );
    }
}

async fn open_streams(c: &Cutover, side: &str) -> f64 {
    c.metric(&format!(
        "cutover_open_streams{{backend=\"{side}\",route=\"ticks\"}}"
    ))
    .await
}

async fn wait_for_open(c: &Cutover, side: &str, n: f64) -> bool {
    eventually(Duration::from_secs(30), || async {
        (open_streams(c, side).await == n).then_some(())
    })
    .await
    .is_some()
}

#[tokio::test(flavor = "multi_thread")]
async fn migrate_ends_sse_streams_at_event_boundaries_paced_and_they_reconnect_to_the_new_side() {
    const N: usize = 200;
    const PACE: usize = 50;
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cfg = ticks_route(&next, &rust, "streams = \"migrate\"\npace = \"50/s\"");
    let c = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    let url = c.url("/ticks");
    let (tx, mut rx) = tokio::sync::mpsc::channel(N);
    for _ in 0..N {
        let (client, url, tx) = (client.clone(), url.clone(), tx.clone());
        tokio::spawn(async move {
            let resp = client.get(&url).send().await.unwrap();
            assert_eq!(backend(&resp), "next");
            let body = read_to_end(resp, Duration::from_secs(60)).await;
            let ended = Instant::now();
            let again = client.get(&url).send().await.unwrap();
            // `again` is kept open: the gauge counts it on its new side.
            let _ = tx.send((ended, body, backend(&again), again)).await;
        });
    }
    assert!(wait_for_open(&c, "next", N as f64).await, "{}", c.log());

    cfg.write_flag("ticks", "backend = \"rust\"\n");
    let mut ends = Vec::with_capacity(N);
    let mut reconnected = Vec::with_capacity(N);
    for _ in 0..N {
        let (ended, body, side, again) = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .expect("every stream ended within a minute")
            .unwrap();
        assert_ended_at_a_boundary(&body.expect("a clean end"));
        assert_eq!(side, "rust", "the reconnect landed on the new side");
        ends.push(ended);
        reconnected.push(again);
    }
    ends.sort();
    // ≈ N / pace seconds: slots are 20 ms apart, the last one 3.98 s in.
    let span = *ends.last().unwrap() - ends[0];
    assert!(
        span >= Duration::from_secs(3) && span <= Duration::from_secs(8),
        "{N} streams at {PACE}/s ended over {span:?}"
    );
    // Per second, never more than the pace plus its jitter allowance (one
    // slot, plus the 100 ms until an end passes an event).
    let busiest = busiest_second(&ends);
    assert!(busiest <= PACE + PACE / 5, "{busiest} ends in one second");
    assert!(
        wait_for_open(&c, "rust", N as f64).await,
        "{}",
        c.metrics().await
    );
    assert_eq!(open_streams(&c, "next").await, 0.0);
    let migrated = "cutover_stream_migrations_total{reason=\"migrate\",route=\"ticks\"}";
    assert_eq!(c.metric(migrated).await, N as f64);
    drop(reconnected);
}

/// Ends per second at the busiest second of `ends` (sorted).
fn busiest_second(ends: &[Instant]) -> usize {
    ends.iter()
        .enumerate()
        .map(|(i, t)| {
            ends[i..]
                .iter()
                .take_while(|e| **e < *t + Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// Streams whose upstream sends nothing after their first event (no
/// heartbeat): `migrate` still ends each at its turn, paced, because cutover
/// wakes an idle stream at its deadline (vendored Pingora patch 5) instead
/// of waiting for bytes that never come.
#[tokio::test(flavor = "multi_thread")]
async fn migrate_ends_idle_proxied_sse_streams_at_their_turn() {
    const N: usize = 40;
    const PACE: usize = 20;
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let routes = "[[route]]\nid = \"ticks\"\npath = \"/quiet\"\nkind = \"sse\"\n\
                  streams = \"migrate\"\npace = \"20/s\"\n";
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", routes));
    cfg.write_flag("ticks", "backend = \"next\"\n");
    let c = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    let mut readers = Vec::new();
    for _ in 0..N {
        let resp = client.get(c.url("/quiet")).send().await.unwrap();
        assert_eq!(backend(&resp), "next");
        readers.push(tokio::spawn(async move {
            let body = read_to_end(resp, Duration::from_secs(30)).await;
            (Instant::now(), body)
        }));
    }
    assert!(wait_for_open(&c, "next", N as f64).await, "{}", c.log());
    cfg.write_flag("ticks", "backend = \"rust\"\n");
    let mut ends = Vec::new();
    for r in readers {
        let (ended, body) = r.await.unwrap();
        let body = body.unwrap_or_else(|e| panic!("an idle stream was not ended: {e}"));
        assert_ended_at_a_boundary(&body);
        assert!(body.contains("\"side\":\"next\""));
        ends.push(ended);
    }
    ends.sort();
    // N / pace = 2 s of slots; without the wake-up they would never end.
    let span = *ends.last().unwrap() - ends[0];
    assert!(
        span >= Duration::from_secs(1),
        "{N} idle streams ended over {span:?}"
    );
    let busiest = busiest_second(&ends);
    assert!(busiest <= PACE + PACE / 5, "{busiest} ends in one second");
    let again = client.get(c.url("/quiet")).send().await.unwrap();
    assert_eq!(backend(&again), "rust");
    let migrated = "cutover_stream_migrations_total{reason=\"migrate\",route=\"ticks\"}";
    assert_eq!(c.metric(migrated).await, N as f64);
}

/// A WebSocket on which nobody says anything gets its 1012 close at its
/// turn too, and the close handshake completes through cutover.
#[tokio::test(flavor = "multi_thread")]
async fn migrate_closes_an_idle_websocket_with_1012() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let routes = "[[route]]\nid = \"ws\"\npath = \"/ws\"\nkind = \"websocket\"\n\
                  streams = \"migrate\"\npace = \"50/s\"\n";
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", routes));
    cfg.write_flag("ws", "backend = \"next\"\n");
    let c = Cutover::start(&cfg);
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", c.proxy))
        .await
        .unwrap();
    ws.send(Message::text("hi")).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("next:hi"));
    let open = "cutover_open_streams{backend=\"next\",route=\"ws\"}";
    let counted = eventually(Duration::from_secs(10), || async {
        (c.metric(open).await == 1.0).then_some(())
    })
    .await;
    assert!(counted.is_some(), "{}", c.metrics().await);
    cfg.write_flag("ws", "backend = \"rust\"\n");
    let within = Duration::from_secs(10);
    match tokio::time::timeout(within, ws.next()).await {
        Ok(Some(Ok(Message::Close(Some(frame))))) => assert_eq!(frame.code, CloseCode::Restart),
        other => panic!(
            "expected close 1012 on the idle socket, got {other:?}\n{}",
            c.log()
        ),
    }
    loop {
        match tokio::time::timeout(within, ws.next()).await.unwrap() {
            None | Some(Err(tokio_tungstenite::tungstenite::Error::ConnectionClosed)) => break,
            Some(Ok(Message::Close(_))) => {}
            other => panic!("after close: {other:?}"),
        }
    }
    let migrated = "cutover_stream_migrations_total{reason=\"migrate\",route=\"ws\"}";
    assert_eq!(c.metric(migrated).await, 1.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn keep_leaves_open_streams_on_their_side_after_a_flip() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cfg = ticks_route(&next, &rust, "");
    let c = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    let old = client.get(c.url("/ticks")).send().await.unwrap();
    assert_eq!(backend(&old), "next");
    cfg.write_flag("ticks", "backend = \"rust\"\n");
    let flipped = eventually(Duration::from_secs(10), || async {
        let r = client.get(c.url("/ticks")).send().await.unwrap();
        (backend(&r) == "rust").then_some(r)
    })
    .await
    .expect("the flip applied");
    // The old stream keeps flowing from next, well past any pace.
    let mut body = old.bytes_stream();
    let mut seen = String::new();
    let until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < until {
        let chunk = tokio::time::timeout(Duration::from_secs(2), body.next())
            .await
            .expect("events keep coming")
            .expect("still open")
            .unwrap();
        seen.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    assert!(
        seen.contains("\"side\":\"next\"") && !seen.contains("retry:"),
        "{seen}"
    );
    assert_eq!(open_streams(&c, "next").await, 1.0);
    assert_eq!(open_streams(&c, "rust").await, 1.0);
    assert!(
        !c.metrics()
            .await
            .contains("cutover_stream_migrations_total{")
    );
    drop(flipped);
}

#[tokio::test(flavor = "multi_thread")]
async fn drain_ends_a_stream_at_max_age_at_an_event_boundary() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cfg = ticks_route(&next, &rust, "streams = \"drain\"\nmax_age = \"1s\"");
    let c = Cutover::start(&cfg);
    let opened = Instant::now();
    let resp = reqwest::get(c.url("/ticks")).await.unwrap();
    let body = read_to_end(resp, Duration::from_secs(10)).await.unwrap();
    assert!(opened.elapsed() >= Duration::from_secs(1));
    assert_ended_at_a_boundary(&body);
    assert!(body.contains("\"side\":\"next\""));
    let drained = "cutover_stream_migrations_total{reason=\"max_age\",route=\"ticks\"}";
    assert_eq!(c.metric(drained).await, 1.0);
    assert_eq!(open_streams(&c, "next").await, 0.0);
}

/// A WebSocket server that, after "go", sends one 4 MiB binary message in
/// 64 KiB writes 20 ms apart (`half_sent` fires at 1 MiB), then reports the
/// close frame it receives.
async fn slow_big_message_server(
    half_sent: Arc<tokio::sync::Notify>,
) -> (String, tokio::task::JoinHandle<Option<u16>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = tokio_tungstenite::accept_async(tcp).await.unwrap();
        ws.send(Message::text("ready")).await.unwrap();
        assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("go"));
        const LEN: usize = 4 << 20;
        let raw = ws.get_mut();
        let mut head = vec![0x82, 127];
        head.extend_from_slice(&(LEN as u64).to_be_bytes());
        raw.write_all(&head).await.unwrap();
        let chunk = vec![b'x'; 64 << 10];
        for i in 0..LEN / chunk.len() {
            raw.write_all(&chunk).await.unwrap();
            if i * chunk.len() == 1 << 20 {
                half_sent.notify_one();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        while let Some(Ok(msg)) = ws.next().await {
            if let Message::Close(frame) = msg {
                return frame.map(|f| u16::from(f.code));
            }
        }
        None
    });
    (url, task)
}

#[tokio::test(flavor = "multi_thread")]
async fn migrate_closes_a_websocket_with_1012_after_the_large_message_it_was_receiving() {
    let half_sent = Arc::new(tokio::sync::Notify::new());
    let (next, server) = slow_big_message_server(half_sent.clone()).await;
    let rust = Upstream::start("rust").await;
    let routes = "[[route]]\nid = \"big\"\npath = \"/big\"\nkind = \"websocket\"\n\
                  streams = \"migrate\"\npace = \"50/s\"\n";
    let cfg = ConfigDir::new(&routes_toml(&next, &rust.url(), "", routes));
    cfg.write_flag("big", "backend = \"next\"\n");
    let c = Cutover::start(&cfg);
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/big", c.proxy))
        .await
        .unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("ready"));
    ws.send(Message::text("go")).await.unwrap();
    half_sent.notified().await;
    cfg.write_flag("big", "backend = \"rust\"\n");

    let within = Duration::from_secs(30);
    let first = tokio::time::timeout(within, ws.next()).await.unwrap();
    match first {
        Some(Ok(Message::Binary(data))) => {
            assert_eq!(data.len(), 4 << 20);
            assert!(data.iter().all(|b| *b == b'x'), "a corrupted message");
        }
        other => panic!(
            "expected the whole 4 MiB message, got {other:?}\n{}",
            c.log()
        ),
    }
    match tokio::time::timeout(within, ws.next()).await.unwrap() {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::Restart),
        other => panic!("expected close 1012, got {other:?}"),
    }
    // The close handshake completes: no protocol error, then the end.
    loop {
        match tokio::time::timeout(within, ws.next()).await.unwrap() {
            None | Some(Err(tokio_tungstenite::tungstenite::Error::ConnectionClosed)) => break,
            Some(Ok(Message::Close(_))) => {}
            other => panic!("after close: {other:?}"),
        }
    }
    // The server got the client's own (masked) close reply: a clean close.
    let seen = tokio::time::timeout(within, server).await.unwrap().unwrap();
    assert_eq!(seen, Some(1012));
    let migrated = "cutover_stream_migrations_total{reason=\"migrate\",route=\"big\"}";
    assert_eq!(c.metric(migrated).await, 1.0);
}

struct StopSignal(tokio::sync::Mutex<tokio::sync::oneshot::Receiver<()>>);

#[async_trait::async_trait]
impl pingora::server::ShutdownSignalWatch for StopSignal {
    async fn recv(&self) -> pingora::server::ShutdownSignal {
        let _ = (&mut *self.0.lock().await).await;
        pingora::server::ShutdownSignal::FastShutdown
    }
}

/// An embedded handler's SSE stream that sends one event and then nothing:
/// `migrate` ends it between events although no byte passes.
#[tokio::test(flavor = "multi_thread")]
async fn migrate_ends_idle_embedded_sse_streams_and_they_reconnect_to_next() {
    let next = Upstream::start("next").await;
    let routes = "[[route]]\nid = \"ticks\"\npath = \"/ticks\"\nrust_path = \"/chat/idle\"\n\
                  kind = \"sse\"\nstreams = \"migrate\"\npace = \"10/s\"\n";
    let cfg = ConfigDir::new(&routes_toml(&next.url(), "embedded", "", routes));
    cfg.write_flag("ticks", "backend = \"rust\"\n");
    let router = axum::Router::new().route(
        "/chat/idle",
        axum::routing::get(|| async {
            let once = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(
                "id: 1\nevent: tick\ndata: {\"side\":\"rust\"}\n\n",
            ))]);
            let body = axum::body::Body::from_stream(once.chain(futures::stream::pending()));
            axum::response::Response::builder()
                .header("content-type", "text/event-stream")
                .body(body)
                .unwrap()
        }),
    );
    let config = cutover::config::Config::load(&cfg.routes_path()).unwrap();
    let rust = cutover::app::Embedded {
        router,
        runtime: tokio::runtime::Handle::current(),
        health: Default::default(),
    };
    let built = cutover::server::build(config, &cfg.routes_path(), rust, false).unwrap();
    let (proxy, admin) = (built.proxy_addr, built.admin_addr);
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
    let server = built.server;
    let thread = std::thread::spawn(move || {
        server.run(pingora::server::RunArgs {
            shutdown_signal: Box::new(StopSignal(tokio::sync::Mutex::new(stop_rx))),
        })
    });
    let client = reqwest::Client::new();
    let url = format!("http://{proxy}/ticks");
    let metrics = || async {
        let text = client
            .get(format!("http://{admin}/metrics"))
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        Some(text)
    };
    let up = eventually(Duration::from_secs(5), || async { metrics().await }).await;
    assert!(up.is_some(), "cutover did not start");

    let mut readers = Vec::new();
    for _ in 0..3 {
        let resp = client.get(&url).send().await.unwrap();
        assert_eq!(backend(&resp), "rust");
        readers.push(tokio::spawn(read_to_end(resp, Duration::from_secs(20))));
    }
    let rust_open = "cutover_open_streams{backend=\"rust\",route=\"ticks\"}";
    let open = eventually(Duration::from_secs(10), || async {
        metrics()
            .await
            .filter(|m| metric_value(m, rust_open) == 3.0)
    })
    .await;
    assert!(open.is_some(), "three streams open on rust");
    cfg.write_flag("ticks", "backend = \"next\"\n");
    for r in readers {
        let body = r.await.unwrap().expect("a clean end");
        assert_ended_at_a_boundary(&body);
        assert!(body.contains("\"side\":\"rust\""));
        let again = client.get(&url).send().await.unwrap();
        assert_eq!(backend(&again), "next");
    }
    let m = metrics().await.unwrap();
    let migrated = "cutover_stream_migrations_total{reason=\"migrate\",route=\"ticks\"}";
    assert_eq!(metric_value(&m, migrated), 3.0);
    assert_eq!(metric_value(&m, rust_open), 0.0);
    let _ = stop_tx.send(());
    let _ = thread.join();
}
