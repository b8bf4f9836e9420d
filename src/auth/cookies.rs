//! `Cookie:` header parsing and session-cookie choice and chunk rejoining.
//!
//! One cookie name is used per request, chosen the way next-auth v4 and
//! Auth.js v5 choose it: the `__Secure-` name when the site is served over
//! https, the plain name otherwise ([`choose_name`]). Cookies under the other
//! name are ignored, as the libraries ignore them. Under the chosen name,
//! next-auth and @auth/core split a long token into `<name>.0`, `<name>.1`, …;
//! chunks are rejoined in numeric order. A gap, a bad index or too many bytes
//! is `Malformed`; an ambiguous set (one name with two different values, or a
//! plain cookie next to chunks: cookie tossing from a sibling subdomain) is
//! `Ambiguous`, never a guess. Pure.

use super::RejectReason;

/// More chunks than this is never a real session (16 KiB / ~3.9 KiB per chunk).
const MAX_CHUNKS: usize = 16;

/// `name=value` pairs of every `Cookie:` header, in order. Pairs without `=` are skipped;
/// surrounding double quotes of a value are removed (RFC 6265).
pub(crate) fn parse<'a>(headers: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    let mut pairs = Vec::new();
    for header in headers {
        for part in header.split(';') {
            if let Some((name, value)) = part.split_once('=') {
                let value = value.trim();
                let value = value
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .unwrap_or(value);
                pairs.push((name.trim(), value));
            }
        }
    }
    pairs
}

/// The session token found under one of the configured cookie names (no `Debug`: secret).
pub(crate) enum Found<'n> {
    Absent,
    Token { cookie_name: &'n str, token: String },
    Invalid(RejectReason),
}

/// The one cookie name of this deployment for this request: the first
/// configured name with the `__Secure-`/`__Host-` prefix when `https`, else
/// the first without; when no name fits (a custom single name), the first.
pub(crate) fn choose_name(names: &[String], https: bool) -> Option<&String> {
    let prefixed = |n: &String| n.starts_with("__Secure-") || n.starts_with("__Host-");
    names
        .iter()
        .find(|n| prefixed(n) == https)
        .or_else(|| names.first())
}

/// Looks up the session token under the name [`choose_name`] picks.
pub(crate) fn find_session<'n>(
    pairs: &[(&str, &str)],
    names: &'n [String],
    https: bool,
    max_bytes: usize,
) -> Found<'n> {
    let Some(name) = choose_name(names, https) else {
        return Found::Absent;
    };
    match rejoin(pairs, name, max_bytes) {
        Ok(Some(token)) => Found::Token {
            cookie_name: name,
            token,
        },
        Ok(None) => Found::Absent,
        Err(reason) => Found::Invalid(reason),
    }
}

/// The token stored under `name`: its chunks, or the plain cookie. Repeats of
/// one cookie with the same value are harmless (a browser may send a cookie
/// set for two paths); different values, or plain and chunks together, are
/// `Ambiguous`.
fn rejoin(
    pairs: &[(&str, &str)],
    name: &str,
    max_bytes: usize,
) -> Result<Option<String>, RejectReason> {
    let mut chunks: Vec<(usize, &str)> = Vec::new();
    let mut plain: Option<&str> = None;
    for (cookie, value) in pairs {
        if *cookie == name {
            match plain {
                Some(seen) if seen != *value => return Err(RejectReason::Ambiguous),
                _ => plain = Some(value),
            }
        } else if let Some(suffix) = cookie.strip_prefix(name).and_then(|s| s.strip_prefix('.')) {
            let index = chunk_index(suffix)?;
            match chunks.iter().find(|(i, _)| *i == index) {
                Some((_, seen)) if seen == value => continue,
                Some(_) => return Err(RejectReason::Ambiguous),
                None => {}
            }
            if chunks.len() >= MAX_CHUNKS {
                return Err(RejectReason::Malformed);
            }
            chunks.push((index, value));
        }
    }
    if chunks.is_empty() {
        return match plain {
            Some(v) if v.len() > max_bytes => Err(RejectReason::Malformed),
            Some("") | None => Ok(None),
            Some(v) => Ok(Some(v.to_string())),
        };
    }
    if plain.is_some_and(|v| !v.is_empty()) {
        return Err(RejectReason::Ambiguous);
    }
    chunks.sort_unstable_by_key(|(i, _)| *i);
    let mut token = String::new();
    for (expected, (index, value)) in chunks.iter().enumerate() {
        if *index != expected {
            return Err(RejectReason::Malformed);
        }
        if token.len() + value.len() > max_bytes {
            return Err(RejectReason::Malformed);
        }
        token.push_str(value);
    }
    if token.is_empty() {
        return Err(RejectReason::Malformed);
    }
    Ok(Some(token))
}

/// `0`, `1`, … (decimal, no sign, no leading zero); anything else is `Malformed`.
fn chunk_index(suffix: &str) -> Result<usize, RejectReason> {
    let plain_decimal = !suffix.is_empty()
        && suffix.len() <= 3
        && suffix.bytes().all(|b| b.is_ascii_digit())
        && (suffix == "0" || !suffix.starts_with('0'));
    if !plain_decimal {
        return Err(RejectReason::Malformed);
    }
    suffix.parse().map_err(|_| RejectReason::Malformed)
}

#[cfg(test)]
mod tests;
