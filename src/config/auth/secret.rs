//! Reading one named secret: an env var (`*_env`) or a file (`*_file`).
//!
//! A reference must be well formed (a variable name, a non-empty path): that
//! is an error in every mode. A value that is not there (unset or empty
//! variable, unreadable or empty file) is recorded as *unset* and left absent,
//! never replaced by a stand-in: [`crate::config::Config`] turns unset into an
//! error (`serve`, reloads), [`crate::config::Offline`] into a warning
//! (`check`, `routes`, `flip`). A value shorter than [`MIN_SECRET_BYTES`] is
//! recorded as *weak*, named by its key and variable or file, never its value.

use std::ops::Range;
use std::path::Path;

use toml::Spanned;

use crate::auth::settings::SecretBytes;

/// Below this a secret is reported as weak (HMAC and HKDF keys want 32 bytes).
pub const MIN_SECRET_BYTES: usize = 32;

/// A message about one `[auth]` key, at that key's byte span in routes.toml
/// when known (else the caller places it at the `[auth]` table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub span: Option<Range<usize>>,
    pub message: String,
}

impl From<String> for Located {
    fn from(message: String) -> Self {
        Located {
            span: None,
            message,
        }
    }
}

/// Secrets named but without a value, and values too short.
#[derive(Debug, Default)]
pub struct Findings {
    pub unset: Vec<Located>,
    pub weak: Vec<Located>,
}

/// Env lookup, injected so tests need no process env.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

/// Where secrets are read from, and what was found while reading them.
pub struct Source<'a> {
    pub env: Env<'a>,
    /// Directory secret files are relative to (routes.toml's).
    pub base: &'a Path,
    pub found: Findings,
}

impl Source<'_> {
    /// `key = "VAR"`: the variable's value, or `None` (recorded as unset).
    /// `alt` is the `*_file` key to suggest instead.
    pub fn env(
        &mut self,
        key: &str,
        alt: &str,
        var: &Spanned<String>,
    ) -> Result<Option<SecretBytes>, Located> {
        let name = var.get_ref();
        if !valid_env_name(name) {
            return Err(Located {
                span: Some(var.span()),
                // Not echoed: it may be the secret itself, pasted here.
                message: format!(
                    "{key}: not an environment variable name (letters, digits and _, not starting with a digit); name the variable that holds the secret, never the secret itself"
                ),
            });
        }
        match (self.env)(name) {
            Some(v) if !v.is_empty() => {
                let what = format!("environment variable {name}");
                Ok(Some(self.weigh(key, &what, var.span(), v.into_bytes())))
            }
            _ => {
                self.found.unset.push(Located {
                    span: Some(var.span()),
                    message: format!(
                        "{key}: environment variable {name} is not set or empty; export {name}, or use {alt}"
                    ),
                });
                Ok(None)
            }
        }
    }

    /// `key = "path"`: the file's content without a trailing newline, or
    /// `None` (unreadable or empty: recorded as unset).
    pub fn file(
        &mut self,
        key: &str,
        alt: &str,
        file: &Spanned<String>,
    ) -> Result<Option<SecretBytes>, Located> {
        let name = file.get_ref();
        if name.trim().is_empty() {
            return Err(Located {
                span: Some(file.span()),
                message: format!("{key}: the path is empty; name the file that holds the secret"),
            });
        }
        let unset = |message: String| Located {
            span: Some(file.span()),
            message,
        };
        let mut bytes = match std::fs::read(self.base.join(name)) {
            Ok(b) => b,
            Err(e) => {
                self.found.unset.push(unset(format!(
                    "{key}: cannot read {name:?} ({e}); fix the path, or use {alt}"
                )));
                return Ok(None);
            }
        };
        while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            bytes.pop();
        }
        if bytes.is_empty() {
            self.found.unset.push(unset(format!(
                "{key}: {name:?} is empty; put the secret in it, or use {alt}"
            )));
            return Ok(None);
        }
        Ok(Some(self.weigh(
            key,
            &format!("file {name:?}"),
            file.span(),
            bytes,
        )))
    }

    fn weigh(&mut self, key: &str, what: &str, span: Range<usize>, bytes: Vec<u8>) -> SecretBytes {
        if bytes.len() < MIN_SECRET_BYTES {
            self.found.weak.push(Located {
                span: Some(span),
                message: format!(
                    "{key}: {what} holds only {} bytes; a secret under {MIN_SECRET_BYTES} bytes can be guessed: use {MIN_SECRET_BYTES}+ random bytes (`openssl rand -base64 32`)",
                    bytes.len()
                ),
            });
        }
        SecretBytes::new(bytes)
    }
}

/// POSIX-portable variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn valid_env_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}
