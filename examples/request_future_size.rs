//! Bytes of the future Pingora allocates for every request on a keep-alive
//! connection: `HttpServerApp::process_new_http` is an `#[async_trait]`
//! method, so each request boxes a fresh future. Unpatched, that future was
//! the whole per-request state machine (13 KiB), built on the stack and
//! `memcpy`'d into its box (vendored pingora-proxy patch 6 writes it in
//! place), and a keep-alive connection held it while waiting for its next
//! request. Since patch 7 it only reads the request head; the state machine
//! is boxed once a head arrives. So the number printed is what an idle
//! keep-alive connection holds for it. Measured on the filter-less proxy of
//! `pingora_floor`.
//!
//! Run: `cargo run --release --example request_future_size` (sizes differ
//! between debug and release builds; compare release with release).

use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use pingora::apps::HttpServerApp;
use pingora::prelude::*;
use pingora::protocols::http::ServerSession;
use pingora::server::configuration::ServerConf;

struct Floor {
    upstream: SocketAddr,
}

#[async_trait]
impl ProxyHttp for Floor {
    type CTX = ();

    fn new_ctx(&self) {}

    async fn upstream_peer(&self, _session: &mut Session, _ctx: &mut ()) -> Result<Box<HttpPeer>> {
        Ok(Box::new(HttpPeer::new(self.upstream, false, String::new())))
    }
}

fn main() {
    let conf = Arc::new(ServerConf::default());
    let floor = Floor {
        upstream: ([127, 0, 0, 1], 1).into(),
    };
    let proxy = Arc::new(pingora::proxy::http_proxy(&conf, floor));
    let (stream, _peer) = tokio::io::duplex(64);
    let session = ServerSession::new_http1(Box::new(stream));
    let (_tx, shutdown) = tokio::sync::watch::channel(false);
    // Built, never polled: only its size is read.
    let future = proxy.process_new_http(session, &shutdown);
    println!(
        "process_new_http future: {} bytes per request",
        std::mem::size_of_val(&*future)
    );
    println!(
        "moved into it: ServerSession {} bytes, proxy Session {} bytes",
        std::mem::size_of::<ServerSession>(),
        std::mem::size_of::<Session>()
    );
}
