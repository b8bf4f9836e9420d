//! [`Authenticator`]: the one entry point the proxy calls per request.
//!
//! Order of credentials: `Authorization: Bearer` (session JWE, chatbot JWT or
//! service token, told apart by shape), then `?token=` when the route allows it,
//! then the session cookie (the one name the request's scheme picks, see
//! `cookies`). The first credential present decides; an invalid one is
//! rejected (no fall-through to a weaker one). Validated tokens go through the
//! bounded cache. Uses the sibling verifiers; pure and sync (time is `now_unix`).

use std::sync::Arc;

use super::bearer::ChatbotVerifier;
use super::cache::{Source, TokenCache};
use super::cookies::{self, Found};
use super::jwks::JwksRefresher;
use super::service::ServiceVerifier;
use super::session::SessionVerifier;
use super::{AuthConfig, AuthMode, AuthOutcome, RejectReason, RouteAuth, Verified};
use crate::identity::{AuthScheme, IdentityKey};

/// The credentials of one request, borrowed from it. `Debug` shows only which are present.
#[derive(Clone, Copy, Default)]
pub struct Credentials<'a> {
    /// Every raw `Cookie:` header value of the request.
    pub cookies: &'a [&'a str],
    /// Raw `Authorization` header value.
    pub authorization: Option<&'a str>,
    /// Value of `?token=` if the route allows it (already extracted).
    pub query_token: Option<&'a str>,
    /// The site is served over https (the request's scheme, or
    /// `X-Forwarded-Proto` from a trusted proxy): picks the `__Secure-`
    /// session cookie name, as next-auth and Auth.js do.
    pub https: bool,
}

impl std::fmt::Debug for Credentials<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("cookie_headers", &self.cookies.len())
            .field("authorization", &self.authorization.map(|_| "<redacted>"))
            .field("query_token", &self.query_token.map(|_| "<redacted>"))
            .field("https", &self.https)
            .finish()
    }
}

/// Validates credentials against the configured secrets and keys. `Send + Sync`;
/// build a new one on config reload (the cache starts empty).
pub struct Authenticator {
    session: Option<SessionVerifier>,
    chatbot: ChatbotVerifier,
    service: ServiceVerifier,
    cache: TokenCache,
    identity_key: Option<IdentityKey>,
    max_bytes: usize,
}

/// Secrets stay out of Debug output: only what is configured.
impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("session", &self.session.is_some())
            .field("identity_key", &self.identity_key.is_some())
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

fn rejected(scheme: Option<AuthScheme>, reason: RejectReason) -> AuthOutcome {
    AuthOutcome::Rejected { scheme, reason }
}

impl Authenticator {
    pub fn new(cfg: AuthConfig) -> Self {
        Authenticator {
            session: cfg.session.as_ref().map(SessionVerifier::new),
            chatbot: ChatbotVerifier::new(&cfg.chatbot),
            service: ServiceVerifier::new(&cfg.service),
            cache: TokenCache::new(cfg.cache_capacity),
            identity_key: cfg.identity_key,
            max_bytes: cfg.max_credential_bytes,
        }
    }

    /// The key that signs `x-cutover-*` identity headers, if configured.
    pub fn identity_key(&self) -> Option<&IdentityKey> {
        self.identity_key.as_ref()
    }

    /// JWKS fetchers to spawn on a tokio runtime (one per issuer with `jwks_url`):
    /// `tokio::spawn(r.run(reqwest::Client::new()))`. Without them, URL keys stay empty.
    /// The server shares them across reloads instead (`jwks::JwksSources::adopt`).
    pub fn jwks_refreshers(&self) -> Vec<Arc<JwksRefresher>> {
        self.chatbot.refreshers()
    }

    /// Replaces each issuer's JWKS refresher with `pick(current)` (call before serving).
    pub fn share_jwks(&self, pick: &mut dyn FnMut(Arc<JwksRefresher>) -> Arc<JwksRefresher>) {
        self.chatbot.share_refreshers(pick);
    }

    /// Decides who the caller is. Never blocks, never panics on any input.
    pub fn authenticate(
        &self,
        route: &RouteAuth,
        creds: &Credentials<'_>,
        now_unix: u64,
    ) -> AuthOutcome {
        if route.mode == AuthMode::None {
            return AuthOutcome::Anonymous;
        }
        if let Some(token) = creds.authorization.and_then(bearer_value) {
            return self.token(route, token, now_unix);
        }
        if route.query_token
            && let Some(token) = creds.query_token
        {
            return self.token(route, token, now_unix);
        }
        if route.allows(AuthScheme::Session)
            && let Some(session) = &self.session
        {
            let pairs = cookies::parse(creds.cookies);
            let names = &session.cookie_names;
            match cookies::find_session(&pairs, names, creds.https, self.max_bytes) {
                Found::Token { cookie_name, token } => {
                    let source = Source::Cookie(cookie_name);
                    let verified = self.cached(source, &token, now_unix, || {
                        session.verify(&token, Some(cookie_name), now_unix)
                    });
                    return outcome(AuthScheme::Session, verified);
                }
                Found::Invalid(reason) => return rejected(Some(AuthScheme::Session), reason),
                Found::Absent => {}
            }
        }
        match route.mode {
            AuthMode::Required => rejected(None, RejectReason::Missing),
            _ => AuthOutcome::Anonymous,
        }
    }

    /// Value for the `WWW-Authenticate` header of a 401 on this route.
    pub fn www_authenticate(&self, route: &RouteAuth) -> String {
        let _ = route; // every scheme can be presented as a bearer token
        r#"Bearer realm="cutover""#.to_string()
    }

    /// A bearer or query token: a service token, a session JWE (5 segments) or a
    /// chatbot JWT (3 segments).
    fn token(&self, route: &RouteAuth, token: &str, now: u64) -> AuthOutcome {
        if token.len() > self.max_bytes {
            return rejected(None, RejectReason::Malformed);
        }
        if route.allows(AuthScheme::Service)
            && let Some(identity) = self.service.verify(token)
        {
            return AuthOutcome::Authenticated(identity);
        }
        let scheme = match token.bytes().filter(|b| *b == b'.').count() {
            4 => AuthScheme::Session,
            2 => AuthScheme::Chatbot,
            _ if route.allows(AuthScheme::Service) => {
                return rejected(Some(AuthScheme::Service), RejectReason::BadSignature);
            }
            _ => return rejected(None, RejectReason::Malformed),
        };
        if !route.allows(scheme) {
            return rejected(Some(scheme), RejectReason::WrongAudience);
        }
        let verified = match scheme {
            AuthScheme::Session => match &self.session {
                Some(session) => self.cached(Source::Bearer, token, now, || {
                    session.verify(token, None, now)
                }),
                None => Err(RejectReason::UnknownKey),
            },
            _ if !self.chatbot.is_configured() => Err(RejectReason::UnknownKey),
            _ => self.cached(Source::Bearer, token, now, || {
                self.chatbot.verify(token, now)
            }),
        };
        outcome(scheme, verified)
    }

    fn cached(
        &self,
        source: Source<'_>,
        token: &str,
        now: u64,
        verify: impl FnOnce() -> Verified,
    ) -> Verified {
        // A changed fetched key set starts a fresh cache (a removed kid stops working).
        let key = self.cache.key(source, token, self.chatbot.key_generation());
        if let Some(identity) = self.cache.get(&key, now) {
            return Ok(identity);
        }
        let identity = verify()?;
        self.cache.insert(&key, &identity, now);
        Ok(identity)
    }
}

fn outcome(scheme: AuthScheme, verified: Verified) -> AuthOutcome {
    match verified {
        Ok(identity) => AuthOutcome::Authenticated(identity),
        Err(reason) => rejected(Some(scheme), reason),
    }
}

/// The token of `Bearer <token>` (scheme case-insensitive); other schemes are ignored.
fn bearer_value(header: &str) -> Option<&str> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}
