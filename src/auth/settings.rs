//! Validated, serde-free auth settings: what [`super::Authenticator::new`] takes.
//!
//! Built by `config::auth` from the `[auth]` table (secrets already read from env
//! vars / files, keys already parsed), or directly by tests. Secrets never show in
//! `Debug`. Uses `jsonwebtoken` key types and `identity::IdentityKey`.

use std::fmt;

use jsonwebtoken::{Algorithm, DecodingKey, jwk::JwkSet};

use crate::identity::IdentityKey;

/// Clock skew allowed on a session's `exp`/`nbf`, like next-auth and @auth/core.
pub const DEFAULT_SKEW_SECS: u64 = 15;
/// Leeway on a chatbot JWT's `exp`/`nbf` unless configured.
pub const DEFAULT_LEEWAY_SECS: u64 = 30;
/// Validated tokens kept in the cache unless configured.
pub const DEFAULT_CACHE_CAPACITY: usize = 10_000;
/// A credential (rejoined cookie, bearer, query token) longer than this is `Malformed`.
pub const MAX_CREDENTIAL_BYTES: usize = 16 * 1024;

/// Secret bytes (session secret, HS256 secret). `Debug` prints `<redacted>`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Self {
        SecretBytes(bytes.into())
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretBytes(<redacted>)")
    }
}

/// Which library wrote the session cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionFlavor {
    /// next-auth 4: JWE `dir` + `A256GCM`, HKDF(secret, "", "NextAuth.js Generated Encryption Key").
    NextAuthV4,
    /// @auth/core (Auth.js v5): JWE `dir` + `A256CBC-HS512`, salt = cookie name, `kid` thumbprint.
    AuthJsV5,
}

impl SessionFlavor {
    /// Cookie names the library uses by default, `__Secure-` first.
    pub fn default_cookie_names(self) -> Vec<String> {
        let base = match self {
            SessionFlavor::NextAuthV4 => "next-auth.session-token",
            SessionFlavor::AuthJsV5 => "authjs.session-token",
        };
        vec![format!("__Secure-{base}"), base.to_string()]
    }
}

/// Session cookie settings.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    pub flavor: SessionFlavor,
    /// Current secret first, then older ones still accepted (rotation).
    pub secrets: Vec<SecretBytes>,
    /// Cookie names looked up in this order (each also as `<name>.0`, `<name>.1`, …).
    pub cookie_names: Vec<String>,
    pub skew_secs: u64,
    /// Claim holding the tenant id, if the app's jwt callback adds one.
    pub tenant_claim: Option<String>,
}

impl SessionConfig {
    /// Defaults of the flavor: both cookie names, 15 s skew, no tenant claim.
    pub fn new(flavor: SessionFlavor, secrets: Vec<SecretBytes>) -> Self {
        SessionConfig {
            flavor,
            secrets,
            cookie_names: flavor.default_cookie_names(),
            skew_secs: DEFAULT_SKEW_SECS,
            tenant_claim: None,
        }
    }
}

/// One verification key of a chatbot issuer.
#[derive(Clone)]
pub struct IssuerKey {
    pub kid: Option<String>,
    pub key: DecodingKey,
}

impl fmt::Debug for IssuerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuerKey")
            .field("kid", &self.kid)
            .field("family", &self.key.family())
            .finish_non_exhaustive()
    }
}

impl IssuerKey {
    pub fn hmac(secret: &SecretBytes) -> Self {
        IssuerKey {
            kid: None,
            key: DecodingKey::from_secret(secret.expose()),
        }
    }

    /// An RSA or EC public key in PEM (SPKI or PKCS#1).
    pub fn from_pem(pem: &[u8], kid: Option<String>) -> Result<Self, String> {
        let key = DecodingKey::from_rsa_pem(pem)
            .or_else(|_| DecodingKey::from_ec_pem(pem))
            .map_err(|e| format!("not an RSA or EC (P-256) public key in PEM: {e}"))?;
        Ok(IssuerKey { kid, key })
    }

    /// Every usable key of a JWKS document (`{"keys":[…]}`); keys of other types are skipped.
    pub fn from_jwks_json(json: &str) -> Result<Vec<Self>, String> {
        let set: JwkSet =
            serde_json::from_str(json).map_err(|e| format!("not a JWKS document: {e}"))?;
        let mut keys = Vec::new();
        for jwk in &set.keys {
            if !jwk.is_supported() {
                continue;
            }
            if let Ok(key) = DecodingKey::from_jwk(jwk) {
                keys.push(IssuerKey {
                    kid: jwk.common.key_id.clone(),
                    key,
                });
            }
        }
        Ok(keys)
    }
}

/// One chatbot token issuer.
#[derive(Debug, Clone)]
pub struct ChatbotIssuer {
    /// Label for logs.
    pub name: String,
    /// Exact `iss` value; also how a token is matched to its issuer.
    pub issuer: String,
    /// Accepted `aud` values; empty = tokens carrying `aud` are rejected.
    pub audience: Vec<String>,
    /// Allowed `alg`s; anything else (including `none`) is rejected.
    pub algorithms: Vec<Algorithm>,
    /// Static keys (HS256 secret, PEM files, JWKS file).
    pub keys: Vec<IssuerKey>,
    /// Optional JWKS URL fetched in the background.
    pub jwks_url: Option<String>,
    pub leeway_secs: u64,
    /// Claims that must be present (`exp` is always required).
    pub required_claims: Vec<String>,
    pub tenant_claim: Option<String>,
    /// The tenants this issuer may speak for.
    pub tenants: TenantScope,
}

/// Which tenants a chatbot issuer may speak for (`tenant` / `tenants` keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantScope {
    /// `tenants = ["*"]`: whatever its tenant claim says (a first-party issuer).
    Any,
    /// `tenants = ["t1", …]`: the tenant claim must be one of these.
    OneOf(Vec<String>),
    /// `tenant = "t1"`: always this tenant; a token claiming another is refused.
    Fixed(String),
}

impl TenantScope {
    /// The identity's tenant for a token whose tenant claim is `claimed`.
    pub fn resolve(&self, claimed: Option<String>) -> Result<Option<String>, super::RejectReason> {
        match (self, claimed) {
            (TenantScope::Any, claimed) => Ok(claimed),
            (TenantScope::OneOf(allowed), Some(t)) if allowed.contains(&t) => Ok(Some(t)),
            (TenantScope::Fixed(fixed), None) => Ok(Some(fixed.clone())),
            (TenantScope::Fixed(fixed), Some(t)) if *fixed == t => Ok(Some(t)),
            _ => Err(super::RejectReason::TenantNotAllowed),
        }
    }
}

/// A machine credential, stored only as SHA-256 of the token.
#[derive(Clone, PartialEq, Eq)]
pub struct ServiceToken {
    /// Becomes the identity's user id.
    pub name: String,
    pub sha256: [u8; 32],
}

impl fmt::Debug for ServiceToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceToken")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Everything the authenticator needs.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    pub session: Option<SessionConfig>,
    pub chatbot: Vec<ChatbotIssuer>,
    pub service: Vec<ServiceToken>,
    /// Key for `x-cutover-identity-sig`; the proxy reads it via `Authenticator::identity_key`.
    pub identity_key: Option<IdentityKey>,
    pub cache_capacity: usize,
    pub max_credential_bytes: usize,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            session: None,
            chatbot: Vec::new(),
            service: Vec::new(),
            identity_key: None,
            cache_capacity: DEFAULT_CACHE_CAPACITY,
            max_credential_bytes: MAX_CREDENTIAL_BYTES,
        }
    }
}
