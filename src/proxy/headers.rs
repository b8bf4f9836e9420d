//! Header hygiene between client and backends: hop-by-hop removal, our own
//! `x-cutover-*` namespace cleared of client-sent copies, `X-Forwarded-*`
//! (a client's own believed only from `[server] trusted_proxies`), and the
//! client IP and scheme derived the same way.

use std::net::IpAddr;

use pingora::Result;
use pingora::http::RequestHeader;
use pingora::proxy::Session;

use crate::config::TrustedProxies;

/// Hop-by-hop headers (RFC 9110 §7.6.1) other than the upgrade pair, which
/// Pingora needs to pass a WebSocket through.
const HOP_BY_HOP: [&str; 4] = ["keep-alive", "proxy-connection", "te", "trailer"];

/// The TCP peer's IP, if it came over TCP.
fn peer_ip(session: &Session) -> Option<IpAddr> {
    session
        .client_addr()
        .and_then(|a| a.as_inet())
        .map(|a| a.ip())
}

/// The client's IP: the TCP peer, or — when the peer is a trusted proxy —
/// the client it names in `X-Forwarded-For` (caps and sticky keys use it).
pub fn client_ip(session: &Session, trusted: &TrustedProxies) -> Option<IpAddr> {
    let peer = peer_ip(session)?;
    let xff = session
        .req_header()
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok());
    Some(trusted.client_ip(peer, xff))
}

/// The peer is a proxy whose `X-Forwarded-*` headers are believed.
fn from_trusted(session: &Session, trusted: &TrustedProxies) -> bool {
    !trusted.is_empty() && peer_ip(session).is_some_and(|ip| trusted.contains(ip))
}

/// The scheme the client used: `X-Forwarded-Proto` (`http`/`https`) from a
/// trusted proxy, else this connection's own (TLS or not).
pub fn scheme(session: &Session, trusted: &TrustedProxies) -> &'static str {
    let claimed = session
        .req_header()
        .headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(str::trim);
    match claimed {
        Some(p) if from_trusted(session, trusted) && p.eq_ignore_ascii_case("https") => "https",
        Some(p) if from_trusted(session, trusted) && p.eq_ignore_ascii_case("http") => "http",
        _ if session.digest().is_some_and(|d| d.ssl_digest.is_some()) => "https",
        _ => "http",
    }
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
/// `upgrade`) and every client-sent `x-cutover-*` header, underscore
/// variants (`x-cutover_user-id`) included.
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
        .filter(|k| crate::backend::is_ours(k.as_str()))
        .cloned()
        .collect();
    for name in ours {
        req.remove_header(&name);
    }
}

/// `X-Forwarded-For` (appended to), `-Proto` and `-Host` (always set by
/// cutover: a client's own copies are believed only from a trusted proxy).
pub fn add_forwarded(
    session: &Session,
    req: &mut RequestHeader,
    trusted: &TrustedProxies,
) -> Result<()> {
    let (xff, proto, host) = forwarded(session, &req.headers, trusted);
    if let Some(xff) = xff {
        req.insert_header("x-forwarded-for", xff)?;
    }
    req.insert_header("x-forwarded-proto", proto)?;
    match host {
        Some(host) => req.insert_header("x-forwarded-host", host)?,
        None => {
            req.remove_header("x-forwarded-host");
        }
    }
    Ok(())
}

/// The same `X-Forwarded-*` on a shadow copy's `headers` (derived from the
/// client's request, as for the primary).
pub fn set_forwarded(session: &Session, headers: &mut http::HeaderMap, trusted: &TrustedProxies) {
    let (xff, proto, host) = forwarded(session, &session.req_header().headers, trusted);
    if let Some(v) = xff.and_then(|x| http::HeaderValue::from_str(&x).ok()) {
        headers.insert("x-forwarded-for", v);
    }
    headers.insert("x-forwarded-proto", http::HeaderValue::from_static(proto));
    match host {
        Some(host) => headers.insert("x-forwarded-host", host),
        None => headers.remove("x-forwarded-host"),
    };
}

/// `(X-Forwarded-For, -Proto, -Host)` for a request with the client's
/// `headers`: the peer appended to the client's `X-Forwarded-For`; the
/// client's `-Proto`/`-Host` only from a trusted proxy, else cutover's own
/// scheme and the `Host` header.
fn forwarded(
    session: &Session,
    headers: &http::HeaderMap,
    trusted: &TrustedProxies,
) -> (Option<String>, &'static str, Option<http::HeaderValue>) {
    let xff = peer_ip(session).map(|ip| {
        match headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
            Some(prev) => format!("{prev}, {ip}"),
            None => ip.to_string(),
        }
    });
    let host = headers
        .get("x-forwarded-host")
        .filter(|_| from_trusted(session, trusted))
        .or_else(|| headers.get(http::header::HOST))
        .cloned();
    (xff, scheme(session, trusted), host)
}

/// The path for logs: the query string's `token` (and similar) values removed,
/// names compared percent-decoded (`%74oken=` is `token=`).
pub fn loggable_path(head: &RequestHeader) -> String {
    let path = head.uri.path();
    let Some(q) = head.uri.query() else {
        return path.to_string();
    };
    let redacted: Vec<String> = q
        .split('&')
        .map(|pair| {
            let key = pair.split('=').next().unwrap_or("");
            let lower = crate::auth::query::param_name(key).to_ascii_lowercase();
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
