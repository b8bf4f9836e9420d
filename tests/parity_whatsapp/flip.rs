//! WhatsApp under change: the same send reaching next and rust at once, the
//! worker and the admin carrying on while every WhatsApp route flips, and a
//! 200 MB media file from either side.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};

use crate::harness::{APP_ID, APP_KEY, APP_SECRET, Recorder, user};
use crate::legacy_next::IDENTITY_KEY;
use crate::relay::Relay;
use crate::soketi::Soketi;
use crate::stack::Side;
use crate::wa_stack::{WaStack, creds, run_worker};

/// Every WhatsApp route of the shipped routes.toml.
const ROUTES: &[&str] = &[
    "whatsapp-sessions",
    "whatsapp-connect",
    "whatsapp-disconnect",
    "whatsapp-status",
    "whatsapp-contacts",
    "whatsapp-contacts-mark-read",
    "whatsapp-messages",
    "whatsapp-send",
    "whatsapp-analytics",
    "whatsapp-media",
    "whatsapp-worker-sessions",
    "whatsapp-worker-events",
    "whatsapp-worker-outbox",
];

fn port_of(url: &str) -> u16 {
    url.rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("url ends with :port")
}

async fn session(stack: &WaStack, id: &str, status: &str) {
    sqlx::query(
        r#"INSERT INTO whatsapp_sessions ("sessionId", "tenantId", "name", "status")
           VALUES ($1, 't1', 'Flip', $2::text::"WhatsAppSessionStatus")"#,
    )
    .bind(id)
    .bind(status)
    .execute(&stack.stack.db.pool)
    .await
    .unwrap();
}

async fn count(stack: &WaStack, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&stack.stack.db.pool)
        .await
        .unwrap()
}

pub async fn duplicate_sends_across_backends() {
    let (recorder, url) = Recorder::start().await;
    let stack = WaStack::start(Side::Rust, port_of(&url)).await;
    session(&stack, "wa-dup", "CONNECTED").await;
    let creds = creds();
    let (name, cookie) = creds.header(&user("u1"));
    let body = json!({"sessionId": "wa-dup", "toJid": "4915111111@s.whatsapp.net", "content": "once", "clientMessageId": "dup-1"});
    let client = reqwest::Client::new();
    // Straight to next with the identity headers cutover would add.
    let key = cutover::identity::IdentityKey::new(IDENTITY_KEY).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let to_next = cutover::identity::SignedRequest {
        audience: cutover::identity::Audience::Next,
        method: "POST",
        target: "/api/whatsapp/chat-messages",
    };
    let signed = cutover::identity::identity_headers(&user("u1"), &key, &to_next, now);
    let next_url = format!("{}/api/whatsapp/chat-messages", stack.stack._next.base_url);
    let calls = (0..16).map(|i| {
        let mut req = if i % 2 == 0 {
            client
                .post(stack.stack.url("/api/whatsapp/chat-messages"))
                .header(name, cookie.clone())
        } else {
            signed
                .iter()
                .fold(client.post(&next_url), |r, (k, v)| r.header(*k, v))
        };
        req = req.json(&body);
        async move {
            let res = req.send().await.unwrap();
            let backend = res
                .headers()
                .get("x-cutover-backend")
                .map(|v| v.to_str().unwrap().to_owned());
            (
                res.status().as_u16(),
                backend,
                res.json::<Value>().await.unwrap(),
            )
        }
    });
    let answers = futures::future::join_all(calls).await;
    let first = answers[0].2["outboxId"].clone();
    for (i, (status, backend, body)) in answers.iter().enumerate() {
        assert_eq!(
            (*status, &body["outboxId"]),
            (200, &first),
            "call {i}: {body}"
        );
        if i % 2 == 0 {
            assert_eq!(backend.as_deref(), Some("rust"));
        }
    }
    assert_eq!(
        count(&stack, "SELECT count(*) FROM whatsapp_outbox").await,
        1
    );
    let summary = run_worker(
        &stack.stack.url(""),
        stack.media_root(),
        &[
            "--session",
            "wa-dup",
            "--mode",
            "outbox",
            "--duration-ms",
            "1500",
        ],
    )
    .await;
    assert_eq!(summary["outboxSent"], 1, "{summary}");
    assert_eq!(
        count(
            &stack,
            r#"SELECT count(*) FROM whatsapp_messages WHERE "content" = 'once'"#
        )
        .await,
        1
    );
    let sent = recorder
        .events()
        .iter()
        .filter(|e| e.name == "message.sent")
        .count();
    assert_eq!(
        sent, 2,
        "one message.sent, on the public and the private channel"
    );
}

/// Sends unique (and some retried) messages until `stop`; returns
/// (client ids sent, failures).
async fn sender(
    url: String,
    cookie: (&'static str, String),
    stop: Arc<AtomicBool>,
) -> (Vec<String>, Vec<String>) {
    let client = reqwest::Client::new();
    let (mut ids, mut failures) = (Vec::new(), Vec::new());
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let id = format!("flip-{n}");
        for attempt in 0..(1 + usize::from(n % 4 == 0)) {
            let body = json!({"sessionId": "wa-main", "toJid": "4915111111@s.whatsapp.net", "content": format!("m{n}"), "clientMessageId": id});
            match client
                .post(&url)
                .header(cookie.0, &cookie.1)
                .json(&body)
                .send()
                .await
            {
                Ok(r) if r.status() == 200 => {}
                Ok(r) => failures.push(format!(
                    "{id} #{attempt}: {} {}",
                    r.status(),
                    r.text().await.unwrap_or_default()
                )),
                Err(e) => failures.push(format!("{id} #{attempt}: {e}")),
            }
        }
        ids.push(id);
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    (ids, failures)
}

/// Reads the admin UI's views until `stop`; returns failures.
async fn reader(
    base: String,
    cookie: (&'static str, String),
    stop: Arc<AtomicBool>,
) -> Vec<String> {
    let client = reqwest::Client::new();
    let mut failures = Vec::new();
    let paths = [
        "/api/whatsapp/status?sessionId=wa-main",
        "/api/whatsapp/messages?sessionId=wa-main&limit=20",
        "/api/whatsapp/contacts?sessionId=wa-main",
        "/api/whatsapp/sessions",
    ];
    let mut i = 0;
    while !stop.load(Ordering::Relaxed) {
        let path = paths[i % paths.len()];
        i += 1;
        match client
            .get(format!("{base}{path}"))
            .header(cookie.0, &cookie.1)
            .send()
            .await
        {
            Ok(r) if r.status() == 200 => {}
            Ok(r) => failures.push(format!("{path}: {}", r.status())),
            Err(e) => failures.push(format!("{path}: {e}")),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    failures
}

pub async fn flip_under_traffic() {
    let soketi = Soketi::start(APP_ID, APP_KEY, APP_SECRET).await;
    let relay = Relay::start(&soketi.http_url()).await;
    let stack = WaStack::start(Side::Next, relay.port).await;
    session(&stack, "wa-main", "CONNECTING").await;
    let creds = creds();
    let cookie = creds.header(&user("u1"));
    let stop = Arc::new(AtomicBool::new(false));
    let flips = Arc::new(AtomicUsize::new(0));
    let send = tokio::spawn(sender(
        stack.stack.url("/api/whatsapp/chat-messages"),
        cookie.clone(),
        stop.clone(),
    ));
    let read = tokio::spawn(reader(stack.stack.url(""), cookie.clone(), stop.clone()));
    let flipper = {
        let (stop, flips) = (stop.clone(), flips.clone());
        let flags = stack.stack.cfg.flags();
        async move {
            let mut side = Side::Rust;
            while !stop.load(Ordering::Relaxed) {
                for route in ROUTES {
                    let tmp = flags.join(format!(".{route}.swp"));
                    std::fs::write(&tmp, format!("backend = \"{}\"\n", side.as_str())).unwrap();
                    std::fs::rename(&tmp, flags.join(format!("{route}.toml"))).unwrap();
                }
                flips.fetch_add(1, Ordering::Relaxed);
                side = if side == Side::Rust {
                    Side::Next
                } else {
                    Side::Rust
                };
                tokio::time::sleep(Duration::from_millis(700)).await;
            }
        }
    };
    let flipping = tokio::spawn(flipper);
    let soak = run_worker(
        &stack.stack.url(""),
        stack.media_root(),
        &[
            "--session",
            "wa-main",
            "--mode",
            "soak",
            "--duration-ms",
            "15000",
            "--messages",
            "60",
            "--batch-size",
            "15",
        ],
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    let (ids, send_failures) = send.await.unwrap();
    let read_failures = read.await.unwrap();
    flipping.await.unwrap();

    // A claim whose answer was lost in a flip is reclaimed when its lease
    // runs out; expire the leases instead of waiting for them.
    sqlx::query(r#"UPDATE whatsapp_outbox SET "leaseUntil" = now() - interval '1 second' WHERE "status" = 'claimed'"#)
        .execute(&stack.stack.db.pool)
        .await
        .unwrap();
    let drain = run_worker(
        &stack.stack.url(""),
        stack.media_root(),
        &[
            "--session",
            "wa-main",
            "--mode",
            "outbox",
            "--duration-ms",
            "4000",
        ],
    )
    .await;

    assert!(
        flips.load(Ordering::Relaxed) >= 15,
        "flipped {} times",
        flips.load(Ordering::Relaxed)
    );
    // The worker retries; cutover's own count shows whether it had to.
    let metrics = stack.stack.cutover.metrics().await;
    let errors: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("cutover_requests_total{") && l.contains("route=\"whatsapp-"))
        .filter(|l| l.contains("status_class=\"5xx\"") && !l.ends_with(" 0"))
        .collect();
    assert!(errors.is_empty(), "5xx answers during flips: {errors:#?}");
    let answered = metrics
        .lines()
        .filter(|l| {
            l.starts_with("cutover_requests_total{")
                && l.contains("route=\"whatsapp-worker-events\"")
        })
        .count();
    assert!(
        answered >= 2,
        "worker events reached both backends: {answered} series"
    );
    assert_eq!(
        soak["failures"],
        json!([]),
        "worker requests failed during flips"
    );
    assert_eq!(drain["failures"], json!([]), "worker drain failed");
    assert!(
        send_failures.is_empty(),
        "sends failed during flips: {send_failures:#?}"
    );
    assert!(
        read_failures.is_empty(),
        "reads failed during flips: {read_failures:#?}"
    );
    assert!(ids.len() >= 100, "only {} sends", ids.len());

    // Every acknowledged send is queued once, sent once, stored once.
    let outbox: Vec<(String, String, String)> =
        sqlx::query_as(r#"SELECT "clientMessageId", "status", "waMessageId" FROM whatsapp_outbox"#)
            .fetch_all(&stack.stack.db.pool)
            .await
            .unwrap();
    assert_eq!(outbox.len(), ids.len(), "one outbox row per client id");
    let unsent: Vec<_> = outbox.iter().filter(|o| o.1 != "sent").collect();
    assert!(unsent.is_empty(), "not sent: {unsent:?}");
    let stored = count(&stack, r#"SELECT count(*) FROM whatsapp_messages m JOIN whatsapp_outbox o ON o."waMessageId" = m."messageId" AND o."sessionId" = m."sessionId""#).await;
    assert_eq!(stored as usize, ids.len(), "each send stored once");

    // No event twice: one message.sent per send, one message.received per row.
    let mut sent: HashMap<String, usize> = HashMap::new();
    let mut received: HashMap<String, usize> = HashMap::new();
    for e in relay
        .sent()
        .iter()
        .filter(|e| e.channel == "private-whatsapp.wa-main")
    {
        let data: Value = serde_json::from_str(&e.data).unwrap();
        match e.name.as_str() {
            "message.sent" => {
                *sent
                    .entry(data["clientMessageId"].as_str().unwrap().to_owned())
                    .or_default() += 1
            }
            "message.received" => {
                *received
                    .entry(data["messageId"].as_str().unwrap().to_owned())
                    .or_default() += 1
            }
            _ => {}
        }
    }
    assert_eq!(sent.len(), ids.len(), "a message.sent for every send");
    assert!(sent.values().all(|n| *n == 1), "a send announced twice");
    assert!(
        received.values().all(|n| *n == 1),
        "a message announced twice"
    );
    let rows = count(
        &stack,
        r#"SELECT count(*) FROM whatsapp_messages WHERE "sessionId" = 'wa-main'"#,
    )
    .await;
    assert_eq!(
        received.len() as i64,
        rows,
        "every stored message announced once"
    );
    assert!(rows > 100, "the worker's messages arrived: {rows}");
}

/// Peak resident memory (VmHWM) of the Next server, in KiB.
fn next_peak_rss_kib(stack: &WaStack) -> u64 {
    let pid = stack.stack._next.pid().expect("next is running");
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("next's /proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

pub async fn big_media() {
    const SIZE: u64 = 200 * 1024 * 1024;
    let (_recorder, url) = Recorder::start().await;
    let stack = WaStack::start(Side::Next, port_of(&url)).await;
    session(&stack, "wa-big", "CONNECTED").await;
    std::fs::create_dir_all(stack.media_root().join("wa-big")).unwrap();
    let file = std::fs::File::create(stack.media_root().join("wa-big/big.bin")).unwrap();
    file.set_len(SIZE).unwrap();
    sqlx::query(
        r#"INSERT INTO whatsapp_messages ("id", "sessionId", "messageId", "remoteJid", "messageType", "status",
             "mediaUrl", "mediaMimeType", "mediaSize", "timestamp")
           VALUES ('big', 'wa-big', 'BIG', '4915111111@s.whatsapp.net', 'VIDEO', 'DELIVERED',
                   'wa-big/big.bin', 'video/mp4', $1, now())"#,
    )
    .bind(SIZE as i32)
    .execute(&stack.stack.db.pool)
    .await
    .unwrap();
    let creds = creds();
    let (name, cookie) = creds.header(&user("u1"));
    let client = reqwest::Client::new();
    let url = stack.stack.url("/api/whatsapp/media/big");
    for side in [Side::Next, Side::Rust] {
        stack.stack.cfg.write_flag(
            "whatsapp-media",
            &format!("backend = \"{}\"\n", side.as_str()),
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let r = client
                .get(&url)
                .header(name, &cookie)
                .header("range", "bytes=0-0")
                .send()
                .await
                .unwrap();
            if r.headers()
                .get("x-cutover-backend")
                .is_some_and(|b| b == side.as_str())
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "flag to {} not applied",
                side.as_str()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let before = stack.stack.cutover.peak_rss_kib();
        let next_before = next_peak_rss_kib(&stack);
        let res = client.get(&url).header(name, &cookie).send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-length"], SIZE.to_string().as_str());
        let mut got = 0u64;
        let mut body = res.bytes_stream();
        while let Some(chunk) = body.next().await {
            got += chunk.unwrap().len() as u64;
        }
        assert_eq!(got, SIZE, "{}", side.as_str());
        let after = stack.stack.cutover.peak_rss_kib();
        assert!(
            after - before < 64 * 1024,
            "{}: cutover's peak RSS grew from {before} KiB to {after} KiB",
            side.as_str()
        );
        if side == Side::Next {
            // Next streams it too (a garbage-collected heap: a wider margin,
            // still far below the file's 200 MB).
            let next_after = next_peak_rss_kib(&stack);
            assert!(
                next_after - next_before < 100 * 1024,
                "next's peak RSS grew from {next_before} KiB to {next_after} KiB"
            );
        }
    }
}
