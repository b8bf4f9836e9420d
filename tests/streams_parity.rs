//! SSE streams through cutover with both real backends (issue 15): N chatbot
//! visitors (500; `STREAMS_CLIENTS` to change) each hold an SSE stream of
//! their conversation (token in `?token=`, as EventSource sends it) while
//! messages are written through next, then rust, then next again, and the
//! stream route flips next → rust with `streams = "migrate"` at 100/s. Every
//! client must receive every event of its conversation exactly once and in
//! order (resuming with `Last-Event-ID` after each reconnect), reconnect at
//! the pace (at most 100 + jitter in any second, however loaded the
//! machine), and end on rust (`cutover_open_streams{backend="rust"}` = N)
//! with proxy memory per stream bounded. A missing, bad or
//! expired `?token=` is a JSON 401 before any stream opens, on either side.
//! The client is a small Rust SSE client (`tests/streams/client.rs`).
//!
//! `cargo test --test streams_parity -- --ignored`

#[path = "streams/client.rs"]
mod client;
#[path = "parity/creds.rs"]
#[allow(dead_code)]
mod creds;
#[path = "e2e/support.rs"]
#[allow(dead_code)]
mod e2e;
#[path = "support/harness.rs"]
mod harness;
#[path = "support/legacy_next.rs"]
mod legacy_next;
#[path = "auth/mint.rs"]
#[allow(dead_code)]
mod mint;
#[path = "parity/stack.rs"]
#[allow(dead_code)]
mod stack;

use std::time::Duration;

use creds::Creds;
use harness::visitor;
use serde_json::{Value, json};
use stack::{Side, Stack};

const ROUTE: &str = "tenant-chatbot-stream";
const STREAM: &str = "/api/tenant-chatbot/conversations/c1/stream";

/// A chatbot token of the shipped issuer that expired a minute ago.
fn expired_token() -> String {
    let spec = json!({
        "kind": "jwt",
        "payload": {"sub": "v1", "tenantId": "t1", "exp": chrono::Utc::now().timestamp() - 60},
        "key": stack::CHATBOT_JWT_SECRET,
        "options": {"algorithm": "HS256", "issuer": "tenant-chatbot"}
    });
    mint::token(&tokio::task::block_in_place(|| mint::mint_one(spec)))
}

/// No token, a bad one, an expired one: each a JSON 401, no event stream.
async fn refused_before_the_stream(stack: &Stack, http: &reqwest::Client, expired: &str) {
    let queries = [
        "".to_string(),
        "?token=not-a-jwt".into(),
        format!("?token={expired}"),
    ];
    for q in queries {
        let res = http
            .get(stack.url(&format!("{STREAM}{q}")))
            .send()
            .await
            .unwrap();
        let kind = q.split('=').next().unwrap_or("").to_string();
        assert_eq!(res.status(), 401, "token {kind}");
        let ct = res.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with("application/json"), "{ct}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"], "unauthorized", "{body}");
    }
}

fn clients() -> usize {
    std::env::var("STREAMS_CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
}

/// A port nobody listens on: both backends' Pusher calls fail fast (streams
/// are recorded before the Pusher call and do not need Soketi).
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// One message per conversation, through cutover (whichever side the flag names).
async fn write_round(
    stack: &Stack,
    http: &reqwest::Client,
    creds: &Creds,
    convs: &[String],
    round: usize,
) {
    let mut sends = Vec::new();
    for (i, conv) in convs.iter().enumerate() {
        let req = http
            .post(stack.url(&format!(
                "/api/tenant-chatbot/conversations/{conv}/messages"
            )))
            .json(
                &json!({"body": format!("round {round}"), "clientMessageId": format!("r{round}")}),
            );
        let req = creds.apply(req, &visitor(&format!("sv{i}"), "t1"));
        sends.push(async move { req.send().await.map(|r| r.status().as_u16()) });
    }
    // 32 at a time: the writes are not what is under test.
    let statuses: Vec<_> = futures::StreamExt::collect(futures::StreamExt::buffer_unordered(
        futures::stream::iter(sends),
        32,
    ))
    .await;
    for status in statuses {
        assert_eq!(status.expect("send through cutover"), 201, "round {round}");
    }
}

/// The Next side's cap: the visitor's open stream plus 4 more, then a 429.
async fn sixth_stream_on_next_is_429(http: &reqwest::Client, url: &str) {
    let mut held = Vec::new();
    for _ in 0..4 {
        let res = http.get(url).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["x-cutover-backend"], "next");
        held.push(res);
    }
    let res = http.get(url).send().await.unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "5");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["reason"], "too_many_streams", "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "builds the Next app"]
async fn every_stream_gets_every_event_once_in_order_across_a_migrating_flip() {
    let n = clients();
    legacy_next::ensure_built().await;
    let stack = Stack::start(Side::Next, closed_port(), "").await;
    let ids: Vec<_> = (0..n).map(|i| visitor(&format!("sv{i}"), "t1")).collect();
    let creds = Creds::mint(&ids);
    let http = reqwest::Client::new();
    let expired = expired_token();
    refused_before_the_stream(&stack, &http, &expired).await;

    let mut convs = Vec::new();
    for who in &ids {
        let req = http
            .post(stack.url("/api/tenant-chatbot/conversations"))
            .json(&json!({}));
        let res = creds
            .apply(req, who)
            .send()
            .await
            .expect("start a conversation");
        assert_eq!(res.status(), 201);
        let v: Value = res.json().await.unwrap();
        convs.push(v["conversation"]["id"].as_str().unwrap().to_string());
    }

    let rss_before = stack.cutover.rss_kib();
    let mut progress = Vec::new();
    let mut first_url = String::new();
    for (i, conv) in convs.iter().enumerate() {
        let token = creds
            .header(&ids[i])
            .1
            .trim_start_matches("Bearer ")
            .to_string();
        let url = stack.url(&format!(
            "/api/tenant-chatbot/conversations/{conv}/stream?token={token}"
        ));
        if i == 0 {
            first_url = url.clone();
        }
        progress.push(client::spawn(url));
    }
    // The thread stream on next, with a session cookie: u1's send reaches u2.
    let (u1, u2) = (harness::user("u1"), harness::user("u2"));
    let session = Creds::mint(&[u1.clone(), u2.clone()]);
    let thread = client::spawn_with(
        stack.url("/api/chat/user-threads/th1/stream"),
        Some(session.header(&u2)),
    );
    let opened = e2e::eventually(Duration::from_secs(60), || async {
        progress.iter().all(|p| p.opened()).then_some(())
    })
    .await;
    assert!(opened.is_some(), "every stream opened");
    let rss_open = stack.cutover.rss_kib();
    assert!(progress.iter().all(|p| p.backend() == "next"));
    sixth_stream_on_next_is_429(&http, &first_url).await;
    let req = http
        .post(stack.url("/api/chat/user-threads/th1/messages"))
        .json(&json!({"body": "to Bob", "clientMessageId": "t1"}));
    assert_eq!(session.apply(req, &u1).send().await.unwrap().status(), 201);
    let got = e2e::eventually(Duration::from_secs(20), || async {
        thread.events().first().cloned()
    })
    .await
    .expect("the thread event on next");
    let (thread_id, thread_payload): (i64, String) = sqlx::query_as(
        r#"SELECT "id", "payload" FROM "stream_events" WHERE "channel" LIKE 'presence-tenant.t1.thread.%'"#,
    )
    .fetch_one(&stack.db.pool)
    .await
    .unwrap();
    assert_eq!(got, (thread_id, thread_payload));
    assert_eq!(thread.backend(), "next");

    write_round(&stack, &http, &creds, &convs, 1).await;
    stack.flip("tenant-chatbot", Side::Rust).await;
    let flipped_at = std::time::Instant::now();
    stack.flip(ROUTE, Side::Rust).await;
    write_round(&stack, &http, &creds, &convs, 2).await;
    write_round(&stack, &http, &creds, &convs, 3).await;
    stack.flip("tenant-chatbot", Side::Next).await;
    write_round(&stack, &http, &creds, &convs, 4).await;

    let mut expected = Vec::new();
    for conv in &convs {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            r#"SELECT "id", "payload" FROM "stream_events" WHERE "channel" = $1 ORDER BY "id""#,
        )
        .bind(format!("private-chatbot-{conv}"))
        .fetch_all(&stack.db.pool)
        .await
        .unwrap();
        assert_eq!(rows.len(), 4, "one event per round for {conv}");
        expected.push(rows);
    }
    let done = e2e::eventually(Duration::from_secs(60), || async {
        progress
            .iter()
            .zip(&expected)
            .all(|(p, want)| p.events().len() >= want.len() && p.backend() == "rust")
            .then_some(())
    })
    .await;
    let lagging: Vec<usize> = progress
        .iter()
        .zip(&expected)
        .enumerate()
        .filter(|(_, (p, want))| p.events().len() < want.len() || p.backend() != "rust")
        .map(|(i, _)| i)
        .collect();
    assert!(
        done.is_some(),
        "clients not complete or not on rust: {lagging:?}"
    );
    for (i, (p, want)) in progress.iter().zip(&expected).enumerate() {
        assert_eq!(&p.events(), want, "client {i}: exactly once, in order");
        assert!(
            p.connections() >= 2,
            "client {i} reconnected after the flip"
        );
    }
    paced_and_bounded(
        &progress,
        flipped_at,
        n,
        (rss_before, rss_open, stack.cutover.rss_kib()),
    );
    refused_before_the_stream(&stack, &http, &expired).await;
    let metrics = stack.cutover.metrics().await;
    let open: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("cutover_open_streams{") && l.contains(ROUTE))
        .collect();
    let on_rust = format!("cutover_open_streams{{backend=\"rust\",route=\"{ROUTE}\"}} {n}");
    assert!(open.contains(&on_rust.as_str()), "{open:?}");
}

/// The migration's reconnects keep the pace (cutover's gate lets at most
/// pace + 1 streams end in any second, however late the ends run: see
/// src/streams/waves.rs), all land within a few seconds of n/100 s (idle
/// streams are woken at their turn: vendored Pingora patch 5), and the
/// proxy's memory per open stream stays small.
fn paced_and_bounded(
    progress: &[client::Progress],
    flipped_at: std::time::Instant,
    n: usize,
    (before, open, end): (u64, u64, u64),
) {
    let since_flip = |times: Vec<std::time::Instant>| -> Vec<Duration> {
        let mut out: Vec<Duration> = times
            .into_iter()
            .skip(1)
            .filter(|t| *t > flipped_at)
            .map(|t| t - flipped_at)
            .collect();
        out.sort();
        out
    };
    let all = |f: fn(&client::Progress) -> Vec<std::time::Instant>| {
        let mut v: Vec<Duration> = progress.iter().flat_map(|p| since_flip(f(p))).collect();
        v.sort();
        v
    };
    // The reconnect is the client's new request (the rate the pace is
    // about); when it was answered also carries the backend's time to answer
    // under this load, printed for comparison.
    let reconnects = all(client::Progress::attempted_at);
    let answered = all(client::Progress::connected_at);
    let busiest = busiest_second(&reconnects);
    eprintln!(
        "reconnects per second after the flip (pace 100/s): {:?}, at most {busiest} in any second; answered per second: {:?}",
        per_second(&reconnects),
        per_second(&answered)
    );
    // Pace 100/s plus its jitter: the gate's + 1, the retry hint's spread
    // (up to one slot), and this test's own 2-thread client, which sends
    // the reconnects of a stall of its own together after it. Before the
    // gate, runs here saw 140 and 246 in one second.
    assert!(
        busiest <= 125,
        "{busiest} reconnects in one second at a pace of 100/s; per second after the flip: {:?}",
        per_second(&reconnects)
    );
    let last = reconnects.last().copied().unwrap_or_default();
    // n/100 s of slots, the longest retry hint, and slack for a loaded
    // 2-core machine (500 clients and both backends on it).
    let within = Duration::from_secs(n as u64 / 100 + 5);
    assert!(
        last <= within,
        "the last stream moved {last:?} after the flip (pace 100/s, {n} streams)"
    );
    let per_stream = open.saturating_sub(before) * 1024 / n as u64;
    assert!(
        per_stream <= 256 * 1024,
        "{per_stream} bytes of proxy RSS per open stream"
    );
    assert!(
        end <= open + (n as u64 * 256),
        "proxy RSS grew from {open} KiB with the streams open to {end} KiB after the flip"
    );
}

/// The most times inside any one-second window.
fn busiest_second(times: &[Duration]) -> usize {
    let window = Duration::from_secs(1);
    times
        .iter()
        .enumerate()
        .map(|(i, t)| times[i..].iter().take_while(|u| **u < *t + window).count())
        .max()
        .unwrap_or(0)
}

/// How many times fall in each whole second.
fn per_second(times: &[Duration]) -> Vec<usize> {
    (0..=times.last().map_or(0, |l| l.as_secs()))
        .map(|s| times.iter().filter(|t| t.as_secs() == s).count())
        .collect()
}
