//! Auth.js v5 session cookies (JWE dir + A256CBC-HS512, salt = cookie name, kid)
//! minted by @auth/core's encode and cookie chunker.

use cutover::auth::{RejectReason, SessionFlavor};
use serde_json::json;

use crate::common::*;
use crate::mint::{cookies, mint_one, now, token};

const NAME: &str = "authjs.session-token";
const SECURE_NAME: &str = "__Secure-authjs.session-token";

fn v5_session(secret: &str, salt: &str, pad: usize) -> serde_json::Value {
    mint_one(json!({
        "kind": "authjs_v5", "secret": secret, "salt": salt, "pad": pad,
        "claims": {"sub": "user-5", "email": "grace@example.com", "tenantId": "t-9"},
    }))
}

#[test]
fn authjs_v5_cookie_yields_the_session_user() {
    let minted = v5_session(V5_SECRET, NAME, 0);
    let id = expect_identity(with_cookie(
        &v5(),
        &session_route(),
        &cookie_header(&cookies(&minted)),
        now(),
    ));
    assert_eq!(id.user_id, "user-5");
    assert_eq!(id.email.as_deref(), Some("grace@example.com"));
}

#[test]
fn authjs_v5_secure_cookie_is_accepted() {
    let minted = v5_session(V5_SECRET, SECURE_NAME, 0);
    let id = expect_identity(with_cookie(
        &v5(),
        &session_route(),
        &cookie_header(&cookies(&minted)),
        now(),
    ));
    assert_eq!(id.user_id, "user-5");
}

#[test]
fn authjs_v5_key_is_salted_with_the_cookie_name() {
    let minted = v5_session(V5_SECRET, SECURE_NAME, 0);
    let header = format!("{NAME}={}", token(&minted));
    expect_rejected(
        with_cookie(&v5(), &session_route(), &header, now()),
        RejectReason::BadSignature,
    );
}

#[test]
fn authjs_v5_rotated_secret_is_chosen_by_kid() {
    let minted = v5_session(V5_OLD_SECRET, NAME, 0);
    let auth = session_auth(SessionFlavor::AuthJsV5, &[V5_SECRET, V5_OLD_SECRET]);
    expect_identity(with_cookie(
        &auth,
        &session_route(),
        &cookie_header(&cookies(&minted)),
        now(),
    ));
}

#[test]
fn authjs_v5_wrong_secret_is_rejected() {
    let minted = v5_session("some-other-secret", NAME, 0);
    let outcome = with_cookie(
        &v5(),
        &session_route(),
        &cookie_header(&cookies(&minted)),
        now(),
    );
    expect_rejected(outcome, RejectReason::BadSignature);
}

#[test]
fn authjs_v5_chunked_cookie_is_rejoined() {
    let minted = v5_session(V5_SECRET, NAME, 9000);
    let mut chunks = cookies(&minted);
    assert!(chunks.len() >= 3, "@auth/core should have chunked");
    chunks.swap(0, 2);
    let id = expect_identity(with_cookie(
        &v5(),
        &session_route(),
        &cookie_header(&chunks),
        now(),
    ));
    assert_eq!(id.user_id, "user-5");
}

#[test]
fn authjs_v5_tampered_tag_is_rejected() {
    let bad = tamper_segment(&token(&v5_session(V5_SECRET, NAME, 0)), 4);
    let header = format!("{NAME}={bad}");
    expect_rejected(
        with_cookie(&v5(), &session_route(), &header, now()),
        RejectReason::BadSignature,
    );
}

#[test]
fn authjs_v5_bearer_tries_every_cookie_name() {
    let minted = v5_session(V5_SECRET, SECURE_NAME, 0);
    let id = expect_identity(with_bearer(&v5(), &session_route(), &token(&minted), now()));
    assert_eq!(id.user_id, "user-5");
}

#[test]
fn nextauth_v4_token_is_rejected_by_an_authjs_v5_config() {
    let minted =
        mint_one(json!({"kind": "nextauth_v4", "secret": V5_SECRET, "claims": {"sub": "u"}}));
    let header = format!("{NAME}={}", token(&minted));
    expect_rejected(
        with_cookie(&v5(), &session_route(), &header, now()),
        RejectReason::Malformed,
    );
}
