//! Unit tests of identity header signing and the axum middleware.

use axum::body::Body;
use axum::routing::get;
use axum::{Extension, Router};
use http::{HeaderMap, Request, StatusCode};
use tower::ServiceExt;

use super::*;

fn key() -> IdentityKey {
    IdentityKey::new(b"0123456789abcdef0123456789abcdef".to_vec()).expect("32 bytes")
}

fn identity() -> Identity {
    Identity {
        scheme: AuthScheme::Chatbot,
        user_id: "visitor 7".into(),
        email: Some("zoë@example.com".into()),
        tenant_id: Some("t-1".into()),
        expires_at: Some(99),
    }
}

fn signed(id: &Identity, now: u64) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in identity_headers(id, &key(), now) {
        headers.insert(name, value.parse().expect("header-safe value"));
    }
    headers
}

#[test]
fn signed_headers_verify_back_to_the_identity() {
    let back = verify_identity_headers(&signed(&identity(), 1_000), &key(), 1_030)
        .expect("valid")
        .expect("present");
    assert_eq!(
        back,
        Identity {
            expires_at: None,
            ..identity()
        }
    );
}

#[test]
fn absent_email_and_tenant_are_not_sent() {
    let id = Identity {
        email: None,
        tenant_id: None,
        ..identity()
    };
    let names: Vec<_> = identity_headers(&id, &key(), 1)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, [HEADER_USER_ID, HEADER_AUTH, HEADER_IDENTITY_SIG]);
    let back = verify_identity_headers(&signed(&id, 1), &key(), 1)
        .expect("valid")
        .expect("present");
    assert_eq!((back.email, back.tenant_id), (None, None));
}

#[test]
fn changed_user_id_fails_the_signature() {
    let mut headers = signed(&identity(), 1_000);
    headers.insert(HEADER_USER_ID, "admin".parse().expect("value"));
    assert_eq!(
        verify_identity_headers(&headers, &key(), 1_000),
        Err(IdentityError::BadSignature)
    );
}

#[test]
fn other_key_fails_the_signature() {
    let other = IdentityKey::new(vec![1u8; 32]).expect("key");
    assert_eq!(
        verify_identity_headers(&signed(&identity(), 5), &other, 5),
        Err(IdentityError::BadSignature)
    );
}

#[test]
fn old_signature_is_stale() {
    let headers = signed(&identity(), 1_000);
    assert_eq!(
        verify_identity_headers(&headers, &key(), 1_061),
        Err(IdentityError::Stale)
    );
}

#[test]
fn user_id_without_signature_is_rejected_and_no_headers_is_anonymous() {
    let mut headers = HeaderMap::new();
    assert_eq!(verify_identity_headers(&headers, &key(), 1), Ok(None));
    headers.insert(HEADER_USER_ID, "spoofed".parse().expect("value"));
    assert_eq!(
        verify_identity_headers(&headers, &key(), 1),
        Err(IdentityError::MissingSignature)
    );
}

#[test]
fn repeated_identity_header_is_rejected() {
    let mut headers = signed(&identity(), 1);
    headers.append(HEADER_USER_ID, "second".parse().expect("value"));
    assert!(matches!(
        verify_identity_headers(&headers, &key(), 1),
        Err(IdentityError::MalformedHeader(_))
    ));
}

#[test]
fn short_key_is_refused_and_debug_hides_the_key() {
    assert_eq!(
        IdentityKey::new(vec![0u8; 8]),
        Err(IdentityError::KeyTooShort(8))
    );
    assert_eq!(format!("{:?}", key()), "IdentityKey(<redacted>)");
}

fn app() -> Router {
    Router::new()
        .route(
            "/me",
            get(|Extension(id): Extension<Identity>| async move { id.user_id }),
        )
        .layer(axum::middleware::from_fn_with_state(
            key(),
            require_identity,
        ))
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

#[tokio::test]
async fn middleware_hands_the_identity_to_the_handler() {
    let mut req = Request::get("/me").body(Body::empty()).expect("request");
    *req.headers_mut() = signed(&identity(), now());
    let resp = app().oneshot(req).await.expect("infallible");
    assert_eq!(resp.status(), StatusCode::OK);
    let body = axum::body::to_bytes(resp.into_body(), 1024)
        .await
        .expect("body");
    assert_eq!(&body[..], b"visitor 7");
}

#[tokio::test]
async fn middleware_rejects_a_spoofed_identity_with_401_json() {
    let req = Request::get("/me")
        .header(HEADER_USER_ID, "admin")
        .body(Body::empty())
        .expect("request");
    let resp = app().oneshot(req).await.expect("infallible");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let body = axum::body::to_bytes(resp.into_body(), 1024)
        .await
        .expect("body");
    let json: serde_json::Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(json["error"], "unauthorized");
}
