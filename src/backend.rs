//! The two backends as the proxy sees them: next (always an upstream) and
//! rust (embedded in this process, or an upstream).

pub mod embedded;

/// Hop-by-hop and framing headers (RFC 9110 §7.6.1) that never cross from one
/// connection to another when cutover builds a request or replays a response.
pub const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// True for a hop-by-hop header or one in cutover's own `x-cutover-*`
/// namespace (identity is added by cutover, never copied).
pub fn is_hop_or_ours(name: &str) -> bool {
    HOP_BY_HOP.contains(&name) || is_ours(name)
}

/// True for a name in cutover's `x-cutover-*` namespace, in any case and with
/// `_` for any `-` (`x-cutover_user-id`): CGI-style backends (and some
/// frameworks) read `X_CUTOVER_USER_ID` as the real header.
pub fn is_ours(name: &str) -> bool {
    const PREFIX: &[u8] = b"x-cutover-";
    let name = name.as_bytes();
    name.len() >= PREFIX.len()
        && name.iter().zip(PREFIX).all(|(c, p)| {
            let c = c.to_ascii_lowercase();
            c == *p || (c == b'_' && *p == b'-')
        })
}

use std::time::Duration;

use pingora::upstreams::peer::HttpPeer;

use crate::config::Upstream;

/// A Pingora peer for `up`. `streaming` drops the read/write timeouts (SSE,
/// WebSocket, long downloads) and keeps only the connect timeout.
pub fn peer(up: &Upstream, streaming: bool) -> HttpPeer {
    let mut peer = HttpPeer::new(up.addr, up.tls, up.host.clone());
    let o = &mut peer.options;
    o.connection_timeout = Some(up.connect_timeout);
    o.total_connection_timeout = Some(up.connect_timeout + Duration::from_millis(500));
    if !streaming {
        o.read_timeout = Some(up.read_timeout);
        o.write_timeout = Some(up.write_timeout);
    }
    o.idle_timeout = Some(up.idle_timeout);
    peer
}

#[cfg(test)]
mod tests {
    use super::is_ours;

    #[test]
    fn underscore_and_case_variants_of_our_names_are_ours() {
        for name in [
            "x-cutover-user-id",
            "x-cutover_user-id",
            "x_cutover_user_id",
            "X_Cutover-Auth",
            "x_cutover-identity-sig",
        ] {
            assert!(is_ours(name), "{name}");
        }
        for name in ["x-cutover", "x-cutoverx-a", "x-forwarded-for", "cutover-x"] {
            assert!(!is_ours(name), "{name}");
        }
    }
}
