//! The request target, checked before any route is matched: a path that
//! cutover and a backend could read as different routes
//! ([`crate::route::ambiguity`]) is refused with a JSON 400 (an
//! absolute-form target whose authority disagrees with `Host` never gets here:
//! Pingora refuses it with a 400 while reading the head); a target longer than [`MAX_TARGET_BYTES`] gets 414 and a
//! header block larger than [`MAX_HEADER_BYTES`] 431 (nginx's defaults are
//! 8 KiB per line and 32 KiB in all). The connection is closed after each.
//! Everything else passes untouched.

use bytes::Bytes;
use pingora::proxy::Session;

use super::respond;
use crate::config::Config;
use crate::route::ambiguity;

/// Longest request target (path and query) accepted.
pub const MAX_TARGET_BYTES: usize = 8 * 1024;
/// Largest header block (names, values and their separators) accepted.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// `Some(status)` when the request was refused (the response is written).
pub(super) async fn refuse_if_ambiguous(session: &mut Session, cfg: &Config) -> Option<u16> {
    let (status, reason, hint) = refusal(session.req_header(), cfg)?;
    let error = match status {
        414 => "uri_too_long",
        431 => "request_header_fields_too_large",
        _ => "bad_request",
    };
    let body = serde_json::json!({ "error": error, "reason": reason, "hint": hint });
    let extra = super::own_headers(&cfg.live);
    match respond::write_json(session, status, Bytes::from(body.to_string()), &extra).await {
        Ok(()) => Some(status),
        Err(_) => Some(0),
    }
}

fn refusal(
    head: &pingora::http::RequestHeader,
    cfg: &Config,
) -> Option<(u16, &'static str, &'static str)> {
    let raw = head.raw_path();
    if raw.len() > MAX_TARGET_BYTES {
        return Some((
            414,
            "target_too_long",
            "send a request target of at most 8 KiB",
        ));
    }
    if raw.iter().any(|&b| b < 0x20 || b == 0x7f) {
        return Some((
            400,
            "control_character",
            "percent-encode control characters",
        ));
    }
    let head_bytes: usize = head
        .headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len() + 4)
        .sum();
    if head_bytes > MAX_HEADER_BYTES {
        return Some((431, "headers_too_large", "send at most 32 KiB of headers"));
    }
    ambiguity::check(&cfg.routes, &head.method, head.uri.path())
        .err()
        .map(|a| (400, a.as_str(), a.hint()))
}
