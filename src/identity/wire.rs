//! The exact byte grammar of the identity headers, shared by signer and verifier.
//!
//! `tests/legacy-next/lib/identity.ts` implements the same rules; both refuse
//! anything the signer would not have produced, so the two verifiers accept
//! exactly the same inputs:
//! - a value is visible ASCII with `%` only as `%XX` (upper-case hex), and is the
//!   canonical encoding of its (UTF-8) decoding: no needless or lower-case escapes,
//!   no space, so no `", "` (how a repeated header arrives once joined);
//! - the signature is `t=<unix>,v2=<64 lower-case hex>`: no sign, no leading zero,
//!   at most 12 digits;
//! - the request target is signed as the WHATWG URL parser resolves its path
//!   and as `URLSearchParams` re-serializes its query (Next may hand a route
//!   handler `req.url` with the query re-encoded, e.g. `@` as `%40`), so both
//!   sides compare the same string whatever escaping reached them.
//!
//! Pure functions; uses `url`.

use std::borrow::Cow;

/// Percent-encodes every byte outside visible ASCII, and `%` (upper-case hex).
/// Borrowed when there is nothing to escape (the usual user id or email).
pub(super) fn encode(value: &str) -> Cow<'_, str> {
    let plain = |b: u8| (0x21..=0x7e).contains(&b) && b != b'%';
    if value.bytes().all(plain) {
        return Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for b in value.bytes() {
        if plain(b) {
            out.push(b as char);
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xf)] as char);
        }
    }
    Cow::Owned(out)
}

fn upper_hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The value `encode` would have turned into `value`, or `None` if `value` is not
/// exactly such an encoding.
pub(super) fn decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hi = upper_hex(*bytes.get(i + 1)?)?;
                let lo = upper_hex(*bytes.get(i + 2)?)?;
                out.push(hi << 4 | lo);
                i += 3;
            }
            b @ 0x21..=0x7e => {
                out.push(b);
                i += 1;
            }
            _ => return None,
        }
    }
    let decoded = String::from_utf8(out).ok()?;
    (encode(&decoded) == value).then_some(decoded)
}

/// `t=<unix>,v2=<hex>` → (t, signature bytes).
pub(super) fn parse_sig(value: &str) -> Option<(u64, Vec<u8>)> {
    let (t, v2) = value.split_once(',')?;
    let t = t.strip_prefix("t=")?;
    let canonical_t = !t.is_empty()
        && t.len() <= 12
        && t.bytes().all(|b| b.is_ascii_digit())
        && (t == "0" || !t.starts_with('0'));
    let sig = v2.strip_prefix("v2=")?;
    let canonical_sig =
        sig.len() == 64 && sig.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !(canonical_t && canonical_sig) {
        return None;
    }
    Some((t.parse().ok()?, hex::decode(sig).ok()?))
}

/// The path and query as signed: `new URL(target, origin).pathname` (dot
/// segments resolved, characters the URL standard escapes escaped) and the
/// query as `new URLSearchParams(search).toString()` writes it (pairs
/// decoded, then form-encoded; no `?` when it is empty). A target that is
/// not origin-form (`*`) is signed as it is.
pub fn canonical_target(target: &str) -> Cow<'_, str> {
    if !target.starts_with('/') || already_canonical(target) {
        return Cow::Borrowed(target);
    }
    url_round_trip(target).map_or(Cow::Borrowed(target), Cow::Owned)
}

/// `target` through the URL parser and `URLSearchParams`, as Next reads it.
fn url_round_trip(target: &str) -> Option<String> {
    let u = url::Url::parse(&format!("http://cutover.invalid{target}")).ok()?;
    let query = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(u.query_pairs())
        .finish();
    Some(if query.is_empty() {
        u.path().to_string()
    } else {
        format!("{}?{query}", u.path())
    })
}

/// True when [`canonical_target`]'s URL round trip would give `target` back,
/// checked without parsing: a path of characters the URL parser keeps as
/// they are and no `.`/`..` segment; a query (if any) of non-empty
/// `name=value` pairs of characters `URLSearchParams` writes as they are.
/// Typical API targets (`/api/x/123?page=2`) take this path.
fn already_canonical(target: &str) -> bool {
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (target, None),
    };
    let path_ok = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@/".contains(&b))
        && !path
            .split('/')
            .any(|segment| segment == "." || segment == "..");
    let query_ok = query.is_none_or(|q| {
        !q.is_empty()
            && q.split('&').all(|pair| {
                pair.split_once('=').is_some_and(|(name, value)| {
                    !name.is_empty()
                        && [name, value].iter().all(|part| {
                            part.bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b"*-._".contains(&b))
                        })
                })
            })
    });
    path_ok && query_ok
}

#[cfg(test)]
mod tests {
    use super::canonical_target;

    /// The URL round trip, as `canonical_target` does it without its shortcut.
    fn parsed(target: &str) -> String {
        super::url_round_trip(target).expect("a valid target")
    }

    #[test]
    fn the_shortcut_signs_what_the_url_round_trip_signs() {
        for target in [
            "/api/users/123",
            "/api/x?page=2&size=10",
            "/a/./b",
            "/a/../b",
            "/a/.",
            "/a/..",
            "/a?x",
            "/a?x=1=2",
            "/a?=1",
            "/a?x=1&&y=2",
            "/a?",
            "/a?x=%41",
            "/a?x=a+b",
            "/a b",
            "/a%2e/b",
            "/a/%2E%2E/b",
            "/a?x=@",
            "/é",
            "/a#frag",
            "/a\\b",
            "/api/v1/threads/9f1c-ab_c~d/messages?cursor=abc.def-1&limit=50",
            "/x;y=1,2/@me:1",
            "/a?x=1&y=",
            "/a?x=*._-",
        ] {
            assert_eq!(canonical_target(target), parsed(target), "{target}");
        }
    }
}
