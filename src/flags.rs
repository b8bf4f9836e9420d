//! Who answers a route: the flag types and the pure, sticky decision.
//!
//! `decide` takes the route's flag and a stickiness key and returns a side;
//! the same key always lands on the same side while the percent is unchanged,
//! and a key on rust at N % stays on rust at any M > N (buckets are fixed per
//! key, the threshold moves). Knows nothing of Pingora or TOML.

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use crate::route::RouteId;

/// One of the two backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Next,
    Rust,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Next => "next",
            Side::Rust => "rust",
        }
    }

    /// [`Side::as_str`] as an `x-cutover-backend` header value (static: no copy).
    pub fn header_value(self) -> http::HeaderValue {
        const NEXT: http::HeaderValue = http::HeaderValue::from_static("next");
        const RUST: http::HeaderValue = http::HeaderValue::from_static("rust");
        match self {
            Side::Next => NEXT,
            Side::Rust => RUST,
        }
    }

    pub fn other(self) -> Side {
        match self {
            Side::Next => Side::Rust,
            Side::Rust => Side::Next,
        }
    }
}

/// What keeps a client on one side during a canary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StickyBy {
    /// The verified user id (falls back to the client IP when anonymous).
    User,
    Ip,
    /// A request cookie's value (falls back to the client IP when absent).
    Cookie(String),
    /// A request header's value (falls back to the client IP when absent).
    Header(String),
}

impl StickyBy {
    pub fn parse(s: &str) -> Result<StickyBy, String> {
        match s {
            "user" => Ok(StickyBy::User),
            "ip" => Ok(StickyBy::Ip),
            _ => {
                if let Some(name) = s.strip_prefix("cookie:").filter(|n| !n.is_empty()) {
                    Ok(StickyBy::Cookie(name.to_string()))
                } else if let Some(name) = s.strip_prefix("header:").filter(|n| !n.is_empty()) {
                    http::HeaderName::from_bytes(name.as_bytes())
                        .map(|h| StickyBy::Header(h.as_str().to_string()))
                        .map_err(|_| format!("sticky_by = \"{s}\": `{name}` is not a header name"))
                } else {
                    Err(format!(
                        "sticky_by = \"{s}\" is not one of \"user\", \"ip\", \"cookie:NAME\", \"header:NAME\""
                    ))
                }
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            StickyBy::User => "user".into(),
            StickyBy::Ip => "ip".into(),
            StickyBy::Cookie(n) => format!("cookie:{n}"),
            StickyBy::Header(n) => format!("header:{n}"),
        }
    }
}

/// A percent in 0..=100.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Percent(u8);

impl Percent {
    pub fn new(p: i64) -> Option<Percent> {
        u8::try_from(p).ok().filter(|p| *p <= 100).map(Percent)
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

/// Who answers one route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// Every request to one side.
    Fixed(Side),
    /// `percent` of clients (by sticky key) to rust, the rest to next.
    Canary {
        percent: Percent,
        sticky_by: StickyBy,
    },
}

/// A route's flag, from `flags/<route-id>.toml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flag {
    pub rule: Rule,
    /// The file it came from (for `cutover routes` and logs).
    pub source: PathBuf,
    /// `shadow = { percent, noise_percent }`: copy requests to the other side.
    pub shadow: Option<crate::shadow::ShadowFlag>,
    /// SHA-256 of the file's text: a changed file clears a guard trip.
    pub fingerprint: [u8; 32],
}

impl Flag {
    /// The share of clients on rust, 0..=100.
    pub fn rust_percent(&self) -> u8 {
        match &self.rule {
            Rule::Fixed(Side::Next) => 0,
            Rule::Fixed(Side::Rust) => 100,
            Rule::Canary { percent, .. } => percent.get(),
        }
    }

    /// The flag's shadow percent, 0 when it does not shadow.
    pub fn shadow_percent(&self) -> u8 {
        self.shadow.map_or(0, |s| s.percent)
    }

    pub fn describe(&self) -> String {
        let rule = match &self.rule {
            Rule::Fixed(side) => side.as_str().to_string(),
            Rule::Canary { percent, sticky_by } => {
                format!("canary {}% rust by {}", percent.get(), sticky_by.describe())
            }
        };
        match self.shadow {
            Some(s) if s.percent > 0 => format!("{rule}, shadow {}%", s.percent),
            _ => rule,
        }
    }
}

/// The stickiness bucket of `key` on `route`, in 0..10_000.
///
/// SHA-256 so the mapping is the same on every replica and every release.
pub fn bucket(route: &RouteId, key: &str) -> u32 {
    let mut h = Sha256::new();
    h.update(route.as_str().as_bytes());
    h.update([0u8]);
    h.update(key.as_bytes());
    let d = h.finalize();
    let n = u64::from_be_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]]);
    (n % 10_000) as u32
}

/// Which side answers. `sticky_key` is only called for a canary.
pub fn decide<'k>(
    route: &RouteId,
    flag: Option<&Flag>,
    sticky_key: impl FnOnce(&StickyBy) -> Cow<'k, str>,
) -> Side {
    match flag.map(|f| &f.rule) {
        None => Side::Next,
        Some(Rule::Fixed(side)) => *side,
        Some(Rule::Canary { percent, sticky_by }) => {
            let threshold = u32::from(percent.get()) * 100;
            if bucket(route, &sticky_key(sticky_by)) < threshold {
                Side::Rust
            } else {
                Side::Next
            }
        }
    }
}
