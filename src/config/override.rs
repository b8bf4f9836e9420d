//! The `[override]` table of routes.toml: serde mirror + conversion to
//! [`OverrideConfig`] (signed tester overrides).
//!
//! Keys are never literal: `keys_env` names environment variables, `key_files`
//! names files (relative to routes.toml). The first key that is set signs,
//! every one set verifies: list the new key first and keep the old one until
//! its tokens have expired. An unset variable is skipped (so the previous key
//! can stay listed, unset); an unreadable file is an error. Key files are
//! hashed with routes.toml, so rewriting one reloads ([`referenced_files`]).
//! Uses `r#override` types and `shadow::parse_duration`.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::r#override::{DEFAULT_COOKIE, OverrideConfig, OverrideKey};

/// `[override]`
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOverride {
    keys_env: Option<Vec<String>>,
    key_files: Option<Vec<String>>,
    cookie: Option<String>,
    max_ttl: Option<String>,
}

/// Longest `max_ttl` accepted: a forgotten override must not outlive a week.
const MAX_MAX_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Validates `[override]`: env vars through `env`, files relative to `base`.
pub fn resolve(
    raw: RawOverride,
    env: &dyn Fn(&str) -> Option<String>,
    base: &Path,
) -> Result<OverrideConfig, String> {
    let RawOverride {
        keys_env,
        key_files,
        cookie,
        max_ttl,
    } = raw;
    let (keys_env, key_files) = (keys_env.unwrap_or_default(), key_files.unwrap_or_default());
    if keys_env.is_empty() && key_files.is_empty() {
        return Err(
            "override: name at least one key: keys_env = [\"CUTOVER_OVERRIDE_KEY\"] or key_files = [\"…\"]"
                .into(),
        );
    }
    let mut keys = Vec::new();
    let mut key_sources = Vec::new();
    let mut named_sources = Vec::new();
    for var in keys_env {
        let source = format!("env {var}");
        if let Some(v) = env(&var).filter(|v| !v.is_empty()) {
            keys.push(
                OverrideKey::new(v.into_bytes())
                    .map_err(|e| format!("override.keys_env: {var}: {e}"))?,
            );
            key_sources.push(source.clone());
        }
        named_sources.push(source);
    }
    for file in key_files {
        let mut bytes = std::fs::read(base.join(&file))
            .map_err(|e| format!("override.key_files: cannot read {file:?} ({e}); fix the path"))?;
        while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            bytes.pop();
        }
        keys.push(
            OverrideKey::new(bytes).map_err(|e| format!("override.key_files: {file:?}: {e}"))?,
        );
        key_sources.push(format!("file {file}"));
        named_sources.push(format!("file {file}"));
    }
    let cookie = cookie.unwrap_or_else(|| DEFAULT_COOKIE.to_string());
    if cookie.is_empty()
        || !cookie
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err(format!(
            "override.cookie = {cookie:?}: use letters, digits, `_` and `-` only (default {DEFAULT_COOKIE:?})"
        ));
    }
    let max_ttl = match max_ttl {
        None => Duration::from_secs(24 * 3600),
        Some(s) => match crate::config::shadow::parse_duration(&s) {
            Some(d) if d >= Duration::from_secs(60) && d <= MAX_MAX_TTL => d,
            _ => {
                return Err(format!(
                    "override.max_ttl = {s:?}: write a duration from \"1m\" to \"168h\", e.g. \"24h\" (the default)"
                ));
            }
        },
    };
    Ok(OverrideConfig {
        keys,
        key_sources,
        named_sources,
        cookie,
        max_ttl,
    })
}

/// Every key file `[override]` names, as written, read leniently from the raw
/// text before validation (the reloader hashes them with routes.toml).
pub fn referenced_files(routes_text: &str) -> Vec<String> {
    #[derive(Deserialize)]
    struct Peek {
        #[serde(rename = "override")]
        section: Option<PeekOverride>,
    }
    #[derive(Deserialize)]
    struct PeekOverride {
        key_files: Option<Vec<String>>,
    }
    toml::from_str::<Peek>(routes_text)
        .ok()
        .and_then(|p| p.section)
        .and_then(|o| o.key_files)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> RawOverride {
        toml::from_str(text).expect("valid toml")
    }

    const KEY: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn first_set_key_signs_and_unset_previous_key_is_skipped() {
        let env = |name: &str| (name == "NEW").then(|| KEY.to_string());
        let cfg =
            resolve(raw(r#"keys_env = ["NEW", "OLD"]"#), &env, Path::new(".")).expect("valid");
        assert_eq!(cfg.keys.len(), 1);
        assert_eq!(cfg.key_sources, ["env NEW"]);
        assert_eq!(cfg.named_sources, ["env NEW", "env OLD"]);
        assert_eq!(cfg.cookie, DEFAULT_COOKIE);
        assert_eq!(cfg.max_ttl, Duration::from_secs(86_400));
    }

    #[test]
    fn key_files_are_read_relative_to_routes_toml_and_listed_for_reload() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("override.key"), format!("{KEY}\n")).unwrap();
        let text = "[override]\nkey_files = [\"override.key\"]\nmax_ttl = \"2h\"\n";
        assert_eq!(referenced_files(text), ["override.key"]);
        let cfg = resolve(
            raw("key_files = [\"override.key\"]\nmax_ttl = \"2h\""),
            &|_| None,
            dir.path(),
        )
        .expect("valid");
        assert_eq!(cfg.keys.len(), 1);
        assert_eq!(cfg.max_ttl, Duration::from_secs(7200));
        let missing = resolve(raw("key_files = [\"nope.key\"]"), &|_| None, dir.path());
        assert!(missing.unwrap_err().contains("nope.key"));
    }

    #[test]
    fn bad_values_say_how_to_fix_them() {
        let none = |_: &str| None;
        let base = Path::new(".");
        assert!(
            resolve(raw(""), &none, base)
                .unwrap_err()
                .contains("keys_env")
        );
        let short = |_: &str| Some("short".to_string());
        assert!(
            resolve(raw(r#"keys_env = ["K"]"#), &short, base)
                .unwrap_err()
                .contains("at least 32")
        );
        let bad_cookie = raw("keys_env = [\"K\"]\ncookie = \"a b\"");
        assert!(
            resolve(bad_cookie, &none, base)
                .unwrap_err()
                .contains("cookie")
        );
        let bad_ttl = raw("keys_env = [\"K\"]\nmax_ttl = \"30d\"");
        assert!(
            resolve(bad_ttl, &none, base)
                .unwrap_err()
                .contains("max_ttl")
        );
        assert!(toml::from_str::<RawOverride>("keys = [\"K\"]").is_err());
    }
}
