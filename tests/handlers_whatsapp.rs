//! WhatsApp routes through the router (`oneshot`, fresh database per test,
//! events to the Pusher recorder — a STAND-IN for Soketi, see
//! support/harness.rs; the parity suite checks the same against a real
//! Soketi): tenant isolation, retry-safe create, a disconnect that
//! disconnects, idempotent sends, replay-safe worker batches, history paging,
//! outbox leases, analytics.

#[path = "support/harness.rs"]
mod harness;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use cutover::identity::{AuthScheme, Identity};
use harness::{App, user};
use serde_json::{Value, json};

fn worker() -> Option<Identity> {
    Some(Identity {
        scheme: AuthScheme::Service,
        user_id: "whatsapp-worker".into(),
        email: None,
        tenant_id: None,
        issuer: None,
        expires_at: None,
    })
}

/// `wa1` (tenant t1, connected) with a contact and three messages.
async fn app() -> App {
    let app = App::new().await;
    sqlx::raw_sql(
        r#"
        INSERT INTO whatsapp_sessions ("sessionId", "tenantId", "name", "status") VALUES
          ('wa1', 't1', 'Support', 'CONNECTED'), ('wa2', 't2', 'Sales', 'DISCONNECTED');
        INSERT INTO whatsapp_session_configs ("sessionId") VALUES ('wa1'), ('wa2');
        INSERT INTO whatsapp_contacts ("sessionId", "jid", "name", "lastMessageAt", "unreadCount") VALUES
          ('wa1', '4915111111@s.whatsapp.net', 'Ann', '2026-11-01T10:02:00Z', 2);
        INSERT INTO whatsapp_messages ("id", "sessionId", "messageId", "remoteJid", "fromMe", "content", "status", "timestamp", "senderId") VALUES
          ('m1', 'wa1', 'A1', '4915111111@s.whatsapp.net', false, 'hi', 'DELIVERED', '2026-11-01T10:00:00Z', NULL),
          ('m2', 'wa1', 'A2', '4915111111@s.whatsapp.net', true, 'hello', 'SENT', '2026-11-01T10:01:00Z', 'whatsapp-system'),
          ('m3', 'wa1', 'A3', '4915111111@s.whatsapp.net', false, 'bye', 'DELIVERED', '2026-11-01T10:02:00Z', NULL);
        "#,
    )
    .execute(&app.db.pool)
    .await
    .unwrap();
    app
}

#[tokio::test]
async fn another_tenants_session_is_a_404_exactly_like_a_missing_one_on_every_route() {
    let app = app().await;
    let not_found = json!({"error": "Session not found or access denied"});
    for session in ["wa1", "nope"] {
        let q = format!("sessionId={session}");
        let body = json!({"sessionId": session, "jid": "4915111111@s.whatsapp.net",
                          "toJid": "4915111111@s.whatsapp.net", "content": "x"});
        for (method, path, body) in [
            ("GET", format!("/api/whatsapp/status?{q}"), None),
            ("GET", format!("/api/whatsapp/contacts?{q}"), None),
            ("GET", format!("/api/whatsapp/messages?{q}"), None),
            ("GET", format!("/api/whatsapp/analytics?{q}"), None),
            ("DELETE", format!("/api/whatsapp/sessions?{q}"), None),
            ("POST", "/api/whatsapp/connect".into(), Some(body.clone())),
            (
                "POST",
                "/api/whatsapp/disconnect".into(),
                Some(body.clone()),
            ),
            (
                "POST",
                "/api/whatsapp/contacts/mark-read".into(),
                Some(body.clone()),
            ),
            (
                "POST",
                "/api/whatsapp/chat-messages".into(),
                Some(body.clone()),
            ),
        ] {
            let got = app.call(method, &path, Some(user("u4")), body).await;
            assert_eq!(
                got,
                (StatusCode::NOT_FOUND, not_found.clone()),
                "{method} {path}"
            );
        }
    }
    let (_, list) = app
        .call("GET", "/api/whatsapp/sessions", Some(user("u4")), None)
        .await;
    let ids: Vec<&str> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["sessionId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["wa2"]);
    assert_eq!(
        app.count(r#"SELECT count(*) FROM whatsapp_outbox"#).await,
        0
    );
}

#[tokio::test]
async fn admin_routes_refuse_other_identity_kinds_and_worker_routes_refuse_users() {
    let app = app().await;
    let forbidden = (StatusCode::FORBIDDEN, json!({"error": "Forbidden"}));
    assert_eq!(
        app.call("GET", "/api/whatsapp/sessions", worker(), None)
            .await,
        forbidden
    );
    assert_eq!(
        app.call(
            "GET",
            "/api/whatsapp/worker/sessions",
            Some(user("u1")),
            None
        )
        .await,
        forbidden
    );
    assert_eq!(
        app.call("GET", "/api/whatsapp/sessions", None, None).await,
        (StatusCode::UNAUTHORIZED, json!({"error": "Unauthorized"}))
    );
}

#[tokio::test]
async fn create_is_retry_safe_and_a_taken_id_is_a_conflict() {
    let app = app().await;
    let body = json!({"name": "Ops", "sessionId": "wa-ops"});
    let (status, first) = app
        .call(
            "POST",
            "/api/whatsapp/sessions",
            Some(user("u1")),
            Some(body.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let s = &first["session"];
    assert_eq!(
        (
            s["tenantId"].as_str(),
            s["status"].as_str(),
            s["routingRule"].as_str()
        ),
        (Some("t1"), Some("DISCONNECTED"), Some("FLOWBOT_FIRST"))
    );
    assert_eq!(s["stats"], json!({"messages": 0, "contacts": 0}));
    let keys: Vec<&String> = s.as_object().unwrap().keys().collect();
    assert!(
        !keys
            .iter()
            .any(|k| ["creds", "keys", "metadata"].contains(&k.as_str()))
    );
    let (status, again) = app
        .call(
            "POST",
            "/api/whatsapp/sessions",
            Some(user("u2")),
            Some(body),
        )
        .await;
    assert_eq!(
        (status, &again["session"]["id"]),
        (StatusCode::OK, &s["id"])
    );
    let taken = app
        .call(
            "POST",
            "/api/whatsapp/sessions",
            Some(user("u4")),
            Some(json!({"name": "Ops", "sessionId": "wa-ops"})),
        )
        .await;
    assert_eq!(
        taken,
        (
            StatusCode::CONFLICT,
            json!({"error": "Session already exists"})
        )
    );
    let other_tenant = app
        .call(
            "POST",
            "/api/whatsapp/sessions",
            Some(user("u1")),
            Some(json!({"name": "X", "tenantId": "t2"})),
        )
        .await;
    assert_eq!(
        other_tenant,
        (StatusCode::FORBIDDEN, json!({"error": "Forbidden"}))
    );
    assert_eq!(
        app.count(r#"SELECT count(*) FROM whatsapp_sessions WHERE "sessionId" = 'wa-ops'"#)
            .await,
        1
    );
}

#[tokio::test]
async fn disconnect_really_disconnects_and_the_worker_stops_holding_the_session() {
    let app = app().await;
    let held = || async {
        app.call("GET", "/api/whatsapp/worker/sessions", worker(), None)
            .await
            .1
    };
    assert_eq!(held().await["sessions"][0]["sessionId"], "wa1");
    let got = app
        .call(
            "POST",
            "/api/whatsapp/disconnect",
            Some(user("u1")),
            Some(json!({"sessionId": "wa1"})),
        )
        .await;
    assert_eq!(
        got,
        (
            StatusCode::OK,
            json!({"success": true, "message": "Disconnected"})
        )
    );
    let (_, status) = app
        .call(
            "GET",
            "/api/whatsapp/status?sessionId=wa1",
            Some(user("u1")),
            None,
        )
        .await;
    assert_eq!(
        status,
        json!({"status": "DISCONNECTED", "socketStatus": "disconnected"})
    );
    assert_eq!(held().await, json!({"sessions": []}));
    let events = app.recorder.events();
    let channels: Vec<&str> = events.iter().map(|e| e.channel.as_str()).collect();
    assert_eq!(channels, ["whatsapp.wa1", "private-whatsapp.wa1"]);
    assert!(
        events[0].raw_data.starts_with(
            r#"{"status":"disconnected","sessionId":"wa1","tenantId":"t1","timestamp":"#
        )
    );
    app.call(
        "POST",
        "/api/whatsapp/connect",
        Some(user("u1")),
        Some(json!({"sessionId": "wa1"})),
    )
    .await;
    assert_eq!(held().await["sessions"][0]["status"], "CONNECTING");
}

#[tokio::test]
async fn concurrent_duplicate_sends_queue_one_outbox_row() {
    let app = app().await;
    let body = json!({"sessionId": "wa1", "toJid": "4915111111@s.whatsapp.net", "content": "hey", "clientMessageId": "c-1"});
    let calls = (0..12).map(|_| {
        app.call(
            "POST",
            "/api/whatsapp/chat-messages",
            Some(user("u1")),
            Some(body.clone()),
        )
    });
    let answers = futures::future::join_all(calls).await;
    let first = &answers[0].1;
    assert_eq!(
        (
            first["success"].as_bool(),
            first["message"].as_str(),
            first["status"].as_str()
        ),
        (Some(true), Some("Message queued"), Some("queued"))
    );
    for (status, body) in &answers {
        assert_eq!(
            (*status, &body["outboxId"]),
            (StatusCode::OK, &first["outboxId"])
        );
    }
    assert_eq!(app.count("SELECT count(*) FROM whatsapp_outbox").await, 1);
    let wa: String = sqlx::query_scalar(r#"SELECT "waMessageId" FROM whatsapp_outbox"#)
        .fetch_one(&app.db.pool)
        .await
        .unwrap();
    assert_eq!(wa, cutover::handlers::whatsapp::wa_message_id("wa1", "c-1"));
}

#[tokio::test]
async fn bad_sends_get_the_legacy_error_messages() {
    let app = app().await;
    let send = |b: Value| {
        app.call(
            "POST",
            "/api/whatsapp/chat-messages",
            Some(user("u1")),
            Some(b),
        )
    };
    let cases = [
        (json!({"toJid": "x"}), "sessionId is required"),
        (json!({"sessionId": "wa1"}), "toJid is required"),
        (
            json!({"sessionId": "wa1", "toJid": "someone"}),
            "Invalid toJid",
        ),
        (
            json!({"sessionId": "wa1", "toJid": "4915111111@s.whatsapp.net", "content": "  "}),
            "content is required",
        ),
        (
            json!({"sessionId": "wa1", "toJid": "4915111111@s.whatsapp.net", "content": "x".repeat(4097)}),
            "Content too long",
        ),
        (
            json!({"sessionId": "wa1", "toJid": "4915111111@s.whatsapp.net", "content": "x", "clientMessageId": ""}),
            "Invalid clientMessageId",
        ),
    ];
    for (body, error) in cases {
        assert_eq!(
            send(body).await,
            (StatusCode::BAD_REQUEST, json!({"error": error}))
        );
    }
}

async fn post_batch(app: &App, batch_id: &str, events: Value) -> (StatusCode, Value) {
    let body = json!({"sessionId": "wa1", "batchId": batch_id, "events": events});
    app.call("POST", "/api/whatsapp/worker/events", worker(), Some(body))
        .await
}

fn text(id: &str, from_me: bool, secs: i64, body: &str) -> Value {
    json!({"key": {"remoteJid": "4917222222@s.whatsapp.net", "fromMe": from_me, "id": id},
           "messageTimestamp": secs, "pushName": "Bea", "message": {"conversation": body}})
}

#[tokio::test]
async fn a_replayed_batch_changes_nothing_and_emits_nothing_twice() {
    let app = app().await;
    let events = json!([
        {"type": "connection.update", "data": {"qr": "2@qr"}},
        {"type": "messages.upsert", "data": {"type": "notify", "messages": [text("B1", false, 1764500000, "one"), text("B1", false, 1764500000, "one")]}},
        {"type": "messages.update", "data": [{"key": {"id": "B1"}, "update": {"status": 4}}, {"key": {"id": "B1"}, "update": {"status": 3}}]}
    ]);
    let (status, first) = post_batch(&app, "b-1", events.clone()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        first,
        json!({"success": true, "duplicate": false, "applied": {"connection": 1, "messages": 1, "statuses": 1, "contacts": 1}})
    );
    let emitted = app.recorder.events().len();
    assert_eq!(
        emitted,
        2 * 5,
        "qr.code, connection.update, contact.created, message.received, message.status on two channels"
    );
    let (_, again) = post_batch(&app, "b-1", events).await;
    assert_eq!(
        again,
        json!({"success": true, "duplicate": true, "applied": {"connection": 0, "messages": 0, "statuses": 0, "contacts": 0}})
    );
    assert_eq!(app.recorder.events().len(), emitted);
    assert_eq!(
        app.count(r#"SELECT count(*) FROM whatsapp_messages WHERE "messageId" = 'B1'"#)
            .await,
        1
    );
    let (_, status) = app
        .call(
            "GET",
            "/api/whatsapp/status?sessionId=wa1",
            Some(user("u1")),
            None,
        )
        .await;
    assert_eq!(
        status,
        json!({"status": "QR_REQUIRED", "qr": "2@qr", "socketStatus": "qr_required"})
    );

    // Payloads as the legacy emitter builds them: data keys, then sessionId and
    // tenantId; the message's own timestamp slot carries the emit time.
    let received = app
        .recorder
        .events()
        .into_iter()
        .find(|e| e.name == "message.received")
        .unwrap();
    let keys: Vec<String> = received
        .raw_data
        .split("\":")
        .filter_map(|k| k.rsplit("\"").next().map(str::to_owned))
        .collect();
    assert_eq!(
        keys[..9],
        [
            "id",
            "messageId",
            "remoteJid",
            "fromMe",
            "content",
            "messageType",
            "timestamp",
            "sessionId",
            "tenantId"
        ]
    );
    assert!(
        received.data["timestamp"].as_i64().unwrap() > 1_764_500_000_000,
        "emit time in ms, not the message's"
    );
    let status_event = app
        .recorder
        .events()
        .into_iter()
        .find(|e| e.name == "message.status")
        .unwrap();
    assert_eq!(status_event.data["status"], "READ");
    assert!(
        status_event.data.get("readAt").is_some() && status_event.data.get("deliveredAt").is_none()
    );
}

#[tokio::test]
async fn a_malformed_batch_is_rejected_whole() {
    let app = app().await;
    let events = json!([
        {"type": "messages.upsert", "data": {"type": "notify", "messages": [text("C1", false, 1764500000, "x")]}},
        {"type": "messages.update", "data": [{"key": {}, "update": {"status": 3}}]}
    ]);
    assert_eq!(
        post_batch(&app, "b-2", events).await,
        (StatusCode::BAD_REQUEST, json!({"error": "Invalid batch"}))
    );
    assert_eq!(
        app.count(r#"SELECT count(*) FROM whatsapp_messages WHERE "messageId" = 'C1'"#)
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT count(*) FROM whatsapp_worker_batches")
            .await,
        0
    );
}

#[tokio::test]
async fn history_keeps_the_legacy_limit_form_and_pages_older_with_a_cursor() {
    let app = &app().await;
    let get = |q: String| async move {
        let path = format!("/api/whatsapp/messages?sessionId=wa1&jid=4915111111@s.whatsapp.net{q}");
        app.call("GET", &path, Some(user("u1")), None).await
    };
    let (_, page1) = get("&limit=2".into()).await;
    let ids = |p: &Value| {
        p["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&page1), ["m2", "m3"], "newest two, oldest first");
    let cursor = page1["nextCursor"].as_str().unwrap();
    let (_, page2) = get(format!("&limit=2&cursor={cursor}")).await;
    assert_eq!(
        (ids(&page2), &page2["nextCursor"]),
        (vec!["m1".to_owned()], &Value::Null)
    );
    let (_, all) = get(String::new()).await;
    assert_eq!(ids(&all), ["m1", "m2", "m3"]);
    assert_eq!(
        get("&limit=501".into()).await,
        (StatusCode::BAD_REQUEST, json!({"error": "Invalid limit"}))
    );
    assert_eq!(get("&cursor=%%%".into()).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_expired_lease_is_claimed_again_and_a_sent_row_never_goes_back() {
    let app = app().await;
    let send = json!({"sessionId": "wa1", "toJid": "4915111111@s.whatsapp.net", "content": "ping", "clientMessageId": "k1"});
    app.call(
        "POST",
        "/api/whatsapp/chat-messages",
        Some(user("u1")),
        Some(send),
    )
    .await;
    let claim = |w: &str| {
        app.call(
            "POST",
            "/api/whatsapp/worker/outbox/claim",
            worker(),
            Some(json!({"workerId": w, "leaseSeconds": 5})),
        )
    };
    let (_, first) = claim("w1").await;
    let item = first["items"][0].clone();
    assert_eq!(
        (item["attempts"].as_i64(), item["content"].as_str()),
        (Some(1), Some("ping"))
    );
    assert_eq!(claim("w2").await.1, json!({"items": []}), "leased");
    // w1 died mid-send: its lease runs out.
    sqlx::query(r#"UPDATE whatsapp_outbox SET "leaseUntil" = now() - interval '1 second'"#)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (_, second) = claim("w2").await;
    assert_eq!(
        (
            &second["items"][0]["outboxId"],
            second["items"][0]["attempts"].as_i64()
        ),
        (&item["outboxId"], Some(2))
    );
    let result = format!(
        "/api/whatsapp/worker/outbox/{}/result",
        item["outboxId"].as_str().unwrap()
    );
    let ok = json!({"workerId": "w2", "ok": true, "messageId": item["waMessageId"]});
    assert_eq!(
        app.call("POST", &result, worker(), Some(ok.clone()))
            .await
            .1,
        json!({"success": true, "duplicate": false, "status": "sent"})
    );
    let late = json!({"workerId": "w1", "ok": false, "error": "timeout"});
    assert_eq!(
        app.call("POST", &result, worker(), Some(late)).await.1,
        json!({"success": true, "duplicate": true, "status": "sent"})
    );
    assert_eq!(
        app.call("POST", &result, worker(), Some(ok)).await.1["duplicate"],
        true
    );
    assert_eq!(app.count(r#"SELECT count(*) FROM whatsapp_messages WHERE "content" = 'ping' AND "senderId" = 'u1'"#).await, 1);
    let names: Vec<String> = app.recorder.events().into_iter().map(|e| e.name).collect();
    assert_eq!(
        names.iter().filter(|n| *n == "message.sent").count(),
        2,
        "once, on two channels"
    );
    let missing = app
        .call(
            "POST",
            "/api/whatsapp/worker/outbox/nope/result",
            worker(),
            Some(json!({"workerId": "w", "ok": true})),
        )
        .await;
    assert_eq!(
        missing,
        (
            StatusCode::NOT_FOUND,
            json!({"error": "Outbox item not found"})
        )
    );
}

#[tokio::test]
async fn analytics_counts_as_the_legacy_app_did() {
    let app = app().await;
    let (status, a) = app
        .call(
            "GET",
            "/api/whatsapp/analytics?sessionId=wa1&timeRange=90d",
            Some(user("u1")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            a["totalMessages"].as_i64(),
            a["sentMessages"].as_i64(),
            a["receivedMessages"].as_i64(),
            a["sentPercentage"].as_i64(),
            a["receivedPercentage"].as_i64()
        ),
        (Some(3), Some(1), Some(2), Some(33), Some(67))
    );
    assert_eq!(
        (
            a["flowbotMessages"].as_i64(),
            a["flowbotPercentage"].as_i64(),
            a["activeContacts"].as_i64()
        ),
        (Some(1), Some(33), Some(1))
    );
    assert_eq!(
        (a["avgResponseTime"].clone(), a["timeRange"].as_str()),
        (Value::Null, Some("90d"))
    );
    let (_, week) = app
        .call(
            "GET",
            "/api/whatsapp/analytics?sessionId=wa1&timeRange=forever",
            Some(user("u1")),
            None,
        )
        .await;
    assert_eq!(week["timeRange"], "7d");
}

#[tokio::test]
async fn the_private_whatsapp_channel_is_for_members_of_the_sessions_tenant_only() {
    let app = app().await;
    let auth = |who: &str, ch: &str| {
        let form = format!("socket_id=123.456&channel_name={ch}");
        let mut req = Request::post("/api/chat/realtime/auth")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .unwrap();
        req.extensions_mut().insert(user(who));
        app.send(req)
    };
    assert_eq!(auth("u1", "private-whatsapp.wa1").await.0, StatusCode::OK);
    assert_eq!(
        auth("u4", "private-whatsapp.wa1").await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        auth("u1", "private-whatsapp.nope").await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_shadow_copy_of_a_send_or_a_batch_persists_and_broadcasts_nothing() {
    let app = app().await;
    let shadow = [("x-cutover-shadow", "1")];
    let send = json!({"sessionId": "wa1", "toJid": "4915111111@s.whatsapp.net", "content": "dry", "clientMessageId": "s-1"});
    let (status, body) = app
        .call_with(
            "POST",
            "/api/whatsapp/chat-messages",
            Some(user("u1")),
            Some(send),
            &shadow,
        )
        .await;
    assert_eq!(
        (status, body["message"].as_str()),
        (StatusCode::OK, Some("Message queued"))
    );
    let batch = json!({"sessionId": "wa1", "batchId": "s-b", "events": [
        {"type": "messages.upsert", "data": {"type": "notify", "messages": [text("D1", false, 1764500000, "dry")]}}]});
    let (status, body) = app
        .call_with(
            "POST",
            "/api/whatsapp/worker/events",
            worker(),
            Some(batch),
            &shadow,
        )
        .await;
    assert_eq!(
        (status, &body["applied"]["messages"]),
        (StatusCode::OK, &json!(1))
    );
    assert_eq!(app.count("SELECT count(*) FROM whatsapp_outbox").await, 0);
    assert_eq!(
        app.count("SELECT count(*) FROM whatsapp_worker_batches")
            .await,
        0
    );
    assert_eq!(
        app.count(r#"SELECT count(*) FROM whatsapp_messages WHERE "messageId" = 'D1'"#)
            .await,
        0
    );
    assert!(app.recorder.events().is_empty());
}
