//! `Cookie:` header parsing and session-cookie chunk rejoining.
//!
//! next-auth and @auth/core split a long token into `<name>.0`, `<name>.1`, …;
//! chunks are rejoined in numeric order and preferred over a stale unsuffixed
//! cookie; a gap, a duplicate index or too many bytes is `Malformed`. Pure.

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

/// Looks up the first configured name present (chunked or not).
pub(crate) fn find_session<'n>(
    pairs: &[(&str, &str)],
    names: &'n [String],
    max_bytes: usize,
) -> Found<'n> {
    for name in names {
        match rejoin(pairs, name, max_bytes) {
            Ok(Some(token)) => {
                return Found::Token {
                    cookie_name: name,
                    token,
                };
            }
            Ok(None) => continue,
            Err(reason) => return Found::Invalid(reason),
        }
    }
    Found::Absent
}

/// The token stored under `name`: its chunks if any exist, else the plain cookie.
fn rejoin(
    pairs: &[(&str, &str)],
    name: &str,
    max_bytes: usize,
) -> Result<Option<String>, RejectReason> {
    let mut chunks: Vec<(usize, &str)> = Vec::new();
    let mut plain = None;
    for (cookie, value) in pairs {
        if *cookie == name {
            plain.get_or_insert(*value);
        } else if let Some(suffix) = cookie.strip_prefix(name).and_then(|s| s.strip_prefix('.')) {
            let index = chunk_index(suffix)?;
            if chunks.len() >= MAX_CHUNKS || chunks.iter().any(|(i, _)| *i == index) {
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
