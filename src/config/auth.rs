//! The `[auth]` table of routes.toml: serde mirror + conversion to `auth::AuthConfig`.
//!
//! Secrets are never literal in the file: they are named by env var or file, read
//! here at load time; the reloader hashes the named files with routes.toml, so
//! rewriting one reloads (see `watch`). Keys are parsed here,
//! so a bad PEM/JWKS fails `cutover check`, not a request. Errors name the key and
//! the fix. Uses `auth::settings` types, `identity::IdentityKey`, `jsonwebtoken`.

mod convert;
#[cfg(test)]
mod tests;
mod watch;

use serde::Deserialize;

pub use convert::resolve;
pub use watch::referenced_files;

/// Comment block for routes.toml (kept next to the struct so they change together).
pub const ROUTES_TOML_DOC: &str = include_str!("auth/routes_toml_doc.toml");

/// `[auth]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    pub identity_key_env: Option<String>,
    pub identity_key_file: Option<String>,
    pub cache_capacity: Option<usize>,
    pub max_credential_bytes: Option<usize>,
    pub session: Option<RawSession>,
    #[serde(default)]
    pub chatbot: Vec<RawChatbot>,
    #[serde(default)]
    pub service: Vec<RawService>,
}

/// `[auth.session]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSession {
    pub flavor: String,
    pub secret_envs: Option<Vec<String>>,
    pub secret_files: Option<Vec<String>>,
    pub cookie_names: Option<Vec<String>>,
    pub skew_secs: Option<u64>,
    pub tenant_claim: Option<String>,
}

/// `[[auth.chatbot]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawChatbot {
    pub name: String,
    pub issuer: String,
    pub audience: Option<Vec<String>>,
    pub algorithms: Vec<String>,
    pub hs256_secret_env: Option<String>,
    pub hs256_secret_file: Option<String>,
    pub public_key_files: Option<Vec<String>>,
    pub jwks_file: Option<String>,
    pub jwks_url: Option<String>,
    pub leeway_secs: Option<u64>,
    pub required_claims: Option<Vec<String>>,
    pub tenant_claim: Option<String>,
    pub tenant: Option<String>,
    pub tenants: Option<Vec<String>>,
}

/// `[[auth.service]]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub name: String,
    pub sha256: String,
}

impl TryFrom<RawAuth> for crate::auth::AuthConfig {
    type Error = String;

    /// Reads env vars from the process and files relative to the current directory.
    fn try_from(raw: RawAuth) -> Result<Self, Self::Error> {
        resolve(
            raw,
            &|name| std::env::var(name).ok(),
            std::path::Path::new("."),
        )
    }
}
