//! Auth at the edge: turns the credentials of one request into an [`AuthOutcome`].
//!
//! Owns the per-route policy ([`RouteAuth`]), session cookies (NextAuth v4 and
//! Auth.js v5 JWEs, chunked or not), chatbot bearer JWTs (`jsonwebtoken`), service
//! tokens (SHA-256 hashes), `?token=` extraction and the bounded validated-token
//! cache. Everything here is pure and synchronous: time comes in as `now_unix`,
//! and the only network I/O (a JWKS URL) runs in [`jwks::JwksRefresher`], kept
//! across reloads by [`jwks::JwksSources`] and driven by the caller's runner.
//! May use `identity`; knows nothing of Pingora, TOML or serde config.

mod authenticator;
mod bearer;
mod cache;
mod claims;
mod cookies;
mod jwe;
pub mod jwks;
pub mod query;
mod route;
mod service;
mod session;
pub mod settings;

#[cfg(test)]
mod tests;

pub use authenticator::{Authenticator, Credentials};
pub use query::take_query_token;
pub use route::{AuthMode, RawRouteAuth, RouteAuth};
pub use settings::{
    AuthConfig, ChatbotIssuer, DEFAULT_CACHE_CAPACITY, DEFAULT_SKEW_SECS, IssuerKey,
    MAX_CREDENTIAL_BYTES, SecretBytes, ServiceToken, SessionConfig, SessionFlavor, TenantScope,
};

use crate::identity::{AuthScheme, Identity};

/// What [`Authenticator::authenticate`] decided for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthOutcome {
    /// No credential was presented and the route does not require one
    /// (or the route's mode is `none`, in which case nothing is inspected).
    Anonymous,
    /// A credential was presented and verified.
    Authenticated(Identity),
    /// The route requires a credential and none was presented (`Missing`), or a
    /// presented credential failed verification (any mode but `none`).
    /// `scheme` is the scheme the credential was tried as, when known.
    Rejected {
        scheme: Option<AuthScheme>,
        reason: RejectReason,
    },
}

impl AuthOutcome {
    /// `scheme` label of `cutover_auth_total`: the scheme tried, or `"none"`.
    pub fn scheme_label(&self) -> &'static str {
        match self {
            AuthOutcome::Authenticated(id) => id.scheme.as_str(),
            AuthOutcome::Rejected {
                scheme: Some(s), ..
            } => s.as_str(),
            _ => "none",
        }
    }

    /// `result` label of `cutover_auth_total`: `"ok"` or the reject reason;
    /// `None` for an anonymous request (nothing was validated).
    pub fn result_label(&self) -> Option<&'static str> {
        match self {
            AuthOutcome::Anonymous => None,
            AuthOutcome::Authenticated(_) => Some("ok"),
            AuthOutcome::Rejected { reason, .. } => Some(reason.as_str()),
        }
    }
}

/// Why a credential was rejected. Bounded: used as a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// No credential on a `required` route.
    Missing,
    /// `exp` passed (beyond the skew/leeway) or `nbf` still in the future.
    Expired,
    /// Wrong secret, tampered ciphertext/tag/signature, or an algorithm not
    /// allowed for the issuer (e.g. `alg: none`, HS256 where only RS256 is allowed).
    BadSignature,
    /// Not parseable: bad base64/JSON, wrong segment count, other `enc`/`alg` in a
    /// session JWE, `zip`/`crit`, missing chunk, oversized, missing `sub`.
    Malformed,
    /// `aud` or `iss` not the configured one.
    WrongAudience,
    /// A `kid` that no configured or fetched key has (triggers a JWKS refresh).
    UnknownKey,
    /// A validly signed chatbot token whose tenant claim is outside the tenants
    /// its issuer may speak for (`tenant` / `tenants` of `[[auth.chatbot]]`).
    TenantNotAllowed,
    /// Session cookies that do not name one token: two different values for
    /// one name, or a plain cookie and chunks together (cookie tossing).
    /// Treated as no credential: nothing is guessed.
    Ambiguous,
}

impl RejectReason {
    /// The metric/log label: `missing`, `expired`, `bad_signature`, `malformed`,
    /// `wrong_audience`, `unknown_key`, `tenant_not_allowed`, `ambiguous`.
    pub fn as_str(&self) -> &'static str {
        match self {
            RejectReason::Missing => "missing",
            RejectReason::Expired => "expired",
            RejectReason::BadSignature => "bad_signature",
            RejectReason::Malformed => "malformed",
            RejectReason::WrongAudience => "wrong_audience",
            RejectReason::UnknownKey => "unknown_key",
            RejectReason::TenantNotAllowed => "tenant_not_allowed",
            RejectReason::Ambiguous => "ambiguous",
        }
    }
}

/// Internal result of one verifier: the identity or a reason.
pub(crate) type Verified = Result<Identity, RejectReason>;
