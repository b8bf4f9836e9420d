//! Route policy, service tokens, `?token=`, the cache and identity headers,
//! end to end over real minted sessions.

use cutover::auth::settings::SecretBytes;
use cutover::auth::{
    AuthConfig, AuthMode, AuthOutcome, Authenticator, Credentials, RejectReason, ServiceToken,
    SessionConfig, SessionFlavor, take_query_token,
};
use cutover::identity::{
    Audience, AuthScheme, IdentityError, IdentityKey, SignedRequest, identity_headers,
    verify_identity_headers,
};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::common::*;
use crate::mint::{cookies, mint_one, now, token};

const WORKER_TOKEN: &str = "svc_3f9a1c0d7e5b4a2f8c6d1e0b9a7f5c3e";

fn full_auth() -> Authenticator {
    Authenticator::new(AuthConfig {
        session: Some(SessionConfig::new(
            SessionFlavor::NextAuthV4,
            vec![SecretBytes::new(V4_SECRET.as_bytes())],
        )),
        service: vec![ServiceToken {
            name: "whatsapp-worker".into(),
            sha256: Sha256::digest(WORKER_TOKEN.as_bytes()).into(),
        }],
        ..AuthConfig::default()
    })
}

fn session_token() -> String {
    token(&mint_one(
        json!({"kind": "nextauth_v4", "secret": V4_SECRET, "claims": {"sub": "user-42"}}),
    ))
}

#[test]
fn service_token_is_matched_by_its_hash() {
    let route = route(AuthMode::Required, &[AuthScheme::Service]);
    let id = expect_identity(with_bearer(&full_auth(), &route, WORKER_TOKEN, now()));
    assert_eq!(
        (id.scheme, id.user_id.as_str()),
        (AuthScheme::Service, "whatsapp-worker")
    );
    let outcome = with_bearer(&full_auth(), &route, "svc_wrong", now());
    expect_rejected(outcome, RejectReason::BadSignature);
}

#[test]
fn required_route_without_credentials_is_missing_and_optional_is_anonymous() {
    let auth = full_auth();
    let none = Credentials::default();
    let outcome = auth.authenticate(&session_route(), &none, now());
    assert_eq!(
        outcome,
        AuthOutcome::Rejected {
            scheme: None,
            reason: RejectReason::Missing
        }
    );
    let optional = route(AuthMode::Optional, &[AuthScheme::Session]);
    assert_eq!(
        auth.authenticate(&optional, &none, now()),
        AuthOutcome::Anonymous
    );
    let garbage = ["next-auth.session-token=garbage"];
    let creds = Credentials {
        cookies: &garbage,
        ..Credentials::default()
    };
    let open = route(AuthMode::None, &[]);
    assert_eq!(
        auth.authenticate(&open, &creds, now()),
        AuthOutcome::Anonymous
    );
}

#[test]
fn session_token_on_a_service_only_route_is_not_accepted() {
    let route = route(AuthMode::Required, &[AuthScheme::Service]);
    let outcome = with_bearer(&full_auth(), &route, &session_token(), now());
    expect_rejected(outcome, RejectReason::WrongAudience);
}

#[test]
fn query_token_is_used_only_where_the_route_allows_it() {
    let jwt = session_token();
    let (path, value) = take_query_token(&format!("/api/events?room=1&token={jwt}"));
    assert_eq!(path, "/api/events?room=1");
    let value = value.expect("token taken");
    let creds = Credentials {
        query_token: Some(&value),
        ..Credentials::default()
    };
    let mut allowed = session_route();
    allowed.query_token = true;
    expect_identity(full_auth().authenticate(&allowed, &creds, now()));
    expect_rejected(
        full_auth().authenticate(&session_route(), &creds, now()),
        RejectReason::Missing,
    );
}

#[test]
fn cached_session_is_not_used_past_its_exp() {
    let minted = mint_one(
        json!({"kind": "nextauth_v4", "secret": V4_SECRET, "claims": {"sub": "u"}, "maxAge": 60}),
    );
    let header = cookie_header(&cookies(&minted));
    let auth = full_auth();
    let t = now();
    let id = expect_identity(with_cookie(&auth, &session_route(), &header, t));
    let exp = id.expires_at.expect("exp");
    expect_identity(with_cookie(&auth, &session_route(), &header, t + 1));
    expect_rejected(
        with_cookie(&auth, &session_route(), &header, exp + 15),
        RejectReason::Expired,
    );
}

#[test]
fn identity_from_a_real_session_survives_the_signed_headers() {
    let id = expect_identity(with_bearer(
        &full_auth(),
        &session_route(),
        &session_token(),
        now(),
    ));
    let key = IdentityKey::new(vec![7u8; 32]).expect("key");
    let mut headers = http::HeaderMap::new();
    let req = SignedRequest {
        audience: Audience::Next,
        method: "GET",
        target: "/api/chat/user-threads?limit=5",
    };
    for (name, value) in identity_headers(&id, &key, &req, now()) {
        headers.insert(name, value.parse().expect("valid header value"));
    }
    let back = verify_identity_headers(&headers, &key, &req, now() + 5)
        .expect("verifies")
        .expect("some");
    assert_eq!((back.user_id, back.scheme), (id.user_id, id.scheme));
}

/// Issue 14, finding 6: identity headers captured for one request (a GET to
/// next) are refused when replayed as another method, on another path or
/// query, or at the other backend; and the inputs the TypeScript verifier
/// refuses (`t=+<ts>`, upper-case hex, a raw `", "` in a value) are refused here.
#[test]
fn captured_identity_headers_are_refused_elsewhere_and_when_not_canonical() {
    let id = expect_identity(with_bearer(
        &full_auth(),
        &session_route(),
        &session_token(),
        now(),
    ));
    let key = IdentityKey::new(vec![7u8; 32]).expect("key");
    let captured = SignedRequest {
        audience: Audience::Next,
        method: "GET",
        target: "/api/chat/user-threads/th1/messages",
    };
    let mut headers = http::HeaderMap::new();
    for (name, value) in identity_headers(&id, &key, &captured, now()) {
        headers.insert(name, value.parse().expect("valid header value"));
    }
    let verify = |h: &http::HeaderMap, req: &SignedRequest<'_>| {
        verify_identity_headers(h, &key, req, now() + 20)
    };
    assert!(verify(&headers, &captured).is_ok());
    for replay in [
        SignedRequest {
            method: "POST",
            ..captured
        },
        SignedRequest {
            target: "/api/chat/user-threads/th2/messages",
            ..captured
        },
        SignedRequest {
            target: "/api/chat/user-threads/th1/messages?limit=1",
            ..captured
        },
        SignedRequest {
            audience: Audience::Rust,
            ..captured
        },
    ] {
        assert_eq!(
            verify(&headers, &replay),
            Err(IdentityError::BadSignature),
            "{replay:?}"
        );
    }
    assert_eq!(
        verify_identity_headers(&headers, &key, &captured, now() + 31),
        Err(IdentityError::Stale)
    );

    let sig = headers["x-cutover-identity-sig"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let (t, hex) = sig.split_once(",v2=").expect("t=…,v2=…");
    let user = headers["x-cutover-user-id"]
        .to_str()
        .expect("ascii")
        .to_owned();
    for (name, value) in [
        ("x-cutover-identity-sig", sig.replacen("t=", "t=+", 1)),
        (
            "x-cutover-identity-sig",
            format!("{t},v2={}", hex.to_uppercase()),
        ),
        ("x-cutover-user-id", format!("{user}, {user}")),
    ] {
        let mut h = headers.clone();
        h.insert(name, value.parse().expect("header value"));
        assert!(
            matches!(
                verify(&h, &captured),
                Err(IdentityError::MalformedSignature | IdentityError::MalformedHeader(_))
            ),
            "{name}: {value}"
        );
    }
}
