//! The rejection matrix of tester override tokens (like the auth tokens'):
//! each check on its own, with the clock injected.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use proptest::prelude::*;

use super::*;

const NOW: u64 = 1_800_000_000;

fn key(byte: u8) -> OverrideKey {
    OverrideKey::new(vec![byte; 32]).expect("32 bytes")
}

fn grant(routes: &[&str], side: Side, user: Option<&str>) -> Grant {
    Grant {
        routes: if routes == ["*"] {
            RouteSet::All
        } else {
            RouteSet::Only(routes.iter().map(|r| r.to_string()).collect())
        },
        side,
        expires: NOW + 7200,
        user: user.map(str::to_string),
    }
}

fn token(routes: &[&str], side: Side) -> String {
    sign(&grant(routes, side, None), &key(1))
}

/// Re-sign a hand-written payload with `k`.
fn signed_payload(json: &str, k: &OverrideKey) -> String {
    let signed = format!("v1.{}", URL_SAFE_NO_PAD.encode(json));
    let tag = k.mac(signed.as_bytes()).finalize().into_bytes();
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag))
}

#[test]
fn valid_token_grants_its_side_for_a_route_in_its_set() {
    let t = token(&["threads", "messages"], Side::Rust);
    assert!(t.starts_with("v1."));
    assert!(
        t.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)),
        "cookie-safe: {t}"
    );
    assert_eq!(verify(&t, &[key(1)], "threads", None, NOW), Ok(Side::Rust));
    let next = token(&["threads"], Side::Next);
    assert_eq!(
        verify(&next, &[key(1)], "threads", None, NOW),
        Ok(Side::Next)
    );
}

#[test]
fn expired_token_is_rejected_from_its_expiry_second_on() {
    let t = token(&["threads"], Side::Rust);
    let exp = NOW + 7200;
    assert_eq!(
        verify(&t, &[key(1)], "threads", None, exp - 1),
        Ok(Side::Rust)
    );
    assert_eq!(
        verify(&t, &[key(1)], "threads", None, exp),
        Err(Rejection::Expired)
    );
    assert_eq!(
        verify(&t, &[key(1)], "threads", None, exp + 86_400),
        Err(Rejection::Expired)
    );
}

#[test]
fn tampered_payload_fails_the_signature() {
    let t = token(&["threads"], Side::Next);
    let parts: Vec<&str> = t.split('.').collect();
    let forged_json = r#"{"routes":"*","side":"rust","exp":1800007200}"#;
    let forged = format!("v1.{}.{}", URL_SAFE_NO_PAD.encode(forged_json), parts[2]);
    assert_eq!(
        verify(&forged, &[key(1)], "threads", None, NOW),
        Err(Rejection::BadSignature)
    );
    // One flipped character in the payload.
    let mut bytes = t.clone().into_bytes();
    bytes[5] = if bytes[5] == b'A' { b'B' } else { b'A' };
    let flipped = String::from_utf8(bytes).unwrap();
    assert_eq!(
        verify(&flipped, &[key(1)], "threads", None, NOW),
        Err(Rejection::BadSignature)
    );
}

#[test]
fn tampered_signature_is_rejected() {
    let t = token(&["threads"], Side::Rust);
    let (head, tag) = t.rsplit_once('.').unwrap();
    let mut raw = URL_SAFE_NO_PAD.decode(tag).unwrap();
    raw[0] ^= 1;
    let bad = format!("{head}.{}", URL_SAFE_NO_PAD.encode(&raw));
    assert_eq!(
        verify(&bad, &[key(1)], "threads", None, NOW),
        Err(Rejection::BadSignature)
    );
    let short = format!("{head}.{}", URL_SAFE_NO_PAD.encode(&raw[..16]));
    assert_eq!(
        verify(&short, &[key(1)], "threads", None, NOW),
        Err(Rejection::BadSignature)
    );
}

#[test]
fn token_signed_with_another_key_is_rejected() {
    let t = sign(&grant(&["threads"], Side::Rust, None), &key(2));
    assert_eq!(
        verify(&t, &[key(1)], "threads", None, NOW),
        Err(Rejection::BadSignature)
    );
    assert_eq!(
        verify(&t, &[], "threads", None, NOW),
        Err(Rejection::BadSignature)
    );
}

#[test]
fn rotated_key_verifies_while_listed_and_not_after_removal() {
    let old = sign(&grant(&["threads"], Side::Rust, None), &key(1));
    // New key first (signs), old key still listed (verifies).
    let keys = [key(2), key(1)];
    assert_eq!(verify(&old, &keys, "threads", None, NOW), Ok(Side::Rust));
    let new = sign(&grant(&["threads"], Side::Rust, None), &keys[0]);
    assert_eq!(verify(&new, &keys, "threads", None, NOW), Ok(Side::Rust));
    // Old key removed.
    assert_eq!(
        verify(&old, &[key(2)], "threads", None, NOW),
        Err(Rejection::BadSignature)
    );
    assert_eq!(
        verify(&new, &[key(2)], "threads", None, NOW),
        Ok(Side::Rust)
    );
}

#[test]
fn route_outside_the_set_is_rejected_and_all_covers_every_route() {
    let t = token(&["threads"], Side::Rust);
    assert_eq!(
        verify(&t, &[key(1)], "messages", None, NOW),
        Err(Rejection::RouteNotInSet)
    );
    let all = token(&["*"], Side::Rust);
    for route in ["threads", "messages", "anything-else"] {
        assert_eq!(verify(&all, &[key(1)], route, None, NOW), Ok(Side::Rust));
    }
}

#[test]
fn token_bound_to_a_user_applies_only_to_that_verified_user() {
    let t = sign(&grant(&["*"], Side::Rust, Some("u-42")), &key(1));
    assert_eq!(
        verify(&t, &[key(1)], "threads", Some("u-42"), NOW),
        Ok(Side::Rust)
    );
    assert_eq!(
        verify(&t, &[key(1)], "threads", Some("u-43"), NOW),
        Err(Rejection::WrongUser)
    );
    assert_eq!(
        verify(&t, &[key(1)], "threads", None, NOW),
        Err(Rejection::WrongUser)
    );
    // An unbound token works for anyone, signed in or not.
    let open = token(&["*"], Side::Rust);
    assert_eq!(
        verify(&open, &[key(1)], "threads", Some("u-43"), NOW),
        Ok(Side::Rust)
    );
}

#[test]
fn malformed_tokens_are_rejected_as_malformed() {
    let k = key(1);
    let good = token(&["threads"], Side::Rust);
    let cases = [
        String::new(),
        "v1".to_string(),
        "v1..".to_string(),
        "garbage".to_string(),
        format!("{good}.extra"),
        good[..good.len() - 1].replace('.', "!"),
        // Not base64url in the signature.
        format!("{}.!!!", good.rsplit_once('.').unwrap().0),
        "x".repeat(MAX_TOKEN_BYTES + 1),
        format!("v1.{}", "A".repeat(MAX_TOKEN_BYTES)),
    ];
    for t in &cases {
        assert_eq!(
            verify(t, std::slice::from_ref(&k), "threads", None, NOW),
            Err(Rejection::Malformed),
            "{t:.60}"
        );
    }
}

#[test]
fn truncated_token_is_rejected() {
    let t = token(&["threads"], Side::Rust);
    for cut in 1..t.len() {
        let r = verify(&t[..cut], &[key(1)], "threads", None, NOW);
        assert!(
            matches!(r, Err(Rejection::Malformed | Rejection::BadSignature)),
            "cut at {cut}: {r:?}"
        );
    }
}

#[test]
fn signed_but_invalid_payload_is_malformed() {
    let k = key(1);
    for json in [
        "not json",
        r#"{"routes":"*","side":"rust"}"#,
        r#"{"routes":"*","side":"both","exp":1900000000}"#,
        r#"{"routes":"some","side":"rust","exp":1900000000}"#,
        r#"{"routes":[],"side":"rust","exp":1900000000}"#,
        r#"{"routes":[1],"side":"rust","exp":1900000000}"#,
        r#"{"routes":"*","side":"rust","exp":1900000000,"admin":true}"#,
    ] {
        let t = signed_payload(json, &k);
        assert_eq!(
            verify(&t, std::slice::from_ref(&k), "threads", None, NOW),
            Err(Rejection::Malformed),
            "{json}"
        );
    }
}

#[test]
fn unknown_version_is_rejected_as_such() {
    let t = token(&["threads"], Side::Rust);
    let v2 = t.replacen("v1.", "v2.", 1);
    assert_eq!(
        verify(&v2, &[key(1)], "threads", None, NOW),
        Err(Rejection::UnknownVersion)
    );
    let junk = t.replacen("v1.", "hello.", 1);
    assert_eq!(
        verify(&junk, &[key(1)], "threads", None, NOW),
        Err(Rejection::Malformed)
    );
}

#[test]
fn short_keys_are_refused_and_keys_never_print() {
    assert!(OverrideKey::new(vec![7; 31]).is_err());
    assert_eq!(format!("{:?}", key(9)), "OverrideKey(<redacted>)");
}

#[test]
fn every_rejection_has_a_distinct_label() {
    let labels: BTreeSet<&str> = Rejection::ALL.iter().map(|r| r.label()).collect();
    assert_eq!(labels.len(), Rejection::ALL.len());
}

proptest! {
    #[test]
    fn arbitrary_input_never_panics_and_never_verifies(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let s = String::from_utf8_lossy(&bytes);
        prop_assert!(verify(&s, &[key(1)], "threads", Some("u"), NOW).is_err());
    }

    #[test]
    fn arbitrary_dotted_input_never_panics(a in "[A-Za-z0-9_-]{0,40}", b in "[A-Za-z0-9_-]{0,200}", c in "[A-Za-z0-9_-]{0,60}") {
        let t = format!("{a}.{b}.{c}");
        prop_assert!(verify(&t, &[key(1)], "threads", None, NOW).is_err());
    }
}
