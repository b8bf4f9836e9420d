//! Flip under traffic (issue 5): a client sends messages and pages threads
//! without pause while `cutover flip` moves the routes next → rust → next.
//! Zero failed requests; every sent message is in the database exactly once;
//! a real pusher-js subscriber (see pusherjs.rs) receives every message's
//! `tenant-user-message` event exactly once through Soketi.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::creds::Creds;
use crate::harness::{APP_ID, APP_KEY, APP_SECRET, user};
use crate::pusherjs::PusherJs;
use crate::soketi::Soketi;
use crate::stack::{Side, Stack};

const FLIPPED: &[&str] = &["user-thread-messages", "user-threads"];
/// Sends answered by each phase's backend before the next flip.
const PER_PHASE: usize = 25;

#[derive(Default)]
struct Traffic {
    /// (clientMessageId, message id, backend) per successful send, in order.
    sent: Mutex<Vec<(String, String, String)>>,
    failures: Mutex<Vec<String>>,
    pages: Mutex<HashMap<String, usize>>,
}

impl Traffic {
    fn answered_by(&self, side: Side, after: usize) -> usize {
        let sent = self.sent.lock().expect("lock");
        sent.iter()
            .skip(after)
            .filter(|s| s.2 == side.as_str())
            .count()
    }
    fn fail(&self, what: String) {
        self.failures.lock().expect("lock").push(what);
    }
}

async fn send(
    client: &reqwest::Client,
    stack: &Stack,
    creds: &Creds,
    key: &str,
) -> Result<(String, String), String> {
    let req = client
        .post(stack.url("/api/chat/user-threads/th1/messages"))
        .json(&json!({"body": format!("under traffic {key}"), "clientMessageId": key}));
    let res = creds
        .apply(req, &user("u1"))
        .send()
        .await
        .map_err(|e| format!("send {key}: {e}"))?;
    let backend = res
        .headers()
        .get("x-cutover-backend")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    if status != 201 {
        return Err(format!("send {key}: {status} from {backend}: {text}"));
    }
    let v: Value = serde_json::from_str(&text).map_err(|e| format!("send {key}: {e}: {text}"))?;
    let id = v["message"]["id"]
        .as_str()
        .ok_or(format!("send {key}: no id: {text}"))?;
    Ok((id.to_owned(), backend))
}

/// Walk up to three pages of th1 as u2 (and list u2's threads); count by backend.
async fn page(client: &reqwest::Client, stack: &Stack, creds: &Creds, t: &Traffic) {
    let mut cursor: Option<String> = None;
    let mut seen = HashSet::new();
    for _ in 0..3 {
        let q = cursor
            .as_ref()
            .map_or(String::new(), |c| format!("&cursor={c}"));
        let req = client.get(stack.url(&format!("/api/chat/user-threads/th1/messages?limit=5{q}")));
        let res = match creds.apply(req, &user("u2")).send().await {
            Ok(r) => r,
            Err(e) => return t.fail(format!("page: {e}")),
        };
        let backend = res
            .headers()
            .get("x-cutover-backend")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned();
        let status = res.status().as_u16();
        let v: Value = res.json().await.unwrap_or(Value::Null);
        if status != 200 {
            return t.fail(format!("page: {status} from {backend}: {v}"));
        }
        *t.pages.lock().expect("lock").entry(backend).or_default() += 1;
        for m in v["messages"].as_array().into_iter().flatten() {
            if !seen.insert(m["id"].to_string()) {
                t.fail(format!("page: message {} twice in one walk", m["id"]));
            }
        }
        match v["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let req = client.get(stack.url("/api/chat/user-threads"));
    match creds.apply(req, &user("u2")).send().await {
        Ok(r) if r.status() == 200 => {}
        Ok(r) => t.fail(format!("threads: {}", r.status())),
        Err(e) => t.fail(format!("threads: {e}")),
    }
}

async fn flip_all(stack: &Stack, side: Side) {
    for route in FLIPPED {
        stack.flip(route, side).await;
    }
}

/// Wait (bounded) until `n` sends after `after` were answered by `side`.
async fn until_answered(t: &Traffic, side: Side, after: usize, n: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while t.answered_by(side, after) < n {
        let failures = t.failures.lock().expect("lock").clone();
        assert!(failures.is_empty(), "failed requests: {failures:#?}");
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} sends on {side:?} not within 60 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs node/npm (next build ~1 min the first time); run with --ignored"]
async fn flipping_next_rust_next_under_traffic_fails_no_request_and_loses_no_message_or_event() {
    let soketi = Soketi::start(APP_ID, APP_KEY, APP_SECRET).await;
    let stack = Stack::start(Side::Next, soketi.port, "").await;
    let creds = Arc::new(Creds::mint(&[user("u1"), user("u2")]));
    let cookie = creds.header(&user("u2")).1;
    let mut sub = PusherJs::subscribe(
        soketi.port,
        APP_KEY,
        &stack.url("/api/chat/realtime/auth"),
        &cookie,
        "presence-tenant.t1.thread.u1--u2",
        "tenant-user-message",
    )
    .await;

    let stack = Arc::new(stack);
    let t = Arc::new(Traffic::default());
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let (stack, creds, t, stop) = (stack.clone(), creds.clone(), t.clone(), stop.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut i = 0;
            while !stop.load(Ordering::Relaxed) {
                let key = format!("flip-{i}");
                match send(&client, &stack, &creds, &key).await {
                    Ok((id, backend)) => t.sent.lock().expect("lock").push((key, id, backend)),
                    Err(e) => t.fail(e),
                }
                i += 1;
            }
        })
    };
    let pager = {
        let (stack, creds, t, stop) = (stack.clone(), creds.clone(), t.clone(), stop.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            while !stop.load(Ordering::Relaxed) {
                page(&client, &stack, &creds, &t).await;
            }
        })
    };

    until_answered(&t, Side::Next, 0, PER_PHASE).await;
    flip_all(&stack, Side::Rust).await;
    let mark = t.sent.lock().expect("lock").len();
    until_answered(&t, Side::Rust, mark, PER_PHASE).await;
    flip_all(&stack, Side::Next).await;
    let mark = t.sent.lock().expect("lock").len();
    until_answered(&t, Side::Next, mark, PER_PHASE).await;
    stop.store(true, Ordering::Relaxed);
    sender.await.expect("sender task");
    pager.await.expect("pager task");

    let failures = t.failures.lock().expect("lock").clone();
    assert!(failures.is_empty(), "failed requests: {failures:#?}");
    let mut sent = t.sent.lock().expect("lock").clone();
    // The backends in order of answers: next, then rust, then next again.
    let mut phases: Vec<&str> = sent.iter().map(|s| s.2.as_str()).collect();
    phases.dedup();
    assert_eq!(
        phases,
        ["next", "rust", "next"],
        "sends were answered by {phases:?}"
    );
    let pages = t.pages.lock().expect("lock").clone();
    assert!(
        pages.get("rust").is_some_and(|n| *n > 0) && pages.get("next").is_some_and(|n| *n > 0),
        "pages: {pages:?}"
    );

    // A last message after all others: once its event is in, all earlier ones are.
    let (last_id, _) = send(&reqwest::Client::new(), &stack, &creds, "flip-last")
        .await
        .expect("last send");
    sent.push(("flip-last".into(), last_id.clone(), "next".into()));

    // Database: every key exactly once, with the id its response named.
    let rows: Vec<(String, String)> = sqlx::query_as(
        r#"SELECT "clientMessageId", "id"::text FROM "Message" WHERE "threadId" = 'th1' AND "clientMessageId" LIKE 'flip-%'"#,
    )
    .fetch_all(&stack.db.pool)
    .await
    .expect("query messages");
    let in_db: HashMap<String, String> = rows.iter().cloned().collect();
    assert_eq!(rows.len(), in_db.len(), "a clientMessageId stored twice");
    let expected: HashMap<String, String> =
        sent.iter().map(|s| (s.0.clone(), s.1.clone())).collect();
    assert_eq!(in_db, expected, "database differs from the answered sends");

    // Events: each message's event exactly once.
    let mut counts: HashMap<String, usize> = HashMap::new();
    loop {
        let line = sub
            .next()
            .await
            .expect("pusher-js delivered the last message's event within 20 s");
        let id = line["data"]["id"].as_str().unwrap_or("").to_owned();
        *counts.entry(id.clone()).or_default() += 1;
        if id == last_id {
            break;
        }
    }
    let wrong: Vec<_> = sent
        .iter()
        .filter(|s| counts.get(&s.1) != Some(&1))
        .map(|s| {
            format!(
                "{} ({}, answered by {}): received {} time(s)",
                s.0,
                s.1,
                s.2,
                counts.get(&s.1).unwrap_or(&0)
            )
        })
        .collect();
    assert!(
        wrong.is_empty(),
        "events not received exactly once:\n{}",
        wrong.join("\n")
    );
    assert_eq!(
        counts.len(),
        sent.len(),
        "events for messages nobody sent: {counts:?}"
    );
    let by_side = |side: &str| sent.iter().filter(|s| s.2 == side).count();
    eprintln!(
        "flip under traffic: {} sends (next {}, rust {}), pages {pages:?}, {} events received once each",
        sent.len(),
        by_side("next"),
        by_side("rust"),
        counts.len()
    );
}
