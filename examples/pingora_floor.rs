//! The framework's floor: a Pingora `ProxyHttp` with no filters, built from
//! the same (vendored, patched) Pingora as cutover and with the same server
//! settings (one thread, default keep-alive pool). Every request goes to one
//! upstream over a reused connection. `bench/run.sh` measures it beside
//! cutover: what cutover costs above this line is cutover's own work.
//!
//! Run: `cargo run --release --example pingora_floor -- LISTEN UPSTREAM`
//! (e.g. `127.0.0.1:8081 127.0.0.1:8080`). Prints `floor listening=LISTEN`
//! once bound; SIGTERM/SIGINT stop it.

use std::net::SocketAddr;

use async_trait::async_trait;
use pingora::modules::http::HttpModules;
use pingora::prelude::*;
use pingora::server::configuration::ServerConf;

// The same allocator as cutover when it is built with the `mimalloc`
// feature, on by default (cutover sets it in its library; this example does
// not link it).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Floor {
    upstream: SocketAddr,
}

#[async_trait]
impl ProxyHttp for Floor {
    type CTX = ();

    fn new_ctx(&self) {}

    /// No modules: Pingora's default registers a disabled compression module
    /// that still runs per request; cutover registers none, so neither does
    /// the floor (the two stay comparable).
    fn init_downstream_modules(&self, _modules: &mut HttpModules) {}

    async fn upstream_peer(&self, _session: &mut Session, _ctx: &mut ()) -> Result<Box<HttpPeer>> {
        Ok(Box::new(HttpPeer::new(self.upstream, false, String::new())))
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(upstream)) = (args.next(), args.next()) else {
        eprintln!(
            "usage: pingora_floor LISTEN_ADDR UPSTREAM_ADDR (e.g. 127.0.0.1:8081 127.0.0.1:8080)"
        );
        std::process::exit(64);
    };
    let upstream: SocketAddr = match upstream.parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: UPSTREAM_ADDR {upstream:?}: {e}; give ip:port");
            std::process::exit(64);
        }
    };
    let conf = ServerConf {
        threads: 1,
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    let mut proxy = http_proxy_service(&server.configuration, Floor { upstream });
    proxy.add_tcp(&listen);
    server.add_service(proxy);
    println!("floor listening={listen}");
    server.run_forever();
}
