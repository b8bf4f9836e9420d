//! The two backends as the proxy sees them: next (always an upstream) and
//! rust (embedded in this process, or an upstream).

pub mod embedded;

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
