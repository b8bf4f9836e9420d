//! The `[auth]` table of routes.toml: serde mirror + conversion to `auth::AuthConfig`.
//!
//! Secrets are never literal in the file: they are named by env var or file, read
//! here at load time (see `secret`: an unset one is reported at its key's line
//! and left absent); the reloader hashes the named files with routes.toml, so
//! rewriting one reloads (see `watch`). Keys are parsed here,
//! so a bad PEM/JWKS fails `cutover check`, not a request. Errors name the key and
//! the fix. Uses `auth::settings` types, `identity::IdentityKey`, `jsonwebtoken`.

mod convert;
mod secret;
#[cfg(test)]
mod tests;
mod watch;

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::ConfigError;
pub use convert::{Resolved, resolve, resolve_all};
pub use secret::{Located, MIN_SECRET_BYTES, valid_env_name};
pub use watch::referenced_files;

/// Comment block for routes.toml (kept next to the struct so they change together).
pub const ROUTES_TOML_DOC: &str = include_str!("auth/routes_toml_doc.toml");

/// `[auth]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    pub identity_key_env: Option<Spanned<String>>,
    pub identity_key_file: Option<Spanned<String>>,
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
    pub secret_envs: Option<Vec<Spanned<String>>>,
    pub secret_files: Option<Vec<Spanned<String>>>,
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
    pub hs256_secret_env: Option<Spanned<String>>,
    pub hs256_secret_file: Option<Spanned<String>>,
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

/// `[auth]` of a routes.toml, with every finding placed at its key's line.
pub(super) struct Loaded {
    pub config: crate::auth::AuthConfig,
    /// `identity_key_env`/`_file` is set (its value may be unset).
    pub identity_key_named: bool,
    /// Named secrets without a value: an error for `Config`, a warning for `Offline`.
    pub unset: Vec<ConfigError>,
    /// Secrets shorter than [`MIN_SECRET_BYTES`]: always a warning.
    pub weak: Vec<ConfigError>,
}

/// Validate `[auth]` of `path` (whose text is `text`), reading env vars from
/// the process and files relative to `path`'s directory.
pub(super) fn load(
    auth: Option<Spanned<RawAuth>>,
    path: &Path,
    text: &str,
) -> Result<Loaded, ConfigError> {
    let Some(auth) = auth else {
        return Ok(Loaded {
            config: crate::auth::AuthConfig::default(),
            identity_key_named: false,
            unset: Vec::new(),
            weak: Vec::new(),
        });
    };
    let table = auth.span();
    let at = |l: Located| {
        let pos = l.span.unwrap_or_else(|| table.clone()).start;
        ConfigError::at_offset(path, text, pos, l.message)
    };
    let base = path.parent().unwrap_or(Path::new("."));
    let mut r =
        resolve_all(auth.into_inner(), &|name| std::env::var(name).ok(), base).map_err(at)?;
    // In file order, whatever order the tables were read in.
    let line = |l: &Located| l.span.as_ref().map_or(0, |s| s.start);
    r.found.unset.sort_by_key(line);
    r.found.weak.sort_by_key(line);
    Ok(Loaded {
        config: r.config,
        identity_key_named: r.identity_key_named,
        unset: r.found.unset.into_iter().map(at).collect(),
        weak: r.found.weak.into_iter().map(at).collect(),
    })
}
