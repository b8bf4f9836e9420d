//! `flags/<route-id>.toml`: one route's flag.
//!
//! ```toml
//! backend = "rust"                                   # or "next"
//! # or, instead of backend:
//! canary = { percent = 10, sticky_by = "user" }      # percent of clients on rust
//! # optional, beside either (alone it means backend = "next"):
//! shadow = { percent = 10, noise_percent = 10 }      # copy to the other side, compare
//! ```

use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::ConfigError;
use crate::flags::{Flag, Percent, Rule, Side, StickyBy};
use crate::route::{RouteId, RouteTable};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlag {
    route: Option<Spanned<String>>,
    backend: Option<Spanned<String>>,
    canary: Option<Spanned<RawCanary>>,
    shadow: Option<Spanned<super::shadow::RawShadowFlag>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCanary {
    percent: Spanned<i64>,
    sticky_by: Option<Spanned<String>>,
}

/// The route a flag file is for, even when the file is invalid: its `route`
/// key when that much parses, else the file stem.
pub fn route_name(path: &Path, text: &str) -> String {
    toml::from_str::<toml::Table>(text)
        .ok()
        .and_then(|t| t.get("route").and_then(|r| r.as_str()).map(str::to_string))
        .unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
}

/// `unknown field `backnd`` → add "did you mean `backend`?".
fn with_suggestion(mut e: ConfigError) -> ConfigError {
    const KEYS: [&str; 4] = ["route", "backend", "canary", "shadow"];
    let typo = e
        .message
        .strip_prefix("unknown field `")
        .and_then(|rest| rest.split('`').next())
        .map(str::to_string);
    if let Some(hint) = typo
        .as_deref()
        .and_then(|t| super::suggest::closest(t, KEYS))
    {
        e.message = format!("{}; did you mean `{hint}`?", e.message);
    }
    e
}

/// Parse one flag file. The route is the `route` key, else the file stem.
pub fn parse(path: &Path, text: &str, routes: &RouteTable) -> Result<(RouteId, Flag), ConfigError> {
    let raw: RawFlag =
        toml::from_str(text).map_err(|e| with_suggestion(ConfigError::toml(path, text, &e)))?;
    let RawFlag {
        route,
        backend,
        canary,
        shadow,
    } = raw;
    let at = |pos: usize, msg: String| ConfigError::at_offset(path, text, pos, msg);

    let (name, pos) = match &route {
        Some(r) => (r.get_ref().clone(), r.span().start),
        None => (
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            0,
        ),
    };
    let known = || {
        routes
            .iter()
            .map(|r| r.id.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let id = RouteId::parse(&name).map_err(|m| at(pos, m))?;
    if routes.get(&id).is_none() {
        return Err(at(
            pos,
            format!(
                "no route `{id}` in routes.toml: name the file after a route id (known: {})",
                known()
            ),
        ));
    }

    let rule = match (backend, canary) {
        (Some(_), Some(c)) => {
            return Err(at(
                c.span().start,
                "both backend and canary are set: keep `backend` for all traffic, or `canary` for a share".into(),
            ));
        }
        (None, None) if shadow.is_some() => Rule::Fixed(Side::Next),
        (None, None) => {
            return Err(at(
                0,
                "no `backend`, `canary` or `shadow`: write backend = \"next\" or \"rust\"".into(),
            ));
        }
        (Some(b), None) => match b.get_ref().as_str() {
            "next" => Rule::Fixed(Side::Next),
            "rust" => Rule::Fixed(Side::Rust),
            other => {
                return Err(at(
                    b.span().start,
                    format!("backend = \"{other}\" is not \"next\" or \"rust\""),
                ));
            }
        },
        (None, Some(c)) => {
            let RawCanary { percent, sticky_by } = c.into_inner();
            let p = Percent::new(*percent.get_ref()).ok_or_else(|| {
                at(
                    percent.span().start,
                    format!("percent = {} is out of range 0..=100", percent.get_ref()),
                )
            })?;
            let sticky_by = match sticky_by {
                None => StickyBy::User,
                Some(s) => StickyBy::parse(s.get_ref()).map_err(|m| at(s.span().start, m))?,
            };
            Rule::Canary {
                percent: p,
                sticky_by,
            }
        }
    };
    let shadow = match shadow {
        None => None,
        Some(sh) => {
            let pos = sh.span().start;
            let flag = crate::shadow::ShadowFlag::try_from(sh.into_inner())
                .map_err(|e| at(pos, format!("route `{id}`: {e}")))?;
            Some(flag)
        }
    };
    let fingerprint = {
        use sha2::{Digest, Sha256};
        Sha256::digest(text.as_bytes()).into()
    };
    Ok((
        id,
        Flag {
            rule,
            source: path.to_path_buf(),
            shadow,
            fingerprint,
        },
    ))
}
