//! User-thread routes through the router (`oneshot`, fresh database per
//! test): list, idempotent send (also under concurrent retries), cursor paging
//! under concurrent inserts, receipts, typing, shadow dry-run, validation.

#[path = "support/harness.rs"]
mod harness;

use std::collections::HashSet;

use axum::http::StatusCode;
use harness::{App, user, visitor};
use serde_json::{Value, json};

async fn send(app: &App, who: &str, thread: &str, body: &str, key: &str) -> (StatusCode, Value) {
    let path = format!("/api/chat/user-threads/{thread}/messages");
    app.call(
        "POST",
        &path,
        Some(user(who)),
        Some(json!({"body": body, "clientMessageId": key})),
    )
    .await
}

#[tokio::test]
async fn send_creates_the_message_and_broadcasts_it() {
    let app = App::new().await;
    let (status, body) = send(&app, "u1", "th1", "hello", "k1").await;
    assert_eq!(status, StatusCode::CREATED);
    let message = &body["message"];
    assert_eq!(
        (message["threadId"].as_str(), message["senderId"].as_str()),
        (Some("th1"), Some("u1"))
    );
    assert_eq!(
        (
            message["body"].as_str(),
            message["clientMessageId"].as_str()
        ),
        (Some("hello"), Some("k1"))
    );
    let events = app.recorder.events();
    assert_eq!(events.len(), 1);
    assert_eq!(
        (events[0].channel.as_str(), events[0].name.as_str()),
        ("presence-tenant.t1.thread.u1--u2", "tenant-user-message")
    );
    assert_eq!(
        events[0].data,
        json!({"id": message["id"], "tenantId": "t1", "threadKey": "u1--u2", "senderId": "u1",
               "recipientId": "u2", "content": "hello", "createdAt": message["createdAt"]})
    );
    assert!(events[0].raw_data.starts_with(r#"{"id":""#));
}

#[tokio::test]
async fn group_thread_events_use_the_group_key_and_no_recipient() {
    let app = App::new().await;
    sqlx::query(r#"INSERT INTO "ThreadParticipant" ("threadId", "userId") VALUES ('th2', 'u1')"#)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (status, _) = send(&app, "u1", "th2", "all of us", "g1").await;
    assert_eq!(status, StatusCode::CREATED);
    let events = app.recorder.events();
    assert_eq!(events[0].channel, "presence-tenant.t1.thread.group-th2");
    assert_eq!(events[0].data["threadKey"], "group-th2");
    assert_eq!(events[0].data["recipientId"], serde_json::Value::Null);
}

#[tokio::test]
async fn retried_send_returns_the_first_message_without_a_second_row_or_event() {
    let app = App::new().await;
    let (_, first) = send(&app, "u1", "th1", "hello", "k1").await;
    let (status, again) = send(&app, "u1", "th1", "hello (edited retry)", "k1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, first);
    assert_eq!(app.count(r#"SELECT count(*) FROM "Message""#).await, 1);
    assert_eq!(app.recorder.events().len(), 1);
}

#[tokio::test]
async fn concurrent_retries_of_one_send_create_exactly_one_row() {
    let app = App::new().await;
    let tries = (0..16).map(|_| send(&app, "u1", "th1", "race", "same-key"));
    let results = futures::future::join_all(tries).await;
    let ids: HashSet<_> = results
        .iter()
        .map(|(_, b)| b["message"]["id"].clone())
        .collect();
    assert_eq!(ids.len(), 1, "every retry answers the same message");
    let created = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1);
    assert!(
        results
            .iter()
            .all(|(s, _)| *s == StatusCode::CREATED || *s == StatusCode::OK)
    );
    assert_eq!(app.count(r#"SELECT count(*) FROM "Message""#).await, 1);
    assert_eq!(app.recorder.events().len(), 1);
}

#[tokio::test]
async fn same_client_message_id_from_another_sender_is_a_new_message() {
    let app = App::new().await;
    send(&app, "u1", "th1", "a", "k").await;
    let (status, _) = send(&app, "u2", "th1", "b", "k").await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn paging_under_concurrent_inserts_has_no_duplicates_and_no_gaps() {
    let app = App::new().await;
    let mut seeded = HashSet::new();
    for i in 0..45 {
        let (_, b) = send(
            &app,
            if i % 2 == 0 { "u1" } else { "u2" },
            "th1",
            &format!("m{i}"),
            &format!("k{i}"),
        )
        .await;
        seeded.insert(b["message"]["id"].as_str().unwrap().to_owned());
    }
    let writer = async {
        for i in 0..30 {
            send(&app, "u2", "th1", &format!("late{i}"), &format!("late{i}")).await;
            tokio::task::yield_now().await;
        }
    };
    let reader = async {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let path = match &cursor {
                Some(c) => format!("/api/chat/user-threads/th1/messages?limit=7&cursor={c}"),
                None => "/api/chat/user-threads/th1/messages?limit=7".to_owned(),
            };
            let (status, page) = app.call("GET", &path, Some(user("u1")), None).await;
            assert_eq!(status, StatusCode::OK);
            for m in page["messages"].as_array().unwrap() {
                seen.push(m["id"].as_str().unwrap().to_owned());
            }
            match page["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break seen,
            }
            tokio::task::yield_now().await;
        }
    };
    let ((), seen) = tokio::join!(writer, reader);
    let unique: HashSet<_> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "no duplicates");
    assert!(
        seeded.is_subset(&unique),
        "every message that existed before paging began is seen"
    );
}

#[tokio::test]
async fn pages_are_newest_first_and_end_with_a_null_cursor() {
    let app = App::new().await;
    for i in 0..3 {
        send(&app, "u1", "th1", &format!("m{i}"), &format!("k{i}")).await;
    }
    let (_, p1) = app
        .call(
            "GET",
            "/api/chat/user-threads/th1/messages?limit=2",
            Some(user("u2")),
            None,
        )
        .await;
    let bodies: Vec<_> = p1["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"].clone())
        .collect();
    assert_eq!(bodies, vec![json!("m2"), json!("m1")]);
    let cursor = p1["nextCursor"].as_str().unwrap();
    let path = format!("/api/chat/user-threads/th1/messages?limit=2&cursor={cursor}");
    let (_, p2) = app.call("GET", &path, Some(user("u2")), None).await;
    assert_eq!(p2["messages"][0]["body"], "m0");
    assert_eq!(p2["nextCursor"], Value::Null);
}

#[tokio::test]
async fn thread_list_shows_last_message_and_unread_count() {
    let app = App::new().await;
    send(&app, "u1", "th1", "one", "k1").await;
    send(&app, "u1", "th1", "two", "k2").await;
    let (_, list) = app
        .call("GET", "/api/chat/user-threads", Some(user("u2")), None)
        .await;
    let threads = list["threads"].as_array().unwrap();
    assert_eq!(threads.len(), 2);
    assert_eq!(threads[0]["id"], "th1", "most recent activity first");
    assert_eq!(threads[0]["lastMessage"]["body"], "two");
    assert_eq!(threads[0]["unreadCount"], 2);
    assert_eq!(threads[1]["lastMessage"], Value::Null);

    let first_id = {
        let (_, p) = app
            .call(
                "GET",
                "/api/chat/user-threads/th1/messages",
                Some(user("u2")),
                None,
            )
            .await;
        p["messages"][1]["id"].as_str().unwrap().to_owned()
    };
    let (status, r) = app
        .call(
            "POST",
            "/api/chat/user-threads/th1/receipts",
            Some(user("u2")),
            Some(json!({"messageId": first_id, "type": "read"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(r["receipt"]["readAt"].is_string() && r["receipt"]["deliveredAt"].is_string());
    let (_, list) = app
        .call("GET", "/api/chat/user-threads", Some(user("u2")), None)
        .await;
    assert_eq!(list["threads"][0]["unreadCount"], 1);
    let receipt_event = app
        .recorder
        .events()
        .into_iter()
        .find(|e| e.name == "tenant-user-message-read")
        .unwrap();
    assert_eq!(receipt_event.channel, "presence-tenant.t1.thread.u1--u2");
    assert_eq!(
        receipt_event.data,
        json!({"tenantId": "t1", "threadKey": "u1--u2", "readerId": "u2",
               "messageIds": [first_id], "readAt": r["receipt"]["readAt"]})
    );
    let (_, d) = app
        .call(
            "POST",
            "/api/chat/user-threads/th1/receipts",
            Some(user("u2")),
            Some(json!({"messageId": first_id, "type": "delivered"})),
        )
        .await;
    let delivered = app
        .recorder
        .events()
        .into_iter()
        .find(|e| e.name == "tenant-user-message-delivered")
        .unwrap();
    assert_eq!(
        delivered.data,
        json!({"tenantId": "t1", "threadKey": "u1--u2", "recipientId": "u2",
               "messageIds": [first_id], "deliveredAt": d["receipt"]["deliveredAt"]})
    );
}

#[tokio::test]
async fn receipt_for_a_message_of_another_thread_is_404() {
    let app = App::new().await;
    let (_, m) = send(&app, "u2", "th2", "x", "k").await;
    let body = json!({"messageId": m["message"]["id"], "type": "delivered"});
    let (status, err) = app
        .call(
            "POST",
            "/api/chat/user-threads/th1/receipts",
            Some(user("u2")),
            Some(body),
        )
        .await;
    assert_eq!(
        (status, err),
        (
            StatusCode::NOT_FOUND,
            json!({"error": "not_found", "reason": "message_not_found"})
        )
    );
}

#[tokio::test]
async fn typing_is_broadcast_and_not_stored() {
    let app = App::new().await;
    let (status, _) = app
        .call(
            "POST",
            "/api/chat/user-threads/th1/typing",
            Some(user("u1")),
            Some(json!({"isTyping": true})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let events = app.recorder.events();
    assert_eq!(
        events[0].raw_data,
        r#"{"threadId":"th1","userId":"u1","isTyping":true}"#
    );
    assert_eq!(events[0].name, "typing");
    assert_eq!(events[0].channel, "presence-tenant.t1.thread.u1--u2");
}

#[tokio::test]
async fn shadow_dry_run_answers_but_persists_and_broadcasts_nothing() {
    let app = App::new().await;
    let body = json!({"body": "shadow", "clientMessageId": "s1"});
    let (status, res) = app
        .call_with(
            "POST",
            "/api/chat/user-threads/th1/messages",
            Some(user("u1")),
            Some(body),
            &[("x-cutover-shadow", "1")],
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(res["message"]["body"], "shadow");
    assert_eq!(app.count(r#"SELECT count(*) FROM "Message""#).await, 0);
    assert!(app.recorder.events().is_empty());
}

#[tokio::test]
async fn non_participant_gets_404_for_the_thread() {
    let app = App::new().await;
    let (status, body) = app
        .call(
            "GET",
            "/api/chat/user-threads/th2/messages",
            Some(user("u1")),
            None,
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::NOT_FOUND,
            json!({"error": "not_found", "reason": "thread_not_found"})
        )
    );
}

#[tokio::test]
async fn chatbot_visitor_cannot_use_user_threads() {
    let app = App::new().await;
    let (status, body) = app
        .call(
            "GET",
            "/api/chat/user-threads",
            Some(visitor("v1", "t1")),
            None,
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::FORBIDDEN,
            json!({"error": "forbidden", "reason": "wrong_identity_kind"})
        )
    );
}

#[tokio::test]
async fn invalid_requests_get_the_contract_reasons() {
    let app = App::new().await;
    let cases = [
        (json!({"clientMessageId": "k"}), "body_required"),
        (
            json!({"body": "   ", "clientMessageId": "k"}),
            "body_required",
        ),
        (
            json!({"body": "x".repeat(4001), "clientMessageId": "k"}),
            "body_too_long",
        ),
        (json!({"body": "hi"}), "client_message_id_required"),
        (
            json!({"body": "hi", "clientMessageId": "k".repeat(101)}),
            "client_message_id_too_long",
        ),
        (json!({"body": 5, "clientMessageId": "k"}), "invalid_json"),
        (json!(["hi", "k"]), "invalid_json"),
    ];
    for (body, reason) in cases {
        let (status, err) = app
            .call(
                "POST",
                "/api/chat/user-threads/th1/messages",
                Some(user("u1")),
                Some(body),
            )
            .await;
        assert_eq!(
            (status, err),
            (
                StatusCode::BAD_REQUEST,
                json!({"error": "validation_failed", "reason": reason})
            )
        );
    }
    for (query, reason) in [
        ("limit=0", "invalid_limit"),
        ("limit=101", "invalid_limit"),
        ("limit=+5", "invalid_limit"),
        ("cursor=zz", "invalid_cursor"),
    ] {
        let path = format!("/api/chat/user-threads/th1/messages?{query}");
        let (status, err) = app.call("GET", &path, Some(user("u1")), None).await;
        assert_eq!(
            (status, err),
            (
                StatusCode::BAD_REQUEST,
                json!({"error": "validation_failed", "reason": reason})
            )
        );
    }
}
