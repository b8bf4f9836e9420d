//! Paths a backend could read as another route than cutover does.
//!
//! cutover decides the route (and so the auth, caps and side) from the raw
//! request path; Next parses the same path with the WHATWG URL rules (`\` is
//! `/`, `%2e` dot segments are resolved) and decodes percent-escapes of plain
//! characters, and the rust side's router sees what cutover forwards. Where
//! the other reading is a claimed route that cutover's reading is not,
//! cutover refuses the request (400) instead of guessing: a request can never
//! reach a route's handler without that route's auth having run, nor reach
//! rust for a path the table did not claim. Anything else, claimed or not, is
//! forwarded untouched (unclaimed traffic is next's business, odd paths
//! included).
//!
//! Pure: the route table and the path in, a verdict out.

use http::Method;

use super::RouteTable;

/// Why a path was refused; `as_str` is the `reason` in the 400 body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ambiguity {
    /// `.` / `..` segments, plain or percent-encoded (`%2e%2e`).
    DotSegment,
    /// `%2f` / `%5c` (an encoded `/` or `\`), or a raw `\`.
    EncodedSeparator,
    /// `//`: an empty segment (Next redirects; the rust router does not).
    EmptySegment,
    /// Percent-escapes of unreserved characters (`/api/ch%61t`), which some
    /// readers decode and others do not.
    EncodedPlainCharacter,
}

impl Ambiguity {
    pub fn as_str(self) -> &'static str {
        match self {
            Ambiguity::DotSegment => "dot_segment",
            Ambiguity::EncodedSeparator => "encoded_separator",
            Ambiguity::EmptySegment => "empty_segment",
            Ambiguity::EncodedPlainCharacter => "encoded_plain_character",
        }
    }

    /// What the client should send instead.
    pub fn hint(self) -> &'static str {
        match self {
            Ambiguity::DotSegment => "resolve `.` and `..` segments before sending (browsers do)",
            Ambiguity::EncodedSeparator => {
                "do not encode `/` or `\\` in a path that names an API route; send `/`"
            }
            Ambiguity::EmptySegment => "remove the empty segment (`//`)",
            Ambiguity::EncodedPlainCharacter => "send letters, digits and `-._~` unencoded",
        }
    }
}

/// `Err` when a backend could read `path` as a claimed route other than the
/// one cutover matches (or as a claimed route where cutover matches none).
/// A path whose other reading claims nothing stays with the route cutover
/// matched (its auth runs; e.g. `%2F` inside an id is that id, decoded by the
/// handler), or with next when cutover matched nothing.
pub fn check(routes: &RouteTable, method: &Method, path: &str) -> Result<(), Ambiguity> {
    let Some((canonical, why)) = canonical(path) else {
        return Ok(());
    };
    let Some(other) = routes.find(method, &canonical) else {
        return Ok(());
    };
    match routes.find(method, path) {
        Some(m) if m.route.id == other.route.id => Ok(()),
        _ => Err(why),
    }
}

/// The path as the most liberal backend reads it, and the first reason it
/// differs from `path`; `None` when every reader agrees with `path` as sent.
pub fn canonical(path: &str) -> Option<(String, Ambiguity)> {
    // Fast path: nothing any reader would rewrite.
    let b = path.as_bytes();
    let suspicious = b.iter().any(|&c| c == b'%' || c == b'\\')
        || b.windows(2).any(|w| w == b"//" || w == b"/.");
    if !suspicious {
        return None;
    }
    let mut why = None;
    let mut note = |a: Ambiguity| {
        why.get_or_insert(a);
    };
    let decoded = decode_liberally(path, &mut note);
    let mut out: Vec<&str> = Vec::new();
    let parts: Vec<&str> = decoded.split('/').collect();
    let last = parts.len() - 1;
    for (i, seg) in parts.iter().enumerate().skip(1) {
        match *seg {
            "." => note(Ambiguity::DotSegment),
            ".." => {
                note(Ambiguity::DotSegment);
                out.pop();
            }
            "" if i != last => note(Ambiguity::EmptySegment),
            s => out.push(s),
        }
    }
    let mut canonical = String::with_capacity(decoded.len());
    for s in &out {
        canonical.push('/');
        canonical.push_str(s);
    }
    // `/a/` and `/a/.` and `/a/b/..` all name the directory `/a/`.
    if canonical.is_empty() || matches!(parts[last], "" | "." | "..") {
        canonical.push('/');
    }
    why.map(|w| (canonical, w))
}

/// `\` → `/`, `%2f`/`%5c` → `/`, `%2e` → `.`, other unreserved escapes
/// decoded; reserved and non-ASCII escapes kept as sent.
fn decode_liberally(path: &str, note: &mut impl FnMut(Ambiguity)) -> String {
    let b = path.as_bytes();
    let mut out = String::with_capacity(path.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' {
            note(Ambiguity::EncodedSeparator);
            out.push('/');
        } else if c == b'%'
            && let Some(v) = b.get(i + 1..i + 3).and_then(hex_pair)
        {
            let ch = v as char;
            if ch == '/' || ch == '\\' {
                note(Ambiguity::EncodedSeparator);
                out.push('/');
            } else if ch == '.' {
                out.push('.');
            } else if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' || ch == '~' {
                note(Ambiguity::EncodedPlainCharacter);
                out.push(ch);
            } else {
                out.push_str(&path[i..i + 3]);
            }
            i += 3;
            continue;
        } else {
            // Multi-byte UTF-8 is copied whole (char boundary).
            let len = path[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&path[i..i + len]);
            i += len;
            continue;
        }
        i += 1;
    }
    out
}

fn hex_pair(h: &[u8]) -> Option<u8> {
    let d = |c: u8| (c as char).to_digit(16);
    Some((d(h[0])? * 16 + d(h[1])?) as u8)
}

#[cfg(test)]
mod tests;
