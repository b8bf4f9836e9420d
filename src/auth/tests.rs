//! Unit tests of route policy, outcomes and parser robustness (real tokens are in
//! tests/auth_vectors.rs).

use proptest::prelude::*;

use super::jwe::{self, ContentEnc};
use super::*;
use crate::identity::AuthScheme;

fn raw(auth: Option<&str>, schemes: Option<&[&str]>, query: Option<bool>) -> RawRouteAuth {
    RawRouteAuth {
        auth: auth.map(str::to_string),
        schemes: schemes.map(|s| s.iter().map(|x| x.to_string()).collect()),
        query_token: query,
    }
}

#[test]
fn route_without_auth_keys_is_none() {
    assert_eq!(
        RouteAuth::try_from(RawRouteAuth::default()),
        Ok(RouteAuth::none())
    );
}

#[test]
fn required_route_defaults_to_session() {
    let r = RouteAuth::try_from(raw(Some("required"), None, None)).expect("valid");
    assert_eq!(r.mode, AuthMode::Required);
    assert_eq!(r.schemes, vec![AuthScheme::Session]);
    assert!(!r.query_token);
}

#[test]
fn schemes_are_parsed_and_deduplicated() {
    let r = RouteAuth::try_from(raw(
        Some("optional"),
        Some(&["chatbot", "service", "chatbot"]),
        Some(true),
    ))
    .expect("valid");
    assert_eq!(r.schemes, vec![AuthScheme::Chatbot, AuthScheme::Service]);
    assert!(r.query_token);
}

#[test]
fn unknown_auth_value_names_the_key_and_allowed_values() {
    let err = RouteAuth::try_from(raw(Some("yes"), None, None)).expect_err("invalid");
    assert!(
        err.contains("auth = \"yes\"") && err.contains("\"required\""),
        "{err}"
    );
}

#[test]
fn unknown_scheme_names_the_allowed_values() {
    let err =
        RouteAuth::try_from(raw(Some("required"), Some(&["cookie"]), None)).expect_err("invalid");
    assert!(
        err.contains("\"cookie\"") && err.contains("\"chatbot\""),
        "{err}"
    );
}

#[test]
fn empty_scheme_list_is_rejected() {
    assert!(RouteAuth::try_from(raw(Some("required"), Some(&[]), None)).is_err());
}

#[test]
fn schemes_or_query_token_without_auth_are_rejected() {
    assert!(RouteAuth::try_from(raw(None, Some(&["session"]), None)).is_err());
    assert!(RouteAuth::try_from(raw(Some("none"), None, Some(true))).is_err());
}

#[test]
fn reject_reasons_have_metric_labels() {
    let labels: Vec<_> = [
        RejectReason::Missing,
        RejectReason::Expired,
        RejectReason::BadSignature,
        RejectReason::Malformed,
        RejectReason::WrongAudience,
        RejectReason::UnknownKey,
    ]
    .iter()
    .map(RejectReason::as_str)
    .collect();
    assert_eq!(
        labels,
        [
            "missing",
            "expired",
            "bad_signature",
            "malformed",
            "wrong_audience",
            "unknown_key"
        ]
    );
}

#[test]
fn non_bearer_authorization_is_ignored() {
    let auth = Authenticator::new(AuthConfig::default());
    let route = RouteAuth::try_from(raw(Some("required"), None, None)).expect("valid");
    let creds = Credentials {
        authorization: Some("Basic dXNlcjpwYXNz"),
        ..Credentials::default()
    };
    let outcome = auth.authenticate(&route, &creds, 0);
    assert_eq!(
        outcome,
        AuthOutcome::Rejected {
            scheme: None,
            reason: RejectReason::Missing
        }
    );
}

#[test]
fn www_authenticate_is_a_bearer_challenge() {
    let auth = Authenticator::new(AuthConfig::default());
    assert_eq!(
        auth.www_authenticate(&RouteAuth::none()),
        "Bearer realm=\"cutover\""
    );
}

#[test]
fn jwe_with_an_encrypted_key_is_malformed() {
    // header {"alg":"dir","enc":"A256GCM"}
    let token =
        "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0.AAAA.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA";
    assert_eq!(
        jwe::parse(token, ContentEnc::A256Gcm).err(),
        Some(RejectReason::Malformed)
    );
}

proptest! {
    #[test]
    fn jwe_parser_never_panics(s in ".{0,300}") {
        let _ = jwe::parse(&s, ContentEnc::A256Gcm);
        let _ = jwe::parse(&s, ContentEnc::A256CbcHs512);
    }

    #[test]
    fn dotted_base64_soup_is_rejected(parts in proptest::collection::vec("[A-Za-z0-9_-]{0,40}", 0..7)) {
        let token = parts.join(".");
        let auth = Authenticator::new(AuthConfig::default());
        let route = RouteAuth::try_from(raw(Some("required"), Some(&["session", "chatbot", "service"]), None)).expect("valid");
        let header = format!("Bearer {token}");
        let creds = Credentials { authorization: Some(&header), ..Credentials::default() };
        let outcome = auth.authenticate(&route, &creds, 0);
        prop_assert!(matches!(outcome, AuthOutcome::Rejected { .. }), "{:?}", outcome);
    }
}

#[test]
fn authenticator_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Authenticator>();
}

#[test]
fn debug_output_never_shows_credentials_or_secrets() {
    let creds = Credentials {
        cookies: &["next-auth.session-token=SECRETCOOKIE"],
        authorization: Some("Bearer SECRETBEARER"),
        query_token: Some("SECRETQUERY"),
        https: false,
    };
    let cfg = AuthConfig {
        session: Some(SessionConfig::new(
            SessionFlavor::NextAuthV4,
            vec![settings::SecretBytes::new(b"SECRETSESSION".to_vec())],
        )),
        identity_key: crate::identity::IdentityKey::new(
            b"SECRETIDENTITYKEY_______________".to_vec(),
        )
        .ok(),
        ..AuthConfig::default()
    };
    let printed = format!("{creds:?} {cfg:?}");
    assert!(!printed.contains("SECRET"), "{printed}");
}

#[test]
fn outcome_labels_match_the_metric_values() {
    let rejected = AuthOutcome::Rejected {
        scheme: Some(AuthScheme::Chatbot),
        reason: RejectReason::UnknownKey,
    };
    assert_eq!(
        (rejected.scheme_label(), rejected.result_label()),
        ("chatbot", Some("unknown_key"))
    );
    let missing = AuthOutcome::Rejected {
        scheme: None,
        reason: RejectReason::Missing,
    };
    assert_eq!(
        (missing.scheme_label(), missing.result_label()),
        ("none", Some("missing"))
    );
    assert_eq!(AuthOutcome::Anonymous.result_label(), None);
}
