//! Signed tester overrides: a cookie that sends one tester's requests for a
//! set of routes to a chosen side, whatever the route's flag says.
//!
//! A token is `v1.<base64url(payload)>.<base64url(HMAC-SHA256(key, "v1." + payload))>`
//! with the JSON payload `{"routes": "*" | ["id", …], "side": "rust" | "next",
//! "exp": unix-seconds, "user"?: "id"}`: cookie-safe, no padding. The first
//! configured key signs; every configured key verifies (rotation). Pure:
//! values and an injected `now` in, a [`Grant`] or a [`Rejection`] out; no
//! Pingora, no config files. May use: `flags` (for [`Side`]), serde_json for
//! the payload's wire format.

#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::flags::Side;

/// The only token version this build signs and accepts.
pub const VERSION: &str = "v1";
/// Longer tokens are rejected as malformed before any decoding.
pub const MAX_TOKEN_BYTES: usize = 4096;
/// Shortest key accepted: HMAC-SHA256 wants at least its output size.
pub const MIN_KEY_BYTES: usize = 32;
/// The page on the public port that sets (or, with `?clear=1`, clears) the cookie.
pub const PAGE_PATH: &str = "/-/override";
/// The cookie name when `[override] cookie` is unset.
pub const DEFAULT_COOKIE: &str = "cutover_override";

/// One HMAC key (never printed).
#[derive(Clone)]
pub struct OverrideKey(Vec<u8>);

impl OverrideKey {
    pub fn new(bytes: Vec<u8>) -> Result<OverrideKey, String> {
        if bytes.len() < MIN_KEY_BYTES {
            return Err(format!(
                "the key has {} bytes; use at least {MIN_KEY_BYTES} (e.g. `openssl rand -hex 32`)",
                bytes.len()
            ));
        }
        Ok(OverrideKey(bytes))
    }

    fn mac(&self, signed: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .expect("HMAC-SHA256 takes a key of any length");
        mac.update(signed);
        mac
    }
}

impl fmt::Debug for OverrideKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OverrideKey(<redacted>)")
    }
}

/// `[override]` once validated: present means overrides are on.
#[derive(Debug, Clone)]
pub struct OverrideConfig {
    /// First signs, all verify. Empty when no named key is set: every cookie
    /// is then rejected (`bad_signature`) and `cutover override` refuses to sign.
    pub keys: Vec<OverrideKey>,
    /// Where each key came from (`env CUTOVER_OVERRIDE_KEY`, `file keys/a`), same order.
    pub key_sources: Vec<String>,
    /// Every source named in config, set or not (for the "set X" hint).
    pub named_sources: Vec<String>,
    pub cookie: String,
    pub max_ttl: Duration,
}

/// Which routes a grant covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteSet {
    All,
    Only(BTreeSet<String>),
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub routes: RouteSet,
    pub side: Side,
    /// Unix seconds; the grant is void from this second on.
    pub expires: u64,
    /// When set, the grant applies only to requests of this verified user.
    pub user: Option<String>,
}

/// Why a cookie was ignored: one bounded label each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Not three dot-separated base64url parts, bad JSON, or too long.
    Malformed,
    /// No configured key produced this signature.
    BadSignature,
    Expired,
    /// Valid, but not for this route.
    RouteNotInSet,
    /// Bound to a user, and the request is not that verified user.
    WrongUser,
    /// A version this build does not know (`v2.…`).
    UnknownVersion,
}

impl Rejection {
    pub const ALL: [Rejection; 6] = [
        Rejection::Malformed,
        Rejection::BadSignature,
        Rejection::Expired,
        Rejection::RouteNotInSet,
        Rejection::WrongUser,
        Rejection::UnknownVersion,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Rejection::Malformed => "malformed",
            Rejection::BadSignature => "bad_signature",
            Rejection::Expired => "expired",
            Rejection::RouteNotInSet => "route_not_in_set",
            Rejection::WrongUser => "wrong_user",
            Rejection::UnknownVersion => "unknown_version",
        }
    }

    /// For the tester's page: what to do about it.
    pub fn explain(self) -> &'static str {
        match self {
            Rejection::Expired => "this override has expired: ask for a new one",
            Rejection::RouteNotInSet => "this override does not cover this route",
            Rejection::WrongUser => "this override is bound to another signed-in user",
            Rejection::UnknownVersion => "this override was made by a newer cutover",
            Rejection::Malformed | Rejection::BadSignature => {
                "this override is not valid (mistyped, cut short, or signed with a retired key)"
            }
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    routes: serde_json::Value,
    side: String,
    exp: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user: Option<String>,
}

/// The token for `grant`, signed with `key`.
pub fn sign(grant: &Grant, key: &OverrideKey) -> String {
    let routes = match &grant.routes {
        RouteSet::All => serde_json::Value::from("*"),
        RouteSet::Only(ids) => ids.iter().map(String::as_str).collect(),
    };
    let payload = Payload {
        routes,
        side: grant.side.as_str().to_string(),
        exp: grant.expires,
        user: grant.user.clone(),
    };
    let json = serde_json::to_vec(&payload).expect("a payload of strings and numbers serializes");
    let signed = format!("{VERSION}.{}", URL_SAFE_NO_PAD.encode(json));
    let tag = key.mac(signed.as_bytes()).finalize().into_bytes();
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(tag))
}

/// Check the version, the signature (against every key) and the expiry.
pub fn inspect(token: &str, keys: &[OverrideKey], now: u64) -> Result<Grant, Rejection> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(Rejection::Malformed);
    }
    let mut parts = token.split('.');
    let (Some(version), Some(body), Some(tag), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Rejection::Malformed);
    };
    if version != VERSION {
        let looks_versioned = version.len() <= 4
            && version.starts_with('v')
            && version[1..].bytes().all(|b| b.is_ascii_digit());
        return Err(if looks_versioned && version.len() > 1 {
            Rejection::UnknownVersion
        } else {
            Rejection::Malformed
        });
    }
    if body.is_empty() || tag.is_empty() {
        return Err(Rejection::Malformed);
    }
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| Rejection::Malformed)?;
    let signed = &token[..version.len() + 1 + body.len()];
    // `verify_slice` compares in constant time.
    if !keys
        .iter()
        .any(|k| k.mac(signed.as_bytes()).verify_slice(&tag).is_ok())
    {
        return Err(Rejection::BadSignature);
    }
    let json = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| Rejection::Malformed)?;
    let payload: Payload = serde_json::from_slice(&json).map_err(|_| Rejection::Malformed)?;
    let grant = grant_of(payload).ok_or(Rejection::Malformed)?;
    if now >= grant.expires {
        return Err(Rejection::Expired);
    }
    Ok(grant)
}

/// The side a request for `route` by `user` is served by, if `token` grants it.
pub fn verify(
    token: &str,
    keys: &[OverrideKey],
    route: &str,
    user: Option<&str>,
    now: u64,
) -> Result<Side, Rejection> {
    inspect(token, keys, now)?.applies(route, user)
}

impl Grant {
    /// The side for `route` and the request's verified `user`, or why not.
    pub fn applies(&self, route: &str, user: Option<&str>) -> Result<Side, Rejection> {
        if let RouteSet::Only(ids) = &self.routes
            && !ids.contains(route)
        {
            return Err(Rejection::RouteNotInSet);
        }
        if let Some(bound) = &self.user
            && user != Some(bound.as_str())
        {
            return Err(Rejection::WrongUser);
        }
        Ok(self.side)
    }

    /// `all routes`, `route a` or `routes a, b`: for the tester's page and the CLI.
    pub fn describe_routes(&self) -> String {
        match &self.routes {
            RouteSet::All => "all routes".to_string(),
            RouteSet::Only(ids) if ids.len() == 1 => {
                format!("route {}", ids.iter().next().map_or("", String::as_str))
            }
            RouteSet::Only(ids) => {
                let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
                format!("routes {}", ids.join(", "))
            }
        }
    }
}

fn grant_of(p: Payload) -> Option<Grant> {
    let routes = match p.routes {
        serde_json::Value::String(s) if s == "*" => RouteSet::All,
        serde_json::Value::Array(items) if !items.is_empty() => RouteSet::Only(
            items
                .into_iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<_>>()?,
        ),
        _ => return None,
    };
    let side = match p.side.as_str() {
        "rust" => Side::Rust,
        "next" => Side::Next,
        _ => return None,
    };
    Some(Grant {
        routes,
        side,
        expires: p.exp,
        user: p.user,
    })
}
