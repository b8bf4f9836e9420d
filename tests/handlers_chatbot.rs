//! Tenant chatbot routes through the router (`oneshot`, fresh database per
//! test): widget config, start, send (idempotent), page, ownership.

#[path = "support/harness.rs"]
mod harness;

use axum::http::StatusCode;
use harness::{App, user, visitor, visitor_of};
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

/// The attack (issue 14, finding 1): a partner issuer allowed tenant t1 mints
/// `{sub: "v1", tenantId: "t1"}`; the widget's visitor v1 owns c1. The partner
/// visitor can neither read nor write c1, and the widget's v1 cannot reach a
/// conversation the partner's v1 started.
#[tokio::test]
async fn partner_issuers_visitor_cannot_use_the_widget_visitors_conversation() {
    let app = App::new().await;
    let partner = || Some(visitor_of("partner", "v1", "t1"));
    let not_found = json!({"error": "not_found", "reason": "conversation_not_found"});
    let c1 = "/api/tenant-chatbot/conversations/c1/messages";
    let read = app.call("GET", c1, partner(), None).await;
    assert_eq!(read, (StatusCode::NOT_FOUND, not_found.clone()));
    let body = json!({"body": "hi", "clientMessageId": "p1"});
    let write = app.call("POST", c1, partner(), Some(body.clone())).await;
    assert_eq!(write, (StatusCode::NOT_FOUND, not_found.clone()));
    let (status, _) = app.call("GET", c1, Some(visitor("v1", "t1")), None).await;
    assert_eq!(status, StatusCode::OK);

    let (status, started) = app
        .call(
            "POST",
            "/api/tenant-chatbot/conversations",
            partner(),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let own = format!(
        "/api/tenant-chatbot/conversations/{}/messages",
        started["conversation"]["id"].as_str().unwrap()
    );
    let (status, _) = app.call("GET", &own, partner(), None).await;
    assert_eq!(status, StatusCode::OK);
    let widget_v1 = app.call("GET", &own, Some(visitor("v1", "t1")), None).await;
    assert_eq!(widget_v1, (StatusCode::NOT_FOUND, not_found));
}

/// A chatbot identity that names no issuer (e.g. headers from before issuers
/// were signed) owns nothing.
#[tokio::test]
async fn chatbot_identity_without_an_issuer_is_refused() {
    let app = App::new().await;
    let mut anonymous_issuer = visitor("v1", "t1");
    anonymous_issuer.issuer = None;
    let (status, body) = app
        .call(
            "GET",
            "/api/tenant-chatbot/conversations/c1/messages",
            Some(anonymous_issuer),
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
