//! Which files `[auth]` names (secrets, PEM keys, JWKS documents), read from the
//! raw text before validation so the reloader can hash them with routes.toml.
//!
//! Lenient on purpose: unknown keys are ignored and a file that does not parse
//! names no files (full validation reports that). Uses serde/TOML only.

use serde::Deserialize;

#[derive(Deserialize)]
struct Peek {
    auth: Option<PeekAuth>,
}

#[derive(Deserialize)]
struct PeekAuth {
    identity_key_file: Option<String>,
    session: Option<PeekSession>,
    #[serde(default)]
    chatbot: Vec<PeekChatbot>,
}

#[derive(Deserialize)]
struct PeekSession {
    secret_files: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct PeekChatbot {
    hs256_secret_file: Option<String>,
    public_key_files: Option<Vec<String>>,
    jwks_file: Option<String>,
}

/// Every file `[auth]` reads, as written (relative to routes.toml's directory
/// unless absolute), in file order, without duplicates.
pub fn referenced_files(routes_text: &str) -> Vec<String> {
    let Some(auth) = toml::from_str::<Peek>(routes_text)
        .ok()
        .and_then(|p| p.auth)
    else {
        return Vec::new();
    };
    let mut files: Vec<String> = Vec::new();
    files.extend(auth.identity_key_file);
    files.extend(
        auth.session
            .and_then(|s| s.secret_files)
            .unwrap_or_default(),
    );
    for c in auth.chatbot {
        files.extend(c.hs256_secret_file);
        files.extend(c.public_key_files.unwrap_or_default());
        files.extend(c.jwks_file);
    }
    let mut seen = std::collections::BTreeSet::new();
    files.retain(|f| seen.insert(f.clone()));
    files
}

#[cfg(test)]
mod tests;
