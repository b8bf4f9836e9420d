//! Broadcasts against a real Soketi 1.6.1 (tests/realtime): Soketi accepts the
//! channel signatures of `POST /api/chat/realtime/auth`, a subscriber of the
//! thread presence channel gets the exact `tenant-user-message` payload of a
//! send, and a wrongly signed HTTP API
//! call is reported as an error.
//!
//! Needs Node (Soketi is run with `node`; `npm ci` in tests/realtime is done
//! by the test when node_modules is missing).

#[path = "support/harness.rs"]
mod harness;
#[path = "support/soketi.rs"]
mod soketi;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use cutover::handlers::pusher::PusherError;
use cutover::handlers::{PusherClient, PusherConfig};
use harness::{APP_ID, APP_KEY, APP_SECRET, App, user};
use serde_json::{Value, json};
use soketi::{Soketi, Subscriber};

async fn channel_auth(app: &App, who: &str, socket_id: &str, channel: &str) -> Value {
    let mut req = Request::post("/api/chat/realtime/auth")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "socket_id={socket_id}&channel_name={channel}"
        )))
        .unwrap();
    req.extensions_mut().insert(user(who));
    let (status, body) = app.send(req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriber_receives_the_exact_tenant_user_message_payload() {
    let soketi = Soketi::start(APP_ID, APP_KEY, APP_SECRET).await;
    let app = App::with_pusher(&soketi.http_url()).await;
    let mut sub = Subscriber::connect(soketi.port, APP_KEY).await;
    let channel = "presence-tenant.t1.thread.u1--u2";
    let auth = channel_auth(&app, "u2", &sub.socket_id, channel).await;
    let answer = sub.subscribe(channel, &auth).await;
    assert_eq!(
        answer["event"], "pusher_internal:subscription_succeeded",
        "{answer}"
    );

    let (status, sent) = app
        .call(
            "POST",
            "/api/chat/user-threads/th1/messages",
            Some(user("u1")),
            Some(json!({"body": "over the wire", "clientMessageId": "w1"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let event = sub.next_event().await;
    assert_eq!(
        (event["event"].as_str(), event["channel"].as_str()),
        (Some("tenant-user-message"), Some(channel))
    );
    let data: Value =
        serde_json::from_str(event["data"].as_str().expect("data is a string")).unwrap();
    let m = &sent["message"];
    assert_eq!(
        data,
        json!({"id": m["id"], "tenantId": "t1", "threadKey": "u1--u2", "senderId": "u1",
               "recipientId": "u2", "content": "over the wire", "createdAt": m["createdAt"]})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soketi_accepts_the_presence_signature_with_channel_data() {
    let soketi = Soketi::start(APP_ID, APP_KEY, APP_SECRET).await;
    let app = App::with_pusher(&soketi.http_url()).await;
    let mut sub = Subscriber::connect(soketi.port, APP_KEY).await;
    let auth = channel_auth(&app, "u1", &sub.socket_id, "presence-tenant.t1.online").await;
    let answer = sub.subscribe("presence-tenant.t1.online", &auth).await;
    assert_eq!(
        answer["event"], "pusher_internal:subscription_succeeded",
        "{answer}"
    );
    let members: Value = serde_json::from_str(answer["data"].as_str().unwrap()).unwrap();
    assert_eq!(
        members["presence"]["hash"]["u1"],
        json!({"email": "alice@example.com"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soketi_rejects_a_forged_channel_signature() {
    let soketi = Soketi::start(APP_ID, APP_KEY, APP_SECRET).await;
    let mut sub = Subscriber::connect(soketi.port, APP_KEY).await;
    let forged = json!({"auth": format!("{APP_KEY}:{}", "0".repeat(64))});
    let answer = sub
        .subscribe("private-tenant.t1.notifications", &forged)
        .await;
    assert_eq!(answer["event"], "pusher:subscription_error", "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trigger_signed_with_the_wrong_secret_is_an_error() {
    let soketi = Soketi::start(APP_ID, APP_KEY, APP_SECRET).await;
    let good = PusherClient::new(PusherConfig {
        app_id: APP_ID.into(),
        key: APP_KEY.into(),
        secret: APP_SECRET.into(),
        base_url: soketi.http_url(),
    });
    good.trigger("private-tenant.t1.notifications", "ping", &json!({}))
        .await
        .expect("accepted");
    let bad = PusherClient::new(PusherConfig {
        app_id: APP_ID.into(),
        key: APP_KEY.into(),
        secret: "wrong".into(),
        base_url: soketi.http_url(),
    });
    let err = bad
        .trigger("private-tenant.t1.notifications", "ping", &json!({}))
        .await
        .expect_err("rejected");
    // Soketi answers a bad signature with status 200 and {"code":401,...}.
    assert!(matches!(err, PusherError::Rejected { code: 401 }), "{err}");
}
