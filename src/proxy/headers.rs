//! Header hygiene between client and backends: hop-by-hop removal, our own
//! `x-cutover-*` namespace cleared of client-sent copies, `X-Forwarded-*`
//! (a client's own believed only from `[server] trusted_proxies`), and the
//! client IP and scheme derived the same way.

use std::borrow::Cow;
use std::net::IpAddr;

use http::{HeaderName, HeaderValue};
use pingora::Result;
use pingora::http::{KnownHeaderName, RequestHeader};
use pingora::proxy::Session;

use crate::config::TrustedProxies;

/// Hop-by-hop headers (RFC 9110 §7.6.1) other than the upgrade pair, which
/// Pingora needs to pass a WebSocket through. Built once: removing by a
/// `HeaderName` hashes it directly instead of parsing a string per request.
static HOP_BY_HOP: [HeaderName; 4] = [
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
    http::header::TE,
    http::header::TRAILER,
];
// Looked up by their `HeaderName` (hashed as is, not parsed from a string)
// and inserted as `KnownHeaderName`s (vendored pingora-http patch 1: no
// parse, no allocation per insert).
static X_FORWARDED_FOR: KnownHeaderName = KnownHeaderName::from_static("x-forwarded-for");
static X_FORWARDED_PROTO: KnownHeaderName = KnownHeaderName::from_static("x-forwarded-proto");
static X_FORWARDED_HOST: KnownHeaderName = KnownHeaderName::from_static("x-forwarded-host");

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
        .get_all(X_FORWARDED_FOR.name())
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
        .get(X_FORWARDED_PROTO.name())
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
    for name in &named {
        req.remove_header(name.as_str());
    }
    for name in &HOP_BY_HOP {
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
        req.insert_header(&X_FORWARDED_FOR, xff)?;
    }
    req.insert_header(&X_FORWARDED_PROTO, HeaderValue::from_static(proto))?;
    match host {
        Some(host) => req.insert_header(&X_FORWARDED_HOST, host)?,
        None => {
            req.remove_header(X_FORWARDED_HOST.name());
        }
    }
    Ok(())
}

/// The same `X-Forwarded-*` on a shadow copy's `headers` (derived from the
/// client's request, as for the primary).
pub fn set_forwarded(session: &Session, headers: &mut http::HeaderMap, trusted: &TrustedProxies) {
    let (xff, proto, host) = forwarded(session, &session.req_header().headers, trusted);
    if let Some(v) = xff {
        headers.insert(X_FORWARDED_FOR.name(), v);
    }
    headers.insert(X_FORWARDED_PROTO.name(), HeaderValue::from_static(proto));
    match host {
        Some(host) => headers.insert(X_FORWARDED_HOST.name(), host),
        None => headers.remove(X_FORWARDED_HOST.name()),
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
) -> (Option<HeaderValue>, &'static str, Option<HeaderValue>) {
    let xff = peer_ip(session).and_then(|ip| {
        let prev = headers
            .get(X_FORWARDED_FOR.name())
            .map(HeaderValue::as_bytes);
        forwarded_for(prev, ip)
    });
    let host = headers
        .get(X_FORWARDED_HOST.name())
        .filter(|_| from_trusted(session, trusted))
        .or_else(|| headers.get(http::header::HOST))
        .cloned();
    (xff, scheme(session, trusted), host)
}

/// `<prev>, <ip>` (or `<ip>`), written without a formatter. `None` only if
/// the client's `prev` could not be a header value (it came as one).
fn forwarded_for(prev: Option<&[u8]>, ip: IpAddr) -> Option<HeaderValue> {
    let mut text = IpText::new();
    let ip = text.write(ip);
    let Some(prev) = prev else {
        return HeaderValue::from_bytes(ip).ok();
    };
    let mut v = Vec::with_capacity(prev.len() + 2 + ip.len());
    v.extend_from_slice(prev);
    v.extend_from_slice(b", ");
    v.extend_from_slice(ip);
    HeaderValue::from_maybe_shared(bytes::Bytes::from(v)).ok()
}

/// An IP address as text in a stack buffer (the longest IPv6 text is 45
/// bytes). IPv4, the usual peer, is written by hand; IPv6 by `Display`.
struct IpText {
    buf: [u8; 48],
}

impl IpText {
    fn new() -> IpText {
        IpText { buf: [0; 48] }
    }

    fn write(&mut self, ip: IpAddr) -> &[u8] {
        let mut n = 0;
        match ip {
            IpAddr::V4(v4) => {
                for (i, octet) in v4.octets().into_iter().enumerate() {
                    if i > 0 {
                        self.buf[n] = b'.';
                        n += 1;
                    }
                    if octet >= 100 {
                        self.buf[n] = b'0' + octet / 100;
                        n += 1;
                    }
                    if octet >= 10 {
                        self.buf[n] = b'0' + octet / 10 % 10;
                        n += 1;
                    }
                    self.buf[n] = b'0' + octet % 10;
                    n += 1;
                }
            }
            IpAddr::V6(v6) => {
                let mut cursor = std::io::Cursor::new(&mut self.buf[..]);
                // 48 bytes hold any IPv6 text; a failed write leaves it short.
                let _ = std::io::Write::write_fmt(&mut cursor, format_args!("{v6}"));
                n = cursor.position() as usize;
            }
        }
        &self.buf[..n]
    }
}

/// The path for logs: the query string's `token` (and similar) values removed,
/// names compared percent-decoded (`%74oken=` is `token=`).
pub fn loggable_path(head: &RequestHeader) -> Cow<'_, str> {
    let path = head.uri.path();
    let Some(q) = head.uri.query() else {
        return Cow::Borrowed(path);
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
    Cow::Owned(format!("{path}?{}", redacted.join("&")))
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::forwarded_for;

    fn xff(prev: Option<&str>, ip: &str) -> String {
        let ip: IpAddr = ip.parse().expect("an IP");
        let v = forwarded_for(prev.map(str::as_bytes), ip).expect("a header value");
        v.to_str().expect("ASCII").to_string()
    }

    #[test]
    fn forwarded_for_writes_the_peer_as_display_does() {
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "10.0.100.7",
            "9.99.199.255",
            "255.255.255.255",
            "::1",
            "2001:db8::8a2e:370:7334",
            "::ffff:192.0.2.1",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        ] {
            let parsed: IpAddr = ip.parse().unwrap();
            assert_eq!(xff(None, ip), parsed.to_string(), "{ip}");
        }
    }

    #[test]
    fn forwarded_for_appends_the_peer_to_the_clients_list() {
        assert_eq!(
            xff(Some("203.0.113.9, 198.51.100.1"), "10.1.2.3"),
            "203.0.113.9, 198.51.100.1, 10.1.2.3"
        );
    }
}
