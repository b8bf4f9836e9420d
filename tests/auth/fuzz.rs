//! Property tests: random and mutated tokens / cookie headers never panic and always
//! give a typed outcome (never an identity for a mutated token).

use cutover::auth::{AuthMode, AuthOutcome, Authenticator, Credentials};
use cutover::identity::AuthScheme;
use proptest::prelude::*;
use serde_json::json;
use std::sync::OnceLock;

use crate::common::*;
use crate::mint::{mint, now, token};

/// A v4 and a v5 token minted once for the whole run.
fn seeds() -> &'static (String, String) {
    static SEEDS: OnceLock<(String, String)> = OnceLock::new();
    SEEDS.get_or_init(|| {
        let out = mint(json!([
            {"kind": "nextauth_v4", "secret": V4_SECRET, "claims": {"sub": "u"}},
            {"kind": "authjs_v5", "secret": V5_SECRET, "salt": "authjs.session-token", "claims": {"sub": "u"}},
        ]));
        (token(&out[0]), token(&out[1]))
    })
}

fn all_schemes() -> cutover::auth::RouteAuth {
    let mut r = route(
        AuthMode::Optional,
        &[
            AuthScheme::Session,
            AuthScheme::Chatbot,
            AuthScheme::Service,
        ],
    );
    r.query_token = true;
    r
}

fn run(auth: &Authenticator, cookie: &str, bearer: Option<&str>) -> AuthOutcome {
    let cookies = [cookie];
    let header = bearer.map(|b| format!("Bearer {b}"));
    auth.authenticate(
        &all_schemes(),
        &Credentials {
            cookies: &cookies,
            authorization: header.as_deref(),
            query_token: bearer,
            https: false,
        },
        now(),
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mutated_real_tokens_are_never_accepted(pos in 0usize..4096, byte in any::<u8>(), use_v5 in any::<bool>()) {
        let (t4, t5) = seeds();
        let (auth, name, seed) = if use_v5 { (v5(), "authjs.session-token", t5) } else { (v4(), "next-auth.session-token", t4) };
        let mut bytes = seed.clone().into_bytes();
        let i = pos % bytes.len();
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        let mutated = String::from_utf8_lossy(&bytes).into_owned();
        let outcome = run(&auth, &format!("{name}={mutated}"), None);
        prop_assert!(matches!(outcome, AuthOutcome::Rejected { .. }), "{:?}", outcome);
        let outcome = run(&auth, "", Some(&mutated));
        prop_assert!(!matches!(outcome, AuthOutcome::Authenticated(_)), "{:?}", outcome);
    }

    #[test]
    fn random_cookie_headers_and_bearers_never_panic(cookie in ".{0,600}", bearer in proptest::option::of("[A-Za-z0-9_.~+/=-]{0,400}")) {
        let _ = run(&v4(), &cookie, bearer.as_deref());
        let _ = run(&v5(), &cookie, bearer.as_deref());
    }

    #[test]
    fn chunk_shaped_cookie_soup_never_panics(parts in proptest::collection::vec(("(next-auth\\.session-token(\\.[0-9]{1,4})?|x)", "[A-Za-z0-9_.-]{0,50}"), 0..40)) {
        let header = parts.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
        let outcome = run(&v4(), &header, None);
        prop_assert!(!matches!(outcome, AuthOutcome::Authenticated(_)));
    }
}
