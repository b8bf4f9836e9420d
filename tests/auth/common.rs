//! Shared setup: authenticators over known secrets, routes, cookie headers.

use cutover::auth::settings::SecretBytes;
use cutover::auth::{
    AuthConfig, AuthMode, AuthOutcome, Authenticator, Credentials, RejectReason, RouteAuth,
    SessionConfig, SessionFlavor,
};
use cutover::identity::{AuthScheme, Identity};

pub const V4_SECRET: &str = "v4-test-secret-0123456789abcdef";
pub const V4_OLD_SECRET: &str = "v4-old-secret-fedcba9876543210";
pub const V5_SECRET: &str = "v5-test-secret-0123456789abcdef";
pub const V5_OLD_SECRET: &str = "v5-old-secret-fedcba9876543210";

pub fn session_auth(flavor: SessionFlavor, secrets: &[&str]) -> Authenticator {
    let secrets = secrets
        .iter()
        .map(|s| SecretBytes::new(s.as_bytes()))
        .collect();
    Authenticator::new(AuthConfig {
        session: Some(SessionConfig::new(flavor, secrets)),
        ..AuthConfig::default()
    })
}

pub fn v4() -> Authenticator {
    session_auth(SessionFlavor::NextAuthV4, &[V4_SECRET])
}

pub fn v5() -> Authenticator {
    session_auth(SessionFlavor::AuthJsV5, &[V5_SECRET])
}

pub fn route(mode: AuthMode, schemes: &[AuthScheme]) -> RouteAuth {
    RouteAuth {
        mode,
        schemes: schemes.to_vec(),
        query_token: false,
    }
}

pub fn session_route() -> RouteAuth {
    route(AuthMode::Required, &[AuthScheme::Session])
}

/// One `Cookie:` header holding all pairs, in the given order.
pub fn cookie_header(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Cookies as a browser sends them: a `__Secure-` cookie only ever over https.
pub fn with_cookie(auth: &Authenticator, route: &RouteAuth, header: &str, now: u64) -> AuthOutcome {
    with_cookie_over(header.contains("__Secure-"), auth, route, header, now)
}

/// Cookies on a site served over `https` (or not).
pub fn with_cookie_over(
    https: bool,
    auth: &Authenticator,
    route: &RouteAuth,
    header: &str,
    now: u64,
) -> AuthOutcome {
    let headers = [header];
    auth.authenticate(
        route,
        &Credentials {
            cookies: &headers,
            https,
            ..Credentials::default()
        },
        now,
    )
}

pub fn with_bearer(auth: &Authenticator, route: &RouteAuth, token: &str, now: u64) -> AuthOutcome {
    let header = format!("Bearer {token}");
    auth.authenticate(
        route,
        &Credentials {
            authorization: Some(&header),
            ..Credentials::default()
        },
        now,
    )
}

#[track_caller]
pub fn expect_identity(outcome: AuthOutcome) -> Identity {
    match outcome {
        AuthOutcome::Authenticated(id) => id,
        other => panic!("expected an identity, got {other:?}"),
    }
}

#[track_caller]
pub fn expect_rejected(outcome: AuthOutcome, reason: RejectReason) {
    match outcome {
        AuthOutcome::Rejected { reason: got, .. } if got == reason => {}
        other => panic!("expected rejection {reason:?}, got {other:?}"),
    }
}

/// Changes one character in the middle of segment `index` of a dotted token.
pub fn tamper_segment(token: &str, index: usize) -> String {
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    let seg = &mut parts[index];
    let mid = seg.len() / 2;
    let old = seg.as_bytes()[mid];
    let new = if old == b'A' { 'B' } else { 'A' };
    seg.replace_range(mid..mid + 1, &new.to_string());
    parts.join(".")
}
