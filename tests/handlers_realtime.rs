//! Realtime routes through the router (`oneshot`, fresh database per test),
//! in the legacy contract: the config envelope (+ cache, disabled, 500), the
//! auth rule table (each legacy rule and each stricter one, with the legacy
//! status and `{error}` body), presence `channel_data` and user sign-in.

#[path = "support/harness.rs"]
mod harness;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use cutover::handlers::pusher::sign;
use cutover::identity::Identity;
use harness::{APP_KEY, APP_SECRET, App, user, visitor, visitor_of};
use serde_json::{Value, json};

enum Encoding {
    Form,
    Json,
}

async fn authorize_as(
    app: &App,
    who: Option<Identity>,
    channel: &str,
    kind: Encoding,
) -> (StatusCode, Value) {
    let (ctype, body) = match kind {
        Encoding::Form => (
            "application/x-www-form-urlencoded",
            format!("socket_id=123.456&channel_name={channel}"),
        ),
        Encoding::Json => (
            "application/json",
            json!({"socket_id": "123.456", "channel_name": channel}).to_string(),
        ),
    };
    let mut req = Request::post("/api/chat/realtime/auth")
        .header("content-type", ctype)
        .body(Body::from(body))
        .unwrap();
    if let Some(who) = who {
        req.extensions_mut().insert(who);
    }
    app.send(req).await
}

async fn authorize(app: &App, who: Identity, channel: &str) -> (StatusCode, Value) {
    authorize_as(app, Some(who), channel, Encoding::Form).await
}

fn error(status: StatusCode, message: &str) -> (StatusCode, Value) {
    (status, json!({ "error": message }))
}

fn forbidden() -> (StatusCode, Value) {
    error(StatusCode::FORBIDDEN, "Forbidden channel")
}

#[tokio::test]
async fn config_answers_the_legacy_envelope_for_a_session_and_a_chat_token() {
    let app = App::new().await;
    for who in [user("u1"), visitor("v1", "t1")] {
        let (status, body) = app
            .call("GET", "/api/chat/realtime/config", Some(who), None)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            body,
            json!({"success": true, "config": {"key": "app-key", "host": "soketi.local", "port": 6001,
                   "useTLS": false, "appId": "app-1", "cluster": "mt1"}})
        );
    }
}

#[tokio::test]
async fn config_host_is_trimmed_and_cluster_is_always_mt1() {
    let app = App::new().await;
    sqlx::query(
        r#"UPDATE "SystemConfig" SET "value" = '{"key":"k","host":" h.example ","port":443,"useTLS":true,"cluster":"eu"}'"#,
    )
    .execute(&app.db.pool)
    .await
    .unwrap();
    let (_, body) = app
        .call("GET", "/api/chat/realtime/config", Some(user("u1")), None)
        .await;
    assert_eq!(
        body["config"],
        json!({"key": "k", "host": "h.example", "port": 443, "useTLS": true, "appId": "app-1", "cluster": "mt1"})
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
    assert_eq!(cached["config"]["host"], "soketi.local");

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
    assert_eq!(fresh["config"]["host"], "new.host");
}

#[tokio::test]
async fn missing_realtime_row_answers_the_disabled_shape_and_auth_503() {
    let app = App::new().await;
    sqlx::query(r#"DELETE FROM "SystemConfig""#)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (status, body) = app
        .call("GET", "/api/chat/realtime/config", Some(user("u1")), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"success": false, "hasConfig": false,
               "message": "Realtime features are disabled. Configure the realtime settings to enable them.",
               "config": null})
    );
    assert_eq!(
        authorize(&app, user("u1"), "presence-tenant.t1.online").await,
        error(StatusCode::SERVICE_UNAVAILABLE, "Realtime not configured")
    );
    // The rules still come first: a forbidden channel stays 403.
    assert_eq!(
        authorize(&app, user("u1"), "presence-tenant.t2.online").await,
        forbidden()
    );
}

#[tokio::test]
async fn config_database_failure_is_the_legacy_500_shape() {
    let app = App::new().await;
    sqlx::query(r#"ALTER TABLE "SystemConfig" RENAME TO "SystemConfigGone""#)
        .execute(&app.db.pool)
        .await
        .unwrap();
    let (status, body) = app
        .call("GET", "/api/chat/realtime/config", Some(user("u1")), None)
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body,
        json!({"success": false, "message": "Failed to fetch realtime configuration", "config": null})
    );
    assert_eq!(
        authorize(&app, user("u1"), "presence-tenant.t1.online").await,
        error(StatusCode::INTERNAL_SERVER_ERROR, "Internal server error")
    );
}

#[tokio::test]
async fn config_without_identity_is_401() {
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

/// (label, identity, channel, expected error; `None` = 200).
type Rule = (
    &'static str,
    Option<Identity>,
    &'static str,
    Option<(StatusCode, &'static str)>,
);

/// The rule table (the same rows run against the Next app in
/// `tests/support/cases.rs`): (identity, channel, body) → (status, error).
/// `None` = 200.
#[tokio::test]
async fn auth_rule_table_answers_the_legacy_statuses_and_bodies() {
    let app = App::new().await;
    let u = |id: &str| Some(user(id));
    let v = |id: &str, t: &str| Some(visitor(id, t));
    let unauthorized = Some((StatusCode::UNAUTHORIZED, "Unauthorized"));
    let forbidden = Some((StatusCode::FORBIDDEN, "Forbidden channel"));
    #[rustfmt::skip]
    let table: Vec<Rule> = vec![
        // legacy: presence-tenant.T.* and private-tenant.T.* for a member of T
        ("online of own tenant", u("u1"), "presence-tenant.t1.online", None),
        ("tenant notifications", u("u1"), "private-tenant.t1.notifications", None),
        ("online of other tenant", u("u1"), "presence-tenant.t2.online", forbidden),
        ("notifications of other tenant", u("u4"), "private-tenant.t1.notifications", forbidden),
        // fix: a thread channel only for a participant of a thread with that key
        ("own 1:1 thread", u("u1"), "presence-tenant.t1.thread.u1--u2", None),
        ("other's thread, same tenant", u("u1"), "presence-tenant.t1.thread.u2--u3", forbidden),
        ("unknown thread key", u("u1"), "presence-tenant.t1.thread.u1--u9", forbidden),
        ("own thread under other tenant", u("u4"), "presence-tenant.t1.thread.u1--u2", forbidden),
        // fix: own scheduled channel only (legacy allowed none)
        ("own scheduled", u("u1"), "private-scheduled.t1.u1", None),
        ("other's scheduled", u("u1"), "private-scheduled.t1.u2", forbidden),
        // outside the scheme: old names, unknown prefixes
        ("old thread name", u("u1"), "private-thread-th1", forbidden),
        ("old presence name", u("u1"), "presence-tenant-t1", forbidden),
        ("old user channel", u("u1"), "private-user-u1", forbidden),
        ("encrypted", u("u1"), "private-encrypted-user-u1", forbidden),
        ("bad characters", u("u1"), "presence-tenant.t1.online%20x", forbidden),
        // 401 only without a user and a tenant
        ("no identity", None, "presence-tenant.t1.online", unauthorized),
        ("user without a tenant", u("u9"), "presence-tenant.t1.online", unauthorized),
        // chat tokens: only their own conversation (issuer-bound), never a tenant channel
        ("visitor own conversation", v("v1", "t1"), "private-chatbot-c1", None),
        ("visitor other conversation", v("v1", "t1"), "private-chatbot-c2", forbidden),
        ("partner visitor, widget conversation", Some(visitor_of("partner", "v1", "t1")), "private-chatbot-c1", forbidden),
        ("visitor of other tenant", v("v1", "t2"), "private-chatbot-c1", forbidden),
        ("visitor tenant online", v("v1", "t1"), "presence-tenant.t1.online", forbidden),
        ("visitor thread", v("v1", "t1"), "presence-tenant.t1.thread.u1--u2", forbidden),
        ("user on a chatbot channel", u("v1"), "private-chatbot-c1", unauthorized),
        ("member on a chatbot channel", u("u1"), "private-chatbot-c1", forbidden),
    ];
    for (label, who, channel, want) in table {
        for kind in [Encoding::Form, Encoding::Json] {
            let (status, body) = authorize_as(&app, who.clone(), channel, kind).await;
            match want {
                None => assert_eq!(status, StatusCode::OK, "{label}: {body}"),
                Some((s, m)) => assert_eq!((status, body), error(s, m), "{label}"),
            }
        }
    }
}

#[tokio::test]
async fn private_channel_is_signed_without_channel_data() {
    let app = App::new().await;
    let (status, body) = authorize(&app, user("u1"), "private-tenant.t1.notifications").await;
    assert_eq!(status, StatusCode::OK);
    let sig = sign(APP_SECRET, "123.456:private-tenant.t1.notifications");
    assert_eq!(body, json!({"auth": format!("{APP_KEY}:{sig}")}));
}

#[tokio::test]
async fn presence_channel_data_is_the_user_id_and_email() {
    let app = App::new().await;
    let channel = "presence-tenant.t1.thread.u1--u2";
    let (status, body) = authorize(&app, user("u1"), channel).await;
    assert_eq!(status, StatusCode::OK);
    let data = r#"{"user_id":"u1","user_info":{"email":"alice@example.com"}}"#;
    assert_eq!(body["channel_data"], data);
    let sig = sign(APP_SECRET, &format!("123.456:{channel}:{data}"));
    assert_eq!(body["auth"], format!("{APP_KEY}:{sig}"));
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
    let data = r#"{"id":"u2","user_info":{"email":"bob@example.com"}}"#;
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
/// Answered 403 (never 401: the legacy client logs out on a 401).
#[tokio::test]
async fn visitor_named_like_a_user_cannot_sign_in_as_that_user() {
    let app = App::new().await;
    let mut req = Request::post("/api/chat/realtime/auth")
        .header("content-type", "application/json")
        .body(Body::from(r#"{"socket_id":"1.2"}"#))
        .unwrap();
    req.extensions_mut().insert(visitor("u2", "t1"));
    assert_eq!(app.send(req).await, forbidden());
}

#[tokio::test]
async fn bad_payloads_are_400_invalid_auth_payload() {
    let app = App::new().await;
    for (ctype, body) in [
        (
            "application/x-www-form-urlencoded",
            "socket_id=abc&channel_name=presence-tenant.t1.online",
        ),
        (
            "application/x-www-form-urlencoded",
            "channel_name=presence-tenant.t1.online",
        ),
        (
            "application/json",
            r#"{"channel_name":"presence-tenant.t1.online"}"#,
        ),
        ("application/json", r#"["1.2"]"#),
        ("application/json", "{nope"),
        ("application/json", r#"{"socket_id":1.2}"#),
    ] {
        let mut req = Request::post("/api/chat/realtime/auth")
            .header("content-type", ctype)
            .body(Body::from(body))
            .unwrap();
        req.extensions_mut().insert(user("u1"));
        assert_eq!(
            app.send(req).await,
            error(StatusCode::BAD_REQUEST, "Invalid auth payload"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn pusher_auth_failure_answered_with_200_is_an_error() {
    use cutover::handlers::pusher::PusherError;
    let app = App::new().await;
    let channel = "private-tenant.t1.notifications";
    app.state
        .pusher
        .trigger(channel, "ping", &json!({}))
        .await
        .expect("accepted");
    *app.recorder.reject.lock().unwrap() = true;
    let err = app
        .state
        .pusher
        .trigger(channel, "ping", &json!({}))
        .await
        .unwrap_err();
    assert!(matches!(err, PusherError::Rejected { code: 401 }), "{err}");
}
