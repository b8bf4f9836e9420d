//! Pure header values of the media route (contracts/whatsapp.md): the ETag,
//! the `If-None-Match` test, `Content-Type` and `Content-Disposition`. Both
//! backends must produce these byte for byte.

/// `Content-Type` when the row has no (usable) `mediaMimeType`.
pub const DEFAULT_CONTENT_TYPE: &str = "application/octet-stream";

/// `"<row id>-<file size in bytes>"`, quotes included.
pub fn etag(id: &str, size: u64) -> String {
    format!("\"{id}-{size}\"")
}

/// True when any `If-None-Match` line is `*` or lists `etag`. Comparison is
/// weak (RFC 9110 §13.1.2), so `W/"…"` matches too; unreadable lines match
/// nothing.
pub fn none_match(values: &[&[u8]], etag: &str) -> bool {
    values
        .iter()
        .flat_map(|v| v.split(|&b| b == b','))
        .map(<[u8]>::trim_ascii)
        .any(|tag| tag == b"*" || tag.strip_prefix(b"W/").unwrap_or(tag) == etag.as_bytes())
}

/// `mediaMimeType`, or the default when it is missing, empty or not a valid
/// header value.
pub fn content_type(mime: Option<&str>) -> &str {
    match mime {
        Some(m) if !m.is_empty() && http::HeaderValue::from_str(m).is_ok() => m,
        _ => DEFAULT_CONTENT_TYPE,
    }
}

/// `inline`, or `inline; filename="<ascii>"; filename*=UTF-8''<pct>` for a
/// non-empty document file name. `<ascii>` replaces every char (Unicode
/// scalar value) outside 0x20..=0x7E and every `"` and `\` by `_`; `<pct>`
/// percent-encodes (uppercase hex) every UTF-8 byte but RFC 8187 attr-chars.
pub fn content_disposition(file_name: Option<&str>) -> String {
    let Some(name) = file_name.filter(|n| !n.is_empty()) else {
        return "inline".to_owned();
    };
    let ascii: String = name
        .chars()
        .map(|c| match c {
            '"' | '\\' => '_',
            ' '..='~' => c,
            _ => '_',
        })
        .collect();
    let mut pct = String::with_capacity(name.len() * 3);
    for &b in name.as_bytes() {
        if is_attr_char(b) {
            pct.push(char::from(b));
        } else {
            pct.push_str(&format!("%{b:02X}"));
        }
    }
    format!("inline; filename=\"{ascii}\"; filename*=UTF-8''{pct}")
}

/// RFC 8187 attr-char: `A-Za-z0-9!#$&+-.^_`|~`.
fn is_attr_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b)
}
