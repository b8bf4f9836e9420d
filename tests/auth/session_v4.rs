//! next-auth v4 session cookies (JWE dir + A256GCM) minted by next-auth's own encode
//! and cookie chunker.

use cutover::auth::RejectReason;
use cutover::identity::AuthScheme;
use serde_json::{Value, json};

use crate::common::*;
use crate::mint::{cookies, mint, mint_one, now, token};

fn v4_session(extra: Value) -> Value {
    let mut spec = json!({
        "kind": "nextauth_v4",
        "secret": V4_SECRET,
        "claims": {"sub": "user-42", "email": "ada@example.com", "name": "Ada", "picture": null},
    });
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    mint_one(spec)
}

#[test]
fn nextauth_v4_cookie_yields_the_session_user() {
    let minted = v4_session(json!({}));
    let id = expect_identity(with_cookie(
        &v4(),
        &session_route(),
        &cookie_header(&cookies(&minted)),
        now(),
    ));
    assert_eq!(id.scheme, AuthScheme::Session);
    assert_eq!(id.user_id, "user-42");
    assert_eq!(id.email.as_deref(), Some("ada@example.com"));
    assert!(
        id.expires_at
            .is_some_and(|exp| exp > now() + 29 * 24 * 3600)
    );
}

#[test]
fn secure_prefixed_cookie_is_accepted() {
    let minted = v4_session(json!({"cookieName": "__Secure-next-auth.session-token"}));
    let header = format!("other=1; {}", cookie_header(&cookies(&minted)));
    assert!(header.contains("__Secure-next-auth.session-token="));
    let id = expect_identity(with_cookie(&v4(), &session_route(), &header, now()));
    assert_eq!(id.user_id, "user-42");
}

#[test]
fn chunked_cookie_is_rejoined_in_numeric_order() {
    let minted = v4_session(json!({"pad": 9000}));
    let mut chunks = cookies(&minted);
    assert!(
        chunks.len() >= 3,
        "next-auth should have chunked: {}",
        chunks.len()
    );
    chunks.reverse();
    let id = expect_identity(with_cookie(
        &v4(),
        &session_route(),
        &cookie_header(&chunks),
        now(),
    ));
    assert_eq!(id.user_id, "user-42");
}

/// next-auth expires the plain cookie when it switches to chunks, so a
/// browser never sends both: the pair is not guessed at (see the cookie
/// tossing test below).
#[test]
fn an_unsuffixed_cookie_next_to_chunks_is_ambiguous() {
    let stale = v4_session(json!({"claims": {"sub": "stale-user"}}));
    let fresh = v4_session(json!({"pad": 5000}));
    let mut pairs = cookies(&stale);
    pairs.extend(cookies(&fresh));
    expect_rejected(
        with_cookie(&v4(), &session_route(), &cookie_header(&pairs), now()),
        RejectReason::Ambiguous,
    );
}

#[test]
fn missing_chunk_is_rejected() {
    let minted = v4_session(json!({"pad": 9000}));
    let mut chunks = cookies(&minted);
    chunks.remove(1);
    let outcome = with_cookie(&v4(), &session_route(), &cookie_header(&chunks), now());
    expect_rejected(outcome, RejectReason::Malformed);
}

#[test]
fn swapped_chunk_values_are_rejected() {
    let minted = v4_session(json!({"pad": 9000}));
    let mut chunks = cookies(&minted);
    let first = chunks[0].1.clone();
    chunks[0].1 = chunks[1].1.clone();
    chunks[1].1 = first;
    let outcome = with_cookie(&v4(), &session_route(), &cookie_header(&chunks), now());
    assert!(
        matches!(outcome, cutover::auth::AuthOutcome::Rejected { .. }),
        "{outcome:?}"
    );
}

#[test]
fn expired_session_is_rejected_after_the_skew() {
    let minted = v4_session(json!({"maxAge": 100}));
    let header = cookie_header(&cookies(&minted));
    let issued = now();
    expect_identity(with_cookie(
        &v4(),
        &session_route(),
        &header,
        issued + 100 + 10,
    ));
    expect_rejected(
        with_cookie(&v4(), &session_route(), &header, issued + 100 + 16),
        RejectReason::Expired,
    );
}

#[test]
fn session_with_wrong_secret_is_rejected() {
    let minted = mint_one(
        json!({"kind": "nextauth_v4", "secret": "not-the-secret", "claims": {"sub": "u"}}),
    );
    let outcome = with_cookie(
        &v4(),
        &session_route(),
        &cookie_header(&cookies(&minted)),
        now(),
    );
    expect_rejected(outcome, RejectReason::BadSignature);
}

#[test]
fn older_secret_in_the_rotation_list_is_accepted() {
    let minted =
        mint_one(json!({"kind": "nextauth_v4", "secret": V4_OLD_SECRET, "claims": {"sub": "old"}}));
    let auth = session_auth(
        cutover::auth::SessionFlavor::NextAuthV4,
        &[V4_SECRET, V4_OLD_SECRET],
    );
    let id = expect_identity(with_cookie(
        &auth,
        &session_route(),
        &cookie_header(&cookies(&minted)),
        now(),
    ));
    assert_eq!(id.user_id, "old");
}

#[test]
fn tampered_ciphertext_is_rejected() {
    let bad = tamper_segment(&token(&v4_session(json!({}))), 3);
    let header = format!("next-auth.session-token={bad}");
    expect_rejected(
        with_cookie(&v4(), &session_route(), &header, now()),
        RejectReason::BadSignature,
    );
}

#[test]
fn tampered_tag_is_rejected() {
    let bad = tamper_segment(&token(&v4_session(json!({}))), 4);
    let header = format!("next-auth.session-token={bad}");
    expect_rejected(
        with_cookie(&v4(), &session_route(), &header, now()),
        RejectReason::BadSignature,
    );
}

#[test]
fn malformed_base64_is_rejected() {
    let good = token(&v4_session(json!({})));
    let bad = good.replacen('.', ".*", 3);
    let header = format!("next-auth.session-token={bad}");
    expect_rejected(
        with_cookie(&v4(), &session_route(), &header, now()),
        RejectReason::Malformed,
    );
}

fn variant(extra: Value) -> String {
    let mut spec =
        json!({"kind": "nextauth_v4_variant", "secret": V4_SECRET, "claims": {"sub": "u"}});
    if let (Some(spec), Some(extra)) = (spec.as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    token(&mint_one(spec))
}

#[test]
fn enc_other_than_a256gcm_is_rejected() {
    // next-auth's own decode would accept A128CBC-HS256; cutover does not.
    let header = format!(
        "next-auth.session-token={}",
        variant(json!({"enc": "A128CBC-HS256"}))
    );
    expect_rejected(
        with_cookie(&v4(), &session_route(), &header, now()),
        RejectReason::Malformed,
    );
}

#[test]
fn zip_header_is_rejected() {
    let header = format!("next-auth.session-token={}", variant(json!({"zip": "DEF"})));
    expect_rejected(
        with_cookie(&v4(), &session_route(), &header, now()),
        RejectReason::Malformed,
    );
}

#[test]
fn crit_header_is_rejected() {
    let header = format!("next-auth.session-token={}", variant(json!({"crit": true})));
    expect_rejected(
        with_cookie(&v4(), &session_route(), &header, now()),
        RejectReason::Malformed,
    );
}

#[test]
fn plain_variant_from_the_same_key_is_accepted() {
    // Guards the variant tests above: the same path with A256GCM passes.
    let header = format!("next-auth.session-token={}", variant(json!({})));
    expect_identity(with_cookie(&v4(), &session_route(), &header, now()));
}

#[test]
fn oversized_cookie_is_rejected_without_panic() {
    let minted = v4_session(json!({"pad": 20000}));
    let outcome = with_cookie(
        &v4(),
        &session_route(),
        &cookie_header(&cookies(&minted)),
        now(),
    );
    expect_rejected(outcome, RejectReason::Malformed);
}

#[test]
fn session_token_as_bearer_is_accepted() {
    let minted = v4_session(json!({}));
    let id = expect_identity(with_bearer(&v4(), &session_route(), &token(&minted), now()));
    assert_eq!(id.user_id, "user-42");
}

/// Cookie tossing: a sibling subdomain plants its own valid session as
/// `next-auth.session-token.0..N` (or a second `next-auth.session-token`) next
/// to the victim's. The attacker's session is never chosen: on an https site
/// only the `__Secure-` name counts; otherwise the mixed set is ambiguous
/// (no credential, counted as `ambiguous`).
#[test]
fn tossed_session_cookies_never_pick_the_attackers_session() {
    let minted = mint(json!([
        {"kind": "nextauth_v4", "secret": V4_SECRET, "claims": {"sub": "user-42"}},
        {"kind": "nextauth_v4", "secret": V4_SECRET, "claims": {"sub": "user-42"},
         "cookieName": "__Secure-next-auth.session-token"},
        {"kind": "nextauth_v4", "secret": V4_SECRET, "claims": {"sub": "attacker"}, "pad": 9000},
    ]));
    let (victim, victim_secure, attacker) = (&minted[0], &minted[1], &minted[2]);
    let tossed = cookies(attacker);
    assert!(tossed.len() >= 2, "the attacker's cookie should be chunked");

    // http site: the attacker's chunks next to the victim's plain cookie.
    let mixed = format!(
        "{}; {}",
        cookie_header(&tossed),
        cookie_header(&cookies(victim))
    );
    let outcome = with_cookie_over(false, &v4(), &session_route(), &mixed, now());
    assert_eq!(outcome.result_label(), Some("ambiguous"));
    expect_rejected(outcome, RejectReason::Ambiguous);

    // Two values for the one name, the attacker's first.
    let twice = format!(
        "next-auth.session-token={}; next-auth.session-token={}",
        token(attacker),
        token(victim)
    );
    expect_rejected(
        with_cookie_over(false, &v4(), &session_route(), &twice, now()),
        RejectReason::Ambiguous,
    );

    // https site: only the victim's `__Secure-` cookie is the session.
    let secure = format!(
        "{}; {}",
        cookie_header(&tossed),
        cookie_header(&cookies(victim_secure))
    );
    let id = expect_identity(with_cookie_over(
        true,
        &v4(),
        &session_route(),
        &secure,
        now(),
    ));
    assert_eq!(id.user_id, "user-42");
}
