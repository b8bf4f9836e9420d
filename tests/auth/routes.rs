//! Route policy, service tokens, `?token=`, the cache and identity headers,
//! end to end over real minted sessions.

use cutover::auth::settings::SecretBytes;
use cutover::auth::{
    AuthConfig, AuthMode, AuthOutcome, Authenticator, Credentials, RejectReason, ServiceToken,
    SessionConfig, SessionFlavor, take_query_token,
};
use cutover::identity::{AuthScheme, IdentityKey, identity_headers, verify_identity_headers};
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
    for (name, value) in identity_headers(&id, &key, now()) {
        headers.insert(name, value.parse().expect("valid header value"));
    }
    let back = verify_identity_headers(&headers, &key, now() + 5)
        .expect("verifies")
        .expect("some");
    assert_eq!((back.user_id, back.scheme), (id.user_id, id.scheme));
}
