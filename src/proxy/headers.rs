//! Header hygiene between client and backends: hop-by-hop removal, our own
//! `x-cutover-*` namespace cleared of client-sent copies, `X-Forwarded-*`.

use pingora::Result;
use pingora::http::RequestHeader;
use pingora::proxy::Session;

/// Hop-by-hop headers (RFC 9110 §7.6.1) other than the upgrade pair, which
/// Pingora needs to pass a WebSocket through.
const HOP_BY_HOP: [&str; 4] = ["keep-alive", "proxy-connection", "te", "trailer"];

/// The client's IP, if it came over TCP.
pub fn client_ip(session: &Session) -> Option<std::net::IpAddr> {
    session
        .client_addr()
        .and_then(|a| a.as_inet())
        .map(|a| a.ip())
}

/// Value of cookie `name` from the request's `Cookie` headers.
pub fn cookie<'h>(head: &'h RequestHeader, name: &str) -> Option<&'h str> {
    head.headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == name).then_some(v)
        })
}

/// Remove hop-by-hop headers (and any named in `Connection`, except
/// `upgrade`) and every client-sent `x-cutover-*` header.
pub fn clean_request(req: &mut RequestHeader) {
    let named: Vec<String> = req
        .headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty() && t != "upgrade" && t != "keep-alive" && t != "close")
        .collect();
    for name in named.iter().map(String::as_str).chain(HOP_BY_HOP) {
        req.remove_header(name);
    }
    let ours: Vec<http::HeaderName> = req
        .headers
        .keys()
        .filter(|k| k.as_str().starts_with("x-cutover-"))
        .cloned()
        .collect();
    for name in ours {
        req.remove_header(&name);
    }
}

/// `X-Forwarded-For` (appended), `-Proto` and `-Host` (set if absent).
pub fn add_forwarded(session: &Session, req: &mut RequestHeader) -> Result<()> {
    if let Some(ip) = client_ip(session) {
        let xff = match req
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
        {
            Some(prev) => format!("{prev}, {ip}"),
            None => ip.to_string(),
        };
        req.insert_header("x-forwarded-for", xff)?;
    }
    if !req.headers.contains_key("x-forwarded-proto") {
        req.insert_header("x-forwarded-proto", "http")?;
    }
    if !req.headers.contains_key("x-forwarded-host")
        && let Some(host) = req.headers.get(http::header::HOST).cloned()
    {
        req.insert_header("x-forwarded-host", host)?;
    }
    Ok(())
}

/// The path for logs: the query string's `token` (and similar) values removed.
pub fn loggable_path(head: &RequestHeader) -> String {
    let path = head.uri.path();
    let Some(q) = head.uri.query() else {
        return path.to_string();
    };
    let redacted: Vec<String> = q
        .split('&')
        .map(|pair| {
            let key = pair.split('=').next().unwrap_or("");
            let lower = key.to_ascii_lowercase();
            if [
                "token",
                "access_token",
                "auth",
                "key",
                "secret",
                "password",
                "code",
                "signature",
            ]
            .iter()
            .any(|s| lower == *s || lower.ends_with("_token"))
            {
                format!("{key}=REDACTED")
            } else {
                pair.to_string()
            }
        })
        .collect();
    format!("{path}?{}", redacted.join("&"))
}
