//! A config loaded without its secrets, for `check`, `routes` and `flip`.
//!
//! Those commands validate that every secret reference is well formed but do
//! not need the values. An unset secret is left absent (never a stand-in
//! value), so the authenticator inside can verify nothing with it, and the
//! config is only ever lent out (`Deref`): an [`Offline`] cannot become the
//! owned [`Config`] that `serve` and the reloader swap in, so no code path
//! that serves traffic can run with an unresolved secret.

use std::ops::Deref;
use std::path::Path;

use super::{Config, ConfigError, ConfigFiles};

/// A validated config whose secrets may be unset (read-only).
#[derive(Debug)]
pub struct Offline {
    config: Config,
    /// Secrets `[auth]` names that have no value, each at its key's line.
    pub unset_secrets: Vec<ConfigError>,
}

impl Offline {
    /// Read and validate `routes.toml` and its flag files like
    /// [`Config::load_lenient`], except that an unset secret is listed in
    /// `unset_secrets` instead of being an error.
    pub fn load(routes_file: &Path) -> Result<Offline, ConfigError> {
        let files = ConfigFiles::read(routes_file)?;
        let (config, unset_secrets) = Config::from_files_unchecked(&files, None)?;
        Ok(Offline {
            config,
            unset_secrets,
        })
    }
}

impl Deref for Offline {
    type Target = Config;

    fn deref(&self) -> &Config {
        &self.config
    }
}

/// Every unset secret as one error: at the first one's line, the others on
/// their own lines below it (each `file:line: …`), so a run names them all.
pub(super) fn all_unset(unset: Vec<ConfigError>) -> Option<ConfigError> {
    let mut it = unset.into_iter();
    let mut first = it.next()?;
    for other in it {
        first.message.push('\n');
        first.message.push_str(&other.to_string());
    }
    Some(first)
}
