//! Assemble a Pingora server from a loaded config: proxy service, admin
//! service, reloader. Shared by `main` and the tests (which run it on a
//! thread with a channel as the shutdown signal).

pub mod drain;

use std::net::{SocketAddr, TcpListener};
use std::os::fd::{IntoRawFd, RawFd};
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use pingora::server::configuration::{Opt, ServerConf};
use pingora::server::{ListenFds, Server, ShutdownWatch};
use pingora::services::{ServiceReadyNotifier, ServiceWithDependents};

use crate::admin::Admin;
use crate::app::Embedded;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::proxy::Cutover;
use crate::proxy::caps::CapState;
use crate::reload::{Live, Reloader};
use drain::Drain;

/// What `build` returns besides the server: the addresses actually bound.
pub struct Built {
    pub server: Server,
    pub proxy_addr: SocketAddr,
    pub admin_addr: SocketAddr,
    pub live: Arc<Live>,
    pub metrics: Arc<Metrics>,
    /// Open proxy connections; `SIGTERM` waits for them (see [`drain`]).
    pub drain: Drain,
}

/// Build the server. `upgrade`: take the listening sockets from a running
/// cutover over `upgrade_sock` (Pingora's graceful upgrade).
pub fn build(
    config: Config,
    routes_path: &Path,
    rust: Embedded,
    upgrade: bool,
) -> std::io::Result<Built> {
    let p = config.process.clone();
    let conf = ServerConf {
        threads: p.threads,
        grace_period_seconds: Some(p.grace_period.as_secs()),
        graceful_shutdown_timeout_seconds: Some(p.graceful_shutdown_timeout.as_secs()),
        upgrade_sock: p.upgrade_sock.clone(),
        pid_file: p.pid_file.clone(),
        upstream_keepalive_pool_size: p.keepalive_pool,
        ..ServerConf::default()
    };
    let opt = Opt {
        upgrade,
        ..Opt::default()
    };
    let mut server = Server::new_with_opt_and_conf(opt, conf);
    server.bootstrap();

    let metrics = Arc::new(Metrics::new());
    let live = Arc::new(Live::new(config));
    let reloader = Reloader::new(routes_path, live.clone(), metrics.clone());

    let (proxy_bind, proxy_addr, proxy_fd) = prebind(&p.listen, upgrade)?;
    let (admin_bind, admin_addr, admin_fd) = prebind(&p.admin_listen, upgrade)?;

    let caps = Arc::new(CapState::new(crate::cap::Caps::new(
        live.load().config.caps.clone(),
    )));
    let shadow = Arc::new(crate::proxy::shadow::ShadowState::new(metrics.clone()));
    let trip_store = shared_trips(&live.load().config);
    let guard = Arc::new(
        crate::proxy::guard::GuardState::new(metrics.clone()).with_shared(trip_store.clone()),
    );
    let hook = guard.clone();
    let guard_for_poller = guard.clone();
    let (cap_hook, cap_metrics) = (caps.clone(), metrics.clone());
    let streams = Arc::new(crate::proxy::streams::StreamState::new(
        metrics.clone(),
        guard.clone(),
    ));
    let streams_hook = streams.clone();
    let jwks = Arc::new(crate::auth::jwks::JwksSources::default());
    let reloader = reloader
        .with_jwks(jwks.clone())
        .with_hook(Arc::new(move |snap| hook.on_snapshot(snap)))
        .with_hook(Arc::new(move |snap| {
            crate::proxy::caps::on_snapshot(&cap_hook, &cap_metrics, snap);
        }))
        .with_hook(Arc::new(move |snap| streams_hook.on_snapshot(snap)));
    let health = backend_health(&rust, &live.load().config);
    let cutover = Cutover {
        health: health.clone(),
        live: live.clone(),
        metrics: metrics.clone(),
        rust,
        caps: caps.clone(),
        shadow: shadow.clone(),
        guard: guard.clone(),
        streams,
    };
    let drain = Drain::new(p.grace_period);
    let mut proxy = pingora::services::listening::Service::new(
        "cutover proxy".to_string(),
        drain.count(pingora::proxy::http_proxy(&server.configuration, cutover)),
    );
    proxy.add_listener(client_listener(&proxy_bind));
    let mut admin = pingora::services::listening::Service::new(
        "cutover admin".to_string(),
        Admin {
            health: health.clone(),
            live: live.clone(),
            metrics: metrics.clone(),
            caps,
            cap_fallbacks_seen: Default::default(),
            diffs: shadow.diffs.clone(),
            guard,
        },
    );
    admin.add_tcp(&admin_bind);

    server.add_service(PreBound {
        inner: proxy,
        fds: proxy_fd.map(|fd| (proxy_bind, fd)).into_iter().collect(),
        drain: drain.clone(),
    });
    server.add_service(PreBound {
        inner: admin,
        fds: admin_fd.map(|fd| (admin_bind, fd)).into_iter().collect(),
        drain: drain.clone(),
    });
    server.add_service(pingora::services::background::background_service(
        "cutover reloader",
        reloader,
    ));
    if let Some(store) = trip_store {
        server.add_service(pingora::services::background::background_service(
            "cutover shared guard trips",
            crate::proxy::guard::shared::TripPoller {
                store,
                guard: guard_for_poller,
                live: live.clone(),
            },
        ));
    }
    server.add_service(pingora::services::background::background_service(
        "cutover health checks",
        crate::health::probe::UpstreamProbes {
            live: live.clone(),
            health,
            client: crate::health::probe::client(),
        },
    ));
    server.add_service(pingora::services::background::background_service(
        "cutover jwks",
        crate::reload::jwks::JwksRunner {
            sources: jwks,
            metrics: metrics.clone(),
            client: reqwest::Client::new(),
        },
    ));

    Ok(Built {
        server,
        proxy_addr,
        admin_addr,
        live,
        metrics,
        drain,
    })
}

/// The health of this deployment's backends: next always; rust embedded (with
/// its database and Soketi, as `app::build` set them up) or remote.
fn backend_health(rust: &Embedded, config: &Config) -> Arc<crate::health::Health> {
    use crate::config::RustBackend;
    use crate::health::Backend;
    let health = rust.health.clone();
    health.configure(Backend::Next, config.next.0.health.is_some());
    if let RustBackend::Remote(up) = &config.rust {
        for dependency in [Backend::Rust, Backend::Database, Backend::Soketi] {
            health.unconfigure(dependency);
        }
        health.configure(Backend::Rust, up.health.is_some());
    }
    health
}

/// Bind a listener here, before the server starts, and hand the socket to
/// Pingora through its fd table: a port in use is an error now (Pingora would
/// retry the bind every second, forever, after "listening" was printed), and
/// port 0 ("any free port") reports the port it got. On a graceful upgrade
/// the sockets come from the old process instead, so nothing is bound.
fn prebind(addr: &str, upgrade: bool) -> std::io::Result<(String, SocketAddr, Option<RawFd>)> {
    let want: SocketAddr = addr.parse().map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("bad address {addr}"),
        )
    })?;
    if upgrade {
        return Ok((addr.to_string(), want, None));
    }
    let l = listen(want).map_err(|e| std::io::Error::new(e.kind(), format!("{addr}: {e}")))?;
    let got = l.local_addr()?;
    // Pingora looks the socket up by the address it was configured with.
    let key = if want.port() == 0 {
        got.to_string()
    } else {
        addr.to_string()
    };
    Ok((key, got, Some(l.into_raw_fd())))
}

/// A listening socket as Pingora makes one: `SO_REUSEADDR`, backlog 65535.
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.bind(&addr.into())?;
    socket.listen(65535)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// A service whose listening sockets were bound before the server started,
/// and which also stops on cutover's own `SIGTERM` handling.
struct PreBound<S> {
    inner: S,
    fds: Vec<(String, RawFd)>,
    drain: Drain,
}

#[async_trait]
impl<S: ServiceWithDependents> ServiceWithDependents for PreBound<S> {
    async fn start_service(
        &mut self,
        fds: Option<ListenFds>,
        shutdown: ShutdownWatch,
        listeners_per_fd: usize,
        ready: ServiceReadyNotifier,
    ) {
        if let Some(table) = &fds {
            let mut t = table.lock();
            for (bind, fd) in self.fds.drain(..) {
                t.add(bind, fd);
            }
        }
        let shutdown = self.drain.merge(shutdown);
        self.inner
            .start_service(fds, shutdown, listeners_per_fd, ready)
            .await
    }

    fn name(&self) -> &str {
        self.inner.name()
    }

    fn threads(&self) -> Option<usize> {
        self.inner.threads()
    }
}

/// The Redis store guard trips are shared through: the one `[caps] store`
/// names, if it is Redis. The replica is named by `[server] instance`, else
/// by its host name and pid.
fn shared_trips(
    cfg: &crate::config::Config,
) -> Option<Arc<crate::proxy::guard::shared::TripStore>> {
    let crate::cap::CapStore::Redis(redis) = &cfg.caps.store else {
        return None;
    };
    let instance = cfg.live.instance.clone().unwrap_or_else(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
        format!("{}:{}", host.trim(), std::process::id())
    });
    crate::proxy::guard::shared::TripStore::new(&redis.url, instance)
}

/// The client listener. No L4 read buffer: Pingora's default puts a 64 KiB
/// buffer in front of every accepted connection, held (and, being zeroed,
/// resident) for the connection's life, so an idle keep-alive connection or
/// an open SSE stream cost ~64 KiB of RSS for it alone. It pays off for TLS
/// (small 16 KiB record reads); cutover terminates no TLS, and its HTTP/1
/// reader reads the head into its own 4 KiB buffer and bodies into theirs,
/// so reads go straight to the socket: no more syscalls, one copy fewer.
/// The write buffer keeps Pingora's default (one MSS).
fn client_listener(bind: &str) -> pingora::listeners::ListenerConfig {
    use pingora::protocols::l4::stream::{DEFAULT_L4_WRITE_BUFFER_SIZE, L4BufferSettings};
    pingora::listeners::ListenerConfig::tcp(bind)
        .l4_buffer(L4BufferSettings::new(0, DEFAULT_L4_WRITE_BUFFER_SIZE))
}
