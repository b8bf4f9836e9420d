//! The verified identity of a caller, as the proxy hands it to both backends.
//!
//! Produced by `auth` once per request; consumed by `flags` (sticky canary by
//! user), `cap` (per-client keys) and the handlers (as a request extension).
//! Knows nothing of Pingora, HTTP parsing or TOML.
//!
//! `headers` signs/verifies the `x-cutover-*` identity headers (HMAC-SHA256 with
//! an [`IdentityKey`] shared by the proxy and remote handlers, bound to the one
//! request they travel with: audience, method, path and query); `middleware` is
//! the axum side that turns verified headers into an `Extension<Identity>`.

/// Which credential proved the identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthScheme {
    /// A NextAuth v4 / Auth.js v5 session cookie (or the same token as a bearer).
    Session,
    /// A chatbot widget bearer JWT.
    Chatbot,
    /// A machine service token (e.g. the WhatsApp worker).
    Service,
}

impl AuthScheme {
    /// Parses the `x-cutover-auth` value.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "session" => Some(AuthScheme::Session),
            "chatbot" => Some(AuthScheme::Chatbot),
            "service" => Some(AuthScheme::Service),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AuthScheme::Session => "session",
            AuthScheme::Chatbot => "chatbot",
            AuthScheme::Service => "service",
        }
    }
}

/// One verified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub scheme: AuthScheme,
    /// User id (`sub` of a session), chatbot subject, or service name.
    pub user_id: String,
    pub email: Option<String>,
    pub tenant_id: Option<String>,
    /// The configured `name` of the `[[auth.chatbot]]` issuer that vouched for a
    /// chatbot visitor; `None` for sessions and services. Part of every chatbot
    /// ownership check: visitor `v1` of issuer A is not visitor `v1` of issuer B.
    pub issuer: Option<String>,
    /// Unix seconds after which the credential is no longer valid, if known.
    pub expires_at: Option<u64>,
}

mod headers;
mod middleware;
#[cfg(test)]
mod tests;
mod wire;

pub use headers::{
    Audience, HEADER_AUTH, HEADER_IDENTITY_SIG, HEADER_ISSUER, HEADER_TENANT_ID, HEADER_USER_EMAIL,
    HEADER_USER_ID, IDENTITY_HEADERS, IdentityError, IdentityKey, MAX_SIGNATURE_AGE_SECS,
    SignedRequest, identity_headers, signed_identity, verify_identity_headers,
};
pub use middleware::{optional_identity, require_identity};
