//! Scheduled messages: create, list, cancel through the router, and the
//! dispatcher sending each due message exactly once with two dispatchers
//! (two pools, as two cutover processes) racing.

#[path = "support/harness.rs"]
mod harness;

use axum::http::StatusCode;
use chrono::{TimeZone, Utc};
use cutover::handlers::dispatch_due;
use harness::{App, TestDb, user};
use serde_json::json;

async fn schedule(
    app: &App,
    who: &str,
    body: &str,
    send_at: &str,
) -> (StatusCode, serde_json::Value) {
    app.call(
        "POST",
        "/api/chat/user-threads/th1/scheduled",
        Some(user(who)),
        Some(json!({"body": body, "sendAt": send_at})),
    )
    .await
}

#[tokio::test]
async fn scheduled_message_is_created_listed_and_cancelled() {
    let app = App::new().await;
    let (status, created) = schedule(&app, "u1", "later", "2030-01-01T10:00:00.1239+02:00").await;
    assert_eq!(status, StatusCode::CREATED);
    let s = &created["scheduledMessage"];
    assert_eq!(
        (s["status"].as_str(), s["sendAt"].as_str()),
        (Some("pending"), Some("2030-01-01T08:00:00.123Z"))
    );
    assert_eq!(s["messageId"], serde_json::Value::Null);

    let (_, list) = app
        .call(
            "GET",
            "/api/chat/user-threads/th1/scheduled",
            Some(user("u1")),
            None,
        )
        .await;
    assert_eq!(list["scheduledMessages"].as_array().unwrap().len(), 1);
    let (_, others) = app
        .call(
            "GET",
            "/api/chat/user-threads/th1/scheduled",
            Some(user("u2")),
            None,
        )
        .await;
    assert_eq!(others["scheduledMessages"], json!([]));

    let path = format!(
        "/api/chat/user-threads/th1/scheduled/{}",
        s["id"].as_str().unwrap()
    );
    let (status, _) = app.call("DELETE", &path, Some(user("u2")), None).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "someone else's scheduled message"
    );
    let (status, cancelled) = app.call("DELETE", &path, Some(user("u1")), None).await;
    assert_eq!(
        (status, cancelled["scheduledMessage"]["status"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    let (status, again) = app.call("DELETE", &path, Some(user("u1")), None).await;
    assert_eq!(
        (status, again),
        (
            StatusCode::CONFLICT,
            json!({"error": "conflict", "reason": "scheduled_not_pending"})
        )
    );
}

#[tokio::test]
async fn unparsable_send_at_is_400() {
    let app = App::new().await;
    let (status, err) = schedule(&app, "u1", "x", "tomorrow").await;
    assert_eq!(
        (status, err),
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "validation_failed", "reason": "invalid_send_at"})
        )
    );
}

#[tokio::test]
async fn dispatcher_sends_only_due_messages_and_broadcasts_them() {
    let app = App::new().await;
    let (_, due) = schedule(&app, "u1", "due", "2026-01-01T00:00:00Z").await;
    schedule(&app, "u1", "future", "2026-06-01T00:00:00Z").await;
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    assert_eq!(
        dispatch_due(&app.db.pool, &app.state.pusher, now)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        dispatch_due(&app.db.pool, &app.state.pusher, now)
            .await
            .unwrap(),
        0
    );
    let events = app.recorder.events();
    assert_eq!(events.len(), 2);
    assert_eq!(
        (events[0].channel.as_str(), events[0].name.as_str()),
        ("presence-tenant.t1.thread.u1--u2", "tenant-user-message")
    );
    assert_eq!(events[0].data["content"], "due");
    let message_id = events[0].data["id"].clone();
    let (_, page) = app
        .call(
            "GET",
            "/api/chat/user-threads/th1/messages",
            Some(user("u1")),
            None,
        )
        .await;
    assert_eq!(page["messages"][0]["id"], message_id);
    assert!(
        page["messages"][0]["clientMessageId"]
            .as_str()
            .unwrap()
            .starts_with("scheduled:")
    );
    let id = &due["scheduledMessage"]["id"];
    assert_eq!(
        (events[1].channel.as_str(), events[1].name.as_str()),
        ("private-scheduled.t1.u1", "scheduled-message-update")
    );
    assert_eq!(
        events[1].data,
        json!({"scheduledMessageId": id, "contactId": "u2", "contactKey": "u1--u2", "id": id,
               "scheduledAt": "2026-01-01T00:00:00.000Z", "status": "sent",
               "sentAt": events[0].data["createdAt"], "content": "due", "targetType": "user-thread"})
    );
}

#[tokio::test]
async fn two_dispatchers_send_each_due_message_exactly_once() {
    let app = App::new().await;
    for i in 0..120 {
        schedule(
            &app,
            if i % 2 == 0 { "u1" } else { "u2" },
            &format!("s{i}"),
            "2026-01-01T00:00:00Z",
        )
        .await;
    }
    let other_process = TestDb::connect(&app.db.name).await;
    let now = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
    let (a, b) = tokio::join!(
        dispatch_due(&app.db.pool, &app.state.pusher, now),
        dispatch_due(&other_process, &app.state.pusher, now),
    );
    assert_eq!(a.unwrap() + b.unwrap(), 120);
    assert_eq!(app.count(r#"SELECT count(*) FROM "Message""#).await, 120);
    assert_eq!(
        app.count(r#"SELECT count(DISTINCT "body") FROM "Message""#)
            .await,
        120
    );
    assert_eq!(
        app.count(r#"SELECT count(*) FROM "ScheduledMessage" WHERE "status" = 'sent'"#)
            .await,
        120
    );
    // Each sent once: one message and one scheduled update per row.
    assert_eq!(app.recorder.events().len(), 240);
    other_process.close().await;
}
