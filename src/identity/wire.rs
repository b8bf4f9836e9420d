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
//! - the request target is signed as the WHATWG URL parser serializes it
//!   (what Next's `req.url` holds), so both sides compare the same string.
//!
//! Pure functions; uses `url`.

/// Percent-encodes every byte outside visible ASCII, and `%` (upper-case hex).
pub(super) fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if (0x21..=0x7e).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
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

/// The path and query as signed: what `new URL(target, origin)` gives as
/// `pathname + search` (dot segments resolved, characters the URL standard
/// escapes escaped, an empty `?` dropped). A target that is not origin-form
/// (`*`) is signed as it is.
pub fn canonical_target(target: &str) -> String {
    if !target.starts_with('/') {
        return target.to_string();
    }
    match url::Url::parse(&format!("http://cutover.invalid{target}")) {
        Ok(u) => match u.query() {
            Some(q) if !q.is_empty() => format!("{}?{q}", u.path()),
            _ => u.path().to_string(),
        },
        Err(_) => target.to_string(),
    }
}
