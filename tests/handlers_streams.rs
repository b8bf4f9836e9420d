//! SSE streams through the router (`oneshot`, fresh database per test): events
//! written by a Rust handler and by a direct SQL append (what the Next app
//! does) both arrive with monotonic ids and Soketi's exact JSON text;
//! `Last-Event-ID` resumes exactly; a slow consumer is ended with `retry:`;
//! the per-identity cap answers 429 + `Retry-After`; access as the messages
//! route; heartbeats; a resume older than retention gets `event: reset`.

#[path = "support/harness.rs"]
mod harness;
#[path = "streams/reader.rs"]
mod reader;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use cutover::handlers::streams::StreamConfig;
use cutover::identity::Identity;
use harness::{App, user, visitor};
use http_body_util::BodyExt;
use reader::Stream;
use serde_json::{Value, json};
use tower::ServiceExt;

const CHATBOT: &str = "/api/tenant-chatbot/conversations/c1/stream";
const CHANNEL: &str = "private-chatbot-c1";
const DEADLINE: Duration = Duration::from_secs(10);

/// An app whose streams use `config`.
async fn app_with(config: StreamConfig) -> (App, Router) {
    let mut app = App::new().await;
    app.state = app.state.clone().with_streams(config);
    let router = cutover::handlers::router(app.state.clone());
    (app, router)
}

fn quick() -> StreamConfig {
    StreamConfig {
        heartbeat: Duration::from_secs(60),
        ..StreamConfig::default()
    }
}

async fn open(
    router: &Router,
    path: &str,
    who: Option<Identity>,
    headers: &[(&str, &str)],
) -> (StatusCode, axum::http::HeaderMap, Stream) {
    let mut req = Request::builder().uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut req = req.body(Body::empty()).unwrap();
    if let Some(id) = who {
        req.extensions_mut().insert(id);
    }
    let res = router.clone().oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    (
        parts.status,
        parts.headers,
        Stream {
            body,
            buf: String::new(),
        },
    )
}

async fn json_of(mut s: Stream) -> Value {
    let bytes = (&mut s.body).collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

/// Append one event as the Next app does (SQL, no Rust code involved).
async fn append(app: &App, channel: &str, payload: &str) -> i64 {
    let (id,): (i64,) = sqlx::query_as("SELECT stream_event_append($1, 'message.created', $2)")
        .bind(channel)
        .bind(payload)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    id
}

async fn send_as_v1(app: &App, router: &Router, key: &str) {
    let mut req = Request::builder()
        .method("POST")
        .uri("/api/tenant-chatbot/conversations/c1/messages")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"body": "hi", "clientMessageId": key}).to_string(),
        ))
        .unwrap();
    req.extensions_mut().insert(visitor("v1", "t1"));
    let res = router.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED, "{}", app.db.name);
}

#[tokio::test]
async fn events_from_a_rust_send_and_a_sql_append_both_arrive_in_id_order() {
    let (app, router) = app_with(quick()).await;
    let (status, headers, mut s) = open(&router, CHATBOT, Some(visitor("v1", "t1")), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(
        s.next().await.unwrap().id,
        Some(0),
        "first frame: the position"
    );

    send_as_v1(&app, &router, "k1").await;
    let next_style = append(&app, CHANNEL, r#"{"from":"next"}"#).await;

    let a = s.event().await;
    let b = s.event().await;
    assert_eq!(a.event.as_deref(), Some("message.created"));
    let soketi = app.recorder.events();
    assert_eq!(soketi.len(), 1);
    assert_eq!(
        a.data.as_deref(),
        Some(soketi[0].raw_data.as_str()),
        "Soketi's exact JSON text"
    );
    assert!(a.id.unwrap() < b.id.unwrap());
    assert_eq!(
        (b.id, b.data.as_deref()),
        (Some(next_style), Some(r#"{"from":"next"}"#))
    );
}

#[tokio::test]
async fn last_event_id_resumes_with_no_gap_and_no_duplicate() {
    let (app, router) = app_with(quick()).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(append(&app, CHANNEL, &format!("{{\"n\":{i}}}")).await);
    }
    append(&app, "private-chatbot-c2", "{}").await;
    let resume = ids[1].to_string();
    let (_, _, mut s) = open(
        &router,
        CHATBOT,
        Some(visitor("v1", "t1")),
        &[("last-event-id", &resume)],
    )
    .await;
    let mut got = Vec::new();
    for _ in 0..3 {
        got.push(s.event().await.id.unwrap());
    }
    let live = append(&app, CHANNEL, r#"{"n":5}"#).await;
    got.push(s.event().await.id.unwrap());
    assert_eq!(got, [ids[2], ids[3], ids[4], live]);

    let query = format!("{CHATBOT}?lastEventId={}", ids[3]);
    let (_, _, mut q) = open(&router, &query, Some(visitor("v1", "t1")), &[]).await;
    assert_eq!(q.event().await.id, Some(ids[4]));
    assert_eq!(q.event().await.id, Some(live));
}

#[tokio::test]
async fn slow_consumer_is_ended_with_retry_and_resumes_exactly() {
    let (app, router) = app_with(StreamConfig {
        buffer: 4,
        ..quick()
    })
    .await;
    let (_, _, mut slow) = open(&router, CHATBOT, Some(visitor("v1", "t1")), &[]).await;
    let start = slow.next().await.unwrap().id.unwrap();
    let mut last = 0;
    for i in 0..20 {
        last = append(&app, CHANNEL, &format!("{{\"n\":{i}}}")).await;
    }
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while app.state.streams.dispatched_through(CHANNEL).await != Some(last) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "hub dispatched everything"
        );
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut seen = start;
    let ended = loop {
        match slow.next().await {
            Some(f) if f.retry.is_some() => break f,
            Some(f) => seen = f.id.unwrap_or(seen),
            None => panic!("ended without retry"),
        }
    };
    assert_eq!(ended.retry, Some(1000));
    assert!(slow.next().await.is_none(), "the stream ends after retry:");
    let (_, _, mut again) = open(
        &router,
        CHATBOT,
        Some(visitor("v1", "t1")),
        &[("last-event-id", &seen.to_string())],
    )
    .await;
    let mut id = seen;
    while id < last {
        let next = again.event().await.id.unwrap();
        assert!(next > id);
        id = next;
    }
    assert_eq!(id, last);
}

#[tokio::test]
async fn streams_over_the_per_identity_cap_get_429_with_retry_after() {
    let (_app, router) = app_with(StreamConfig {
        per_identity: 2,
        retry_after_secs: 7,
        ..quick()
    })
    .await;
    let who = || Some(visitor("v1", "t1"));
    let (_, _, first) = open(&router, CHATBOT, who(), &[]).await;
    let (_, _, _second) = open(&router, CHATBOT, who(), &[]).await;
    let (status, headers, third) = open(&router, CHATBOT, who(), &[]).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(headers["retry-after"], "7");
    assert_eq!(
        json_of(third).await,
        json!({"error": "rate_limited", "reason": "too_many_streams", "limit": 2, "retry_after": 7})
    );
    let (other, _, _) = open(
        &router,
        "/api/tenant-chatbot/conversations/c2/stream",
        Some(visitor("v2", "t1")),
        &[],
    )
    .await;
    assert_eq!(other, StatusCode::OK, "another identity has its own slots");
    drop(first);
    let (again, _, _) = open(&router, CHATBOT, who(), &[]).await;
    assert_eq!(again, StatusCode::OK, "a closed stream frees its slot");
}

#[tokio::test]
async fn stream_access_answers_like_the_messages_route() {
    let (app, router) = app_with(quick()).await;
    let cases: [(&str, Option<Identity>); 6] = [
        ("/api/tenant-chatbot/conversations/c1", None),
        (
            "/api/tenant-chatbot/conversations/c1",
            Some(visitor("v2", "t1")),
        ),
        ("/api/tenant-chatbot/conversations/c1", Some(user("u1"))),
        ("/api/chat/user-threads/th1", None),
        ("/api/chat/user-threads/th1", Some(user("u3"))),
        ("/api/chat/user-threads/th1", Some(visitor("v1", "t1"))),
    ];
    for (base, who) in cases {
        let (want_status, want_body) = app
            .call("GET", &format!("{base}/messages"), who.clone(), None)
            .await;
        assert!(want_status.is_client_error(), "{base}: {want_status}");
        let (status, _, s) = open(&router, &format!("{base}/stream"), who, &[]).await;
        assert_eq!(
            (status, json_of(s).await),
            (want_status, want_body),
            "{base}"
        );
    }
    let (status, _, s) = open(
        &router,
        CHATBOT,
        Some(visitor("v1", "t1")),
        &[("last-event-id", "x")],
    )
    .await;
    assert_eq!(
        (status, json_of(s).await),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "validation_failed", "reason": "invalid_last_event_id"})
        )
    );
}

#[tokio::test]
async fn thread_stream_carries_the_thread_channels_events() {
    let (app, router) = app_with(quick()).await;
    let (status, _, mut s) = open(
        &router,
        "/api/chat/user-threads/th1/stream",
        Some(user("u2")),
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    s.next().await.unwrap();
    let (sent, _) = app
        .call_with(
            "POST",
            "/api/chat/user-threads/th1/messages",
            Some(user("u1")),
            Some(json!({"body": "hello", "clientMessageId": "k1"})),
            &[],
        )
        .await;
    assert_eq!(sent, StatusCode::CREATED);
    let e = s.event().await;
    let soketi = app.recorder.events();
    assert_eq!(e.event.as_deref(), Some("tenant-user-message"));
    assert_eq!(e.data.as_deref(), Some(soketi[0].raw_data.as_str()));
}

#[tokio::test]
async fn silence_is_broken_by_a_heartbeat_comment() {
    let (_app, router) = app_with(StreamConfig {
        heartbeat: Duration::from_millis(50),
        ..StreamConfig::default()
    })
    .await;
    let (_, _, mut s) = open(&router, CHATBOT, Some(visitor("v1", "t1")), &[]).await;
    s.next().await.unwrap();
    assert_eq!(s.next().await.unwrap().comment.as_deref(), Some("hb"));
    assert_eq!(s.next().await.unwrap().comment.as_deref(), Some("hb"));
}

#[tokio::test]
async fn resume_older_than_retention_starts_with_a_reset() {
    let (app, router) = app_with(quick()).await;
    let old = append(&app, CHANNEL, r#"{"n":0}"#).await;
    let gone = append(&app, CHANNEL, r#"{"n":1}"#).await;
    let pruned = cutover::store::stream_events::prune(&app.db.pool, 0)
        .await
        .unwrap();
    assert_eq!(pruned, 2);
    let kept = append(&app, CHANNEL, r#"{"n":2}"#).await;
    let (_, _, mut s) = open(
        &router,
        CHATBOT,
        Some(visitor("v1", "t1")),
        &[("last-event-id", &old.to_string())],
    )
    .await;
    let reset = s.next().await.unwrap();
    assert_eq!(
        (reset.id, reset.event.as_deref(), reset.data.as_deref()),
        (Some(kept), Some("reset"), Some("{}"))
    );
    let (_, _, mut fine) = open(
        &router,
        CHATBOT,
        Some(visitor("v1", "t1")),
        &[("last-event-id", &gone.to_string())],
    )
    .await;
    assert_eq!(
        fine.event().await.id,
        Some(kept),
        "a resume at the horizon is not a gap"
    );
}
