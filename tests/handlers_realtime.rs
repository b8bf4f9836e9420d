//! Realtime routes through the router (`oneshot`, fresh database per test):
//! config + cache, channel authorization rules (one test per forbidden case),
//! presence and user sign-in signatures.

#[path = "support/harness.rs"]
mod harness;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use cutover::handlers::pusher::sign;
use cutover::identity::Identity;
use harness::{APP_KEY, APP_SECRET, App, user, visitor, visitor_of};
use serde_json::{Value, json};

async fn authorize(app: &App, who: Identity, channel: &str) -> (StatusCode, Value) {
    let form = format!("socket_id=123.456&channel_name={channel}");
    let mut req = Request::post("/api/chat/realtime/auth")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(form))
        .unwrap();
    req.extensions_mut().insert(who);
    app.send(req).await
}

fn forbidden() -> Value {
    json!({"error": "forbidden", "reason": "channel_forbidden"})
}

#[tokio::test]
async fn config_comes_from_the_system_config_table() {
    let app = App::new().await;
    let (status, body) = app
        .call("GET", "/api/chat/realtime/config", Some(user("u1")), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"key": "app-key", "host": "soketi.local", "port": 6001, "useTLS": false, "cluster": "mt1",
               "authEndpoint": "/api/chat/realtime/auth", "userAuthEndpoint": "/api/chat/realtime/auth"})
    );
}

#[tokio::test]
async fn config_is_cached_until_an_admin_clears_it() {
    let app = App::new().await;
    app.call("GET", "/api/chat/realtime/config", Some(user("u1")), None)
        .await;
    sqlx::query(
        r#"UPDATE "SystemConfig" SET "value" = jsonb_set("value", '{host}', '"new.host"')"#,
    )
    .execute(&app.db.pool)
    .await
    .unwrap();
    let (_, cached) = app
        .call("GET", "/api/chat/realtime/config", Some(user("u1")), None)
        .await;
    assert_eq!(cached["host"], "soketi.local");

    let (status, body) = app
        .call(
            "DELETE",
            "/api/chat/realtime/config/cache",
            Some(user("u1")),
            None,
        )
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::FORBIDDEN,
            json!({"error": "forbidden", "reason": "admin_only"})
        )
    );
    let (status, _) = app
        .call(
            "DELETE",
            "/api/chat/realtime/config/cache",
            Some(user("u3")),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, fresh) = app
        .call("GET", "/api/chat/realtime/config", Some(user("u1")), None)
        .await;
    assert_eq!(fresh["host"], "new.host");
}

#[tokio::test]
async fn missing_realtime_row_is_503() {
    let app = App::new().await;
    sqlx::query(r#"DELETE FROM "SystemConfig""#)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (status, body) = app
        .call("GET", "/api/chat/realtime/config", Some(user("u1")), None)
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        body,
        json!({"error": "unavailable", "reason": "realtime_not_configured"})
    );
}

#[tokio::test]
async fn request_without_identity_is_401() {
    let app = App::new().await;
    let (status, body) = app
        .call("GET", "/api/chat/realtime/config", None, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body,
        json!({"error": "unauthorized", "reason": "missing_identity"})
    );
}

#[tokio::test]
async fn user_may_join_their_own_user_channel() {
    let app = App::new().await;
    let (status, body) = authorize(&app, user("u1"), "private-user-u1").await;
    assert_eq!(status, StatusCode::OK);
    let sig = sign(APP_SECRET, "123.456:private-user-u1");
    assert_eq!(body, json!({"auth": format!("{APP_KEY}:{sig}")}));
}

#[tokio::test]
async fn participant_may_join_the_thread_channel() {
    let app = App::new().await;
    let (status, _) = authorize(&app, user("u1"), "private-thread-th1").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn member_joins_tenant_presence_with_signed_channel_data() {
    let app = App::new().await;
    let (status, body) = authorize(&app, user("u1"), "presence-tenant-t1").await;
    assert_eq!(status, StatusCode::OK);
    let data = r#"{"user_id":"u1","user_info":{"name":"Alice"}}"#;
    assert_eq!(body["channel_data"], data);
    let sig = sign(APP_SECRET, &format!("123.456:presence-tenant-t1:{data}"));
    assert_eq!(body["auth"], format!("{APP_KEY}:{sig}"));
}

#[tokio::test]
async fn visitor_may_join_their_own_conversation() {
    let app = App::new().await;
    let (status, _) = authorize(&app, visitor("v1", "t1"), "private-chatbot-c1").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn user_sign_in_signs_user_data() {
    let app = App::new().await;
    let mut req = Request::post("/api/chat/realtime/auth")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"socket_id":"1.2"}"#))
        .unwrap();
    req.extensions_mut().insert(user("u2"));
    let (status, body) = app.send(req).await;
    assert_eq!(status, StatusCode::OK);
    let data = r#"{"id":"u2","user_info":{"name":"Bob"}}"#;
    assert_eq!(body["user_data"], data);
    assert_eq!(
        body["auth"],
        format!(
            "{APP_KEY}:{}",
            sign(APP_SECRET, &format!("1.2::user::{data}"))
        )
    );
}

/// The attack: a chatbot visitor whose `sub` is a user id (`u2`) asks to
/// sign in; signing `user_data` would let it receive `sendToUser("u2")`.
#[tokio::test]
async fn visitor_named_like_a_user_cannot_sign_in_as_that_user() {
    let app = App::new().await;
    let mut req = Request::post("/api/chat/realtime/auth")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"socket_id":"1.2"}"#))
        .unwrap();
    req.extensions_mut().insert(visitor("u2", "t1"));
    let (status, body) = app.send(req).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body, forbidden());
}

#[tokio::test]
async fn another_users_channel_is_forbidden() {
    let app = App::new().await;
    assert_eq!(
        authorize(&app, user("u1"), "private-user-u2").await,
        (StatusCode::FORBIDDEN, forbidden())
    );
}

#[tokio::test]
async fn thread_channel_of_a_non_participant_is_forbidden() {
    let app = App::new().await;
    assert_eq!(
        authorize(&app, user("u1"), "private-thread-th2").await,
        (StatusCode::FORBIDDEN, forbidden())
    );
}

#[tokio::test]
async fn unknown_thread_channel_is_forbidden() {
    let app = App::new().await;
    assert_eq!(
        authorize(&app, user("u1"), "private-thread-nope").await,
        (StatusCode::FORBIDDEN, forbidden())
    );
}

#[tokio::test]
async fn presence_channel_of_another_tenant_is_forbidden() {
    let app = App::new().await;
    assert_eq!(
        authorize(&app, user("u1"), "presence-tenant-t2").await,
        (StatusCode::FORBIDDEN, forbidden())
    );
}

#[tokio::test]
async fn visitor_cannot_join_another_visitors_conversation() {
    let app = App::new().await;
    assert_eq!(
        authorize(&app, visitor("v1", "t1"), "private-chatbot-c2").await,
        (StatusCode::FORBIDDEN, forbidden())
    );
}

/// The attack (issue 14, finding 1): a partner issuer, allowed tenant t1,
/// vouches for a visitor with the same `sub` as the widget's visitor v1 who
/// owns c1. Same tenant, same visitor id, other issuer: no Pusher auth.
#[tokio::test]
async fn partner_issuers_visitor_cannot_join_the_widget_visitors_conversation() {
    let app = App::new().await;
    assert_eq!(
        authorize(
            &app,
            visitor_of("partner", "v1", "t1"),
            "private-chatbot-c1"
        )
        .await,
        (StatusCode::FORBIDDEN, forbidden())
    );
    let (status, _) = authorize(&app, visitor("v1", "t1"), "private-chatbot-c1").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn visitor_of_another_tenant_cannot_join_a_conversation() {
    let app = App::new().await;
    assert_eq!(
        authorize(&app, visitor("v1", "t2"), "private-chatbot-c1").await,
        (StatusCode::FORBIDDEN, forbidden())
    );
}

#[tokio::test]
async fn visitor_cannot_join_a_user_channel() {
    let app = App::new().await;
    assert_eq!(
        authorize(&app, visitor("u1", "t1"), "private-user-u1").await,
        (StatusCode::FORBIDDEN, forbidden())
    );
}

#[tokio::test]
async fn signed_in_user_cannot_join_a_chatbot_conversation() {
    let app = App::new().await;
    assert_eq!(
        authorize(&app, user("v1"), "private-chatbot-c1").await,
        (StatusCode::FORBIDDEN, forbidden())
    );
}

#[tokio::test]
async fn channel_outside_the_app_scheme_is_forbidden() {
    let app = App::new().await;
    assert_eq!(
        authorize(&app, user("u1"), "private-encrypted-user-u1").await,
        (StatusCode::FORBIDDEN, forbidden())
    );
}

#[tokio::test]
async fn malformed_socket_id_is_400() {
    let app = App::new().await;
    let mut req = Request::post("/api/chat/realtime/auth")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from("socket_id=abc&channel_name=private-user-u1"))
        .unwrap();
    req.extensions_mut().insert(user("u1"));
    assert_eq!(
        app.send(req).await,
        (
            StatusCode::BAD_REQUEST,
            json!({"error": "validation_failed", "reason": "invalid_socket_id"})
        )
    );
}

#[tokio::test]
async fn pusher_auth_failure_answered_with_200_is_an_error() {
    use cutover::handlers::pusher::PusherError;
    let app = App::new().await;
    app.state
        .pusher
        .trigger("private-user-u1", "ping", &json!({}))
        .await
        .expect("accepted");
    *app.recorder.reject.lock().unwrap() = true;
    let err = app
        .state
        .pusher
        .trigger("private-user-u1", "ping", &json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, PusherError::Rejected { code: 401 }), "{err}");
}
