//! Tenant chatbot routes through the router (`oneshot`, fresh database per
//! test): widget config, start, send (idempotent), page, ownership.

#[path = "support/harness.rs"]
mod harness;

use axum::http::StatusCode;
use harness::{App, user, visitor};
use serde_json::{Value, json};

#[tokio::test]
async fn widget_config_is_the_visitors_tenant() {
    let app = App::new().await;
    let (status, body) = app
        .call(
            "GET",
            "/api/tenant-chatbot/config",
            Some(visitor("v1", "t1")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"tenantId": "t1", "name": "Acme", "enabled": true, "greeting": "Hi! How can we help?", "primaryColor": "#123456"})
    );
}

#[tokio::test]
async fn signed_in_user_is_not_a_chatbot_visitor() {
    let app = App::new().await;
    let (status, body) = app
        .call("GET", "/api/tenant-chatbot/config", Some(user("u1")), None)
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
async fn visitor_starts_a_conversation_and_sends_idempotently() {
    let app = App::new().await;
    let who = || Some(visitor("v9", "t1"));
    let (status, started) = app
        .call(
            "POST",
            "/api/tenant-chatbot/conversations",
            who(),
            Some(json!({"visitorName": "Nine"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let c = &started["conversation"];
    assert_eq!(
        (
            c["visitorId"].as_str(),
            c["status"].as_str(),
            c["tenantId"].as_str()
        ),
        (Some("v9"), Some("open"), Some("t1"))
    );
    let path = format!(
        "/api/tenant-chatbot/conversations/{}/messages",
        c["id"].as_str().unwrap()
    );
    let body = json!({"body": "hello bot", "clientMessageId": "k1"});
    let (status, first) = app.call("POST", &path, who(), Some(body.clone())).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(first["message"]["role"], "visitor");
    let (status, again) = app.call("POST", &path, who(), Some(body)).await;
    assert_eq!((status, &again), (StatusCode::OK, &first));

    let events = app.recorder.events();
    assert_eq!(events.len(), 1);
    assert_eq!(
        events[0].channel,
        format!("private-chatbot-{}", c["id"].as_str().unwrap())
    );
    assert_eq!(
        events[0].data,
        json!({"tenantId": "t1", "conversationId": c["id"], "message": first["message"]})
    );

    let (status, page) = app.call("GET", &path, who(), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        page,
        json!({"messages": [first["message"]], "nextCursor": Value::Null})
    );
}

#[tokio::test]
async fn another_visitors_conversation_is_404() {
    let app = App::new().await;
    let (status, body) = app
        .call(
            "GET",
            "/api/tenant-chatbot/conversations/c2/messages",
            Some(visitor("v1", "t1")),
            None,
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::NOT_FOUND,
            json!({"error": "not_found", "reason": "conversation_not_found"})
        )
    );
}

#[tokio::test]
async fn disabled_chatbot_cannot_start_conversations() {
    let app = App::new().await;
    let (status, body) = app
        .call(
            "POST",
            "/api/tenant-chatbot/conversations",
            Some(visitor("v1", "t2")),
            Some(json!({})),
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::FORBIDDEN,
            json!({"error": "forbidden", "reason": "chatbot_disabled"})
        )
    );
}
