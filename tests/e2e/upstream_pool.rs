//! cutover's pool of kept-alive connections to next (vendored pingora-core
//! patch 7: a pooled connection waits in a slot its idle watcher polls
//! through, and a reuse takes it out without waiting for the watcher).
//! What a next operator sees: one connection reused for sequential requests,
//! an idle one closed at `idle_timeout_ms`, one that talks out of turn closed,
//! and never a failed request. A raw TCP next that records its connections.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::support::*;

const ROUTE: &str = "[[route]]\nid = \"threads\"\npath = \"/api/chat/user-threads\"\n";

/// A next on raw TCP: answers each request with a kept-alive `200 ok`;
/// with `babble`, writes bytes nobody asked for 100 ms after its first answer.
struct RawNext {
    url: String,
    accepted: Arc<AtomicUsize>,
    closed_by_cutover: Arc<AtomicUsize>,
}

impl RawNext {
    async fn start(babble: bool) -> RawNext {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let closed_by_cutover = Arc::new(AtomicUsize::new(0));
        let (count, closed) = (accepted.clone(), closed_by_cutover.clone());
        tokio::spawn(async move {
            while let Ok((sock, _)) = listener.accept().await {
                count.fetch_add(1, Ordering::SeqCst);
                let closed = closed.clone();
                tokio::spawn(async move {
                    serve(sock, babble).await;
                    closed.fetch_add(1, Ordering::SeqCst);
                });
            }
        });
        RawNext {
            url,
            accepted,
            closed_by_cutover,
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    fn closed_by_cutover(&self) -> usize {
        self.closed_by_cutover.load(Ordering::SeqCst)
    }
}

/// Serves one connection until cutover closes it (read of 0 or an error).
async fn serve(mut sock: tokio::net::TcpStream, babble: bool) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    let mut answered = 0;
    loop {
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match sock.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(k) => head.extend_from_slice(&buf[..k]),
            }
        }
        head.clear();
        let answer = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
        if sock.write_all(answer).await.is_err() {
            return;
        }
        answered += 1;
        if babble && answered == 1 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let _ = sock.write_all(b"unasked").await;
        }
    }
}

fn config(next: &RawNext, rust: &Upstream, idle_timeout_ms: u64) -> ConfigDir {
    let toml = routes_toml(&next.url, &rust.url(), "", ROUTE).replacen(
        "read_timeout_ms = 1000",
        &format!("read_timeout_ms = 1000\nidle_timeout_ms = {idle_timeout_ms}"),
        1,
    );
    ConfigDir::new(&toml)
}

async fn get_ok(client: &reqwest::Client, cutover: &Cutover, what: &str) {
    let r = client
        .get(cutover.url("/api/chat/user-threads"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{what}: no answer, {e:?}\n{}", cutover.log()));
    let status = r.status().as_u16();
    let body = r.text().await.unwrap_or_default();
    assert_eq!((status, body.as_str()), (200, "ok"), "{what}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sequential_requests_reuse_one_connection_to_next() {
    let next = RawNext::start(false).await;
    let rust = Upstream::start("rust").await;
    let cfg = config(&next, &rust, 60_000);
    let cutover = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    for i in 0..30 {
        get_ok(&client, &cutover, &format!("request {i}")).await;
    }
    assert_eq!(next.accepted(), 1, "30 sequential requests, one connection");
    assert_eq!(next.closed_by_cutover(), 0);
}

/// One request, then cutover closes its pooled connection (`why`), then the
/// next request is served on a new one.
async fn closed_while_pooled_then_a_new_connection(babble: bool, idle_timeout_ms: u64, why: &str) {
    let next = RawNext::start(babble).await;
    let rust = Upstream::start("rust").await;
    let cfg = config(&next, &rust, idle_timeout_ms);
    let cutover = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    get_ok(&client, &cutover, "first").await;
    let closed = eventually(Duration::from_secs(10), || async {
        (next.closed_by_cutover() == 1).then_some(())
    })
    .await;
    assert!(closed.is_some(), "{why}: the pooled connection stayed open");
    get_ok(&client, &cutover, "after it was closed").await;
    assert_eq!(
        next.accepted(),
        2,
        "{why}: a new connection, not the closed one"
    );
    assert!(!cutover.log().contains("ERROR"), "{}", cutover.log());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_idle_pooled_connection_is_closed_at_the_idle_timeout() {
    closed_while_pooled_then_a_new_connection(false, 300, "idle past 300 ms").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pooled_connection_next_writes_on_unasked_is_closed_and_not_reused() {
    closed_while_pooled_then_a_new_connection(true, 60_000, "next wrote unasked").await;
}
