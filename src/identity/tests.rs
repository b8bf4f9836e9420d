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
        issuer: Some("widget".into()),
        expires_at: Some(99),
    }
}

/// The request the headers are signed for in these tests.
const REQ: SignedRequest<'static> = SignedRequest {
    audience: Audience::Rust,
    method: "GET",
    target: "/api/tenant-chatbot/config?x=1",
};

fn signed_for(id: &Identity, req: &SignedRequest<'_>, now: u64) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for (name, value) in identity_headers(id, &key(), req, now) {
        headers.insert(name, value.parse().expect("header-safe value"));
    }
    headers
}

fn signed(id: &Identity, now: u64) -> HeaderMap {
    signed_for(id, &REQ, now)
}

fn verify(headers: &HeaderMap, now: u64) -> Result<Option<Identity>, IdentityError> {
    verify_identity_headers(headers, &key(), &REQ, now)
}

#[test]
fn signed_headers_verify_back_to_the_identity() {
    let back = verify(&signed(&identity(), 1_000), 1_030)
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
        issuer: None,
        ..identity()
    };
    let names: Vec<_> = identity_headers(&id, &key(), &REQ, 1)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, [HEADER_USER_ID, HEADER_AUTH, HEADER_IDENTITY_SIG]);
    let back = verify(&signed(&id, 1), 1).expect("valid").expect("present");
    assert_eq!(
        (back.email, back.tenant_id, back.issuer),
        (None, None, None)
    );
}

#[test]
fn changed_user_id_fails_the_signature() {
    let mut headers = signed(&identity(), 1_000);
    headers.insert(HEADER_USER_ID, "admin".parse().expect("value"));
    assert_eq!(verify(&headers, 1_000), Err(IdentityError::BadSignature));
}

#[test]
fn other_key_fails_the_signature() {
    let other = IdentityKey::new(vec![1u8; 32]).expect("key");
    assert_eq!(
        verify_identity_headers(&signed(&identity(), 5), &other, &REQ, 5),
        Err(IdentityError::BadSignature)
    );
}

#[test]
fn old_signature_is_stale() {
    let headers = signed(&identity(), 1_000);
    assert_eq!(verify(&headers, 1_031), Err(IdentityError::Stale));
}

#[test]
fn user_id_without_signature_is_rejected_and_no_headers_is_anonymous() {
    let mut headers = HeaderMap::new();
    assert_eq!(verify(&headers, 1), Ok(None));
    headers.insert(HEADER_USER_ID, "spoofed".parse().expect("value"));
    assert_eq!(verify(&headers, 1), Err(IdentityError::MissingSignature));
    let mut tenant_only = HeaderMap::new();
    tenant_only.insert(HEADER_TENANT_ID, "t-9".parse().expect("value"));
    assert_eq!(
        verify(&tenant_only, 1),
        Err(IdentityError::MissingSignature)
    );
}

#[test]
fn repeated_identity_header_is_rejected() {
    let mut headers = signed(&identity(), 1);
    headers.append(HEADER_USER_ID, "second".parse().expect("value"));
    assert!(matches!(
        verify(&headers, 1),
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

#[test]
fn changed_issuer_fails_the_signature() {
    let mut headers = signed(&identity(), 1_000);
    headers.insert(HEADER_ISSUER, "partner".parse().expect("value"));
    assert_eq!(verify(&headers, 1_000), Err(IdentityError::BadSignature));
}

#[test]
fn signature_for_one_request_is_refused_on_another() {
    let headers = signed(&identity(), 1_000);
    let replays = [
        SignedRequest {
            method: "POST",
            ..REQ
        },
        SignedRequest {
            target: "/api/tenant-chatbot/config?x=2",
            ..REQ
        },
        SignedRequest {
            target: "/api/tenant-chatbot/config",
            ..REQ
        },
        SignedRequest {
            target: "/api/tenant-chatbot/conversations?x=1",
            ..REQ
        },
        SignedRequest {
            audience: Audience::Next,
            ..REQ
        },
    ];
    for replay in replays {
        assert_eq!(
            verify_identity_headers(&headers, &key(), &replay, 1_000),
            Err(IdentityError::BadSignature),
            "{replay:?}"
        );
    }
}

#[test]
fn target_is_signed_as_the_url_and_url_search_params_standards_serialize_it() {
    // What Next's `new URL(req.url)` shows for the raw target the proxy sent.
    for (sent, seen) in [
        ("/a/./b/../c?q=\"x\"", "/a/c?q=%22x%22"),
        ("/a?", "/a"),
        ("/a%7e?b", "/a%7e?b"),
        // Next may re-encode the query it hands the route handler.
        ("/w?jid=1@g.us&q=a b", "/w?jid=1%40g.us&q=a+b"),
    ] {
        let headers = signed_for(
            &identity(),
            &SignedRequest {
                target: sent,
                ..REQ
            },
            7,
        );
        let at_next = SignedRequest {
            target: seen,
            ..REQ
        };
        assert!(
            verify_identity_headers(&headers, &key(), &at_next, 7).is_ok(),
            "{sent}"
        );
    }
}

/// Inputs the TypeScript verifier refuses; this one must refuse them too.
#[test]
fn non_canonical_signature_and_values_are_refused() {
    let headers = signed(&identity(), 1_000);
    let sig = headers[HEADER_IDENTITY_SIG]
        .to_str()
        .expect("ascii")
        .to_string();
    let with_sig = |v: String| {
        let mut h = headers.clone();
        h.insert(HEADER_IDENTITY_SIG, v.parse().expect("value"));
        verify(&h, 1_000)
    };
    let plus = sig.replacen("t=", "t=+", 1);
    assert_eq!(with_sig(plus), Err(IdentityError::MalformedSignature));
    let zero = sig.replacen("t=", "t=0", 1);
    assert_eq!(with_sig(zero), Err(IdentityError::MalformedSignature));
    let (head, hex) = sig.split_once("v2=").expect("v2");
    let upper = format!("{head}v2={}", hex.to_uppercase());
    assert_eq!(with_sig(upper), Err(IdentityError::MalformedSignature));
    let v1 = sig.replacen("v2=", "v1=", 1);
    assert_eq!(with_sig(v1), Err(IdentityError::MalformedSignature));

    for (name, value) in [
        (HEADER_USER_ID, "a, b"),
        (HEADER_USER_ID, "visitor%41"),
        (HEADER_USER_EMAIL, "zo%c3%ab@example.com"),
        (HEADER_TENANT_ID, "t%2D1"),
        (HEADER_ISSUER, "wid get"),
    ] {
        let mut h = headers.clone();
        h.insert(name, value.parse().expect("value"));
        assert_eq!(
            verify(&h, 1_000),
            Err(IdentityError::MalformedHeader(name)),
            "{name}: {value}"
        );
    }
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
    let mut req = Request::get("/me?a=1")
        .body(Body::empty())
        .expect("request");
    let me = SignedRequest {
        target: "/me?a=1",
        ..REQ
    };
    *req.headers_mut() = signed_for(&identity(), &me, now());
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

#[tokio::test]
async fn middleware_refuses_headers_signed_for_another_request() {
    let me = SignedRequest {
        target: "/me",
        ..REQ
    };
    for (method, audience) in [("POST", Audience::Rust), ("GET", Audience::Next)] {
        let mut req = Request::get("/me").body(Body::empty()).expect("request");
        let other = SignedRequest {
            method,
            audience,
            ..me
        };
        *req.headers_mut() = signed_for(&identity(), &other, now());
        let resp = app().oneshot(req).await.expect("infallible");
        assert_eq!(
            resp.status(),
            StatusCode::UNAUTHORIZED,
            "{method} {audience:?}"
        );
    }
}

/// The exact headers, against an HMAC computed outside this crate (Python's
/// `hmac` over the documented message): signing from the keyed state kept in
/// the key gives what a fresh key schedule gives, every time it is used.
#[test]
fn signature_matches_an_independently_computed_vector() {
    let sig = "t=1700000000,v2=89271ebb175b6c57ad2220da7e3faa07d8f3d6647dbe0cf0bd040e3bbd8149e9";
    let want = vec![
        (HEADER_USER_ID, "visitor%207".to_string()),
        (HEADER_USER_EMAIL, "zo%C3%AB@example.com".to_string()),
        (HEADER_TENANT_ID, "t-1".to_string()),
        (HEADER_ISSUER, "widget".to_string()),
        (HEADER_AUTH, "chatbot".to_string()),
        (HEADER_IDENTITY_SIG, sig.to_string()),
    ];
    let k = key();
    for _ in 0..2 {
        assert_eq!(identity_headers(&identity(), &k, &REQ, 1_700_000_000), want);
    }
}
