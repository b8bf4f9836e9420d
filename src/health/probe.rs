//! Active checks, in the background: next's (or a remote rust's)
//! `health_path` as configured in routes.toml, and the embedded handlers'
//! dependencies: `SELECT 1` on their pool and a GET of Soketi's base URL.
//! Each writes its outcome into [`Health`]; none is on the request path.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;

use super::{Backend, Health, passive};
use crate::config::{HealthCheck, RustBackend, Upstream};
use crate::proxy::unix_now;
use crate::reload::Live;

/// How often the embedded handlers' database and Soketi are checked.
pub const DEPENDENCY_INTERVAL: Duration = Duration::from_secs(5);
/// How long one dependency check may take.
pub const DEPENDENCY_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the config is looked at for a `health_path` when none is set.
const IDLE_TICK: Duration = Duration::from_secs(1);

/// Checks `health_path` of next and of a remote rust, as the live config says
/// (a reload that adds, changes or removes it takes effect on the next tick).
pub struct UpstreamProbes {
    pub live: Arc<Live>,
    pub health: Arc<Health>,
    pub client: reqwest::Client,
}

impl UpstreamProbes {
    /// Probe what is due; returns how long to sleep.
    async fn tick(&self, last: &mut [Option<Instant>; 2]) -> Duration {
        let snap = self.live.load();
        let cfg = &snap.config;
        let remote_rust = match &cfg.rust {
            RustBackend::Remote(up) => Some(up),
            RustBackend::Embedded => None,
        };
        let targets = [
            (Backend::Next, Some(&cfg.next.0)),
            (Backend::Rust, remote_rust),
        ];
        let mut sleep = IDLE_TICK;
        for ((backend, up), last) in targets.into_iter().zip(last.iter_mut()) {
            let check = up.and_then(|u| u.health.as_ref().map(|h| (u, h)));
            self.health.set_probed(backend, check.is_some());
            let Some((up, check)) = check else {
                *last = None;
                continue;
            };
            let now = Instant::now();
            let due = last.is_none_or(|t| now.duration_since(t) >= check.interval);
            if due {
                *last = Some(now);
                let outcome = http_check(&self.client, up, check).await;
                self.health.probed(backend, outcome, unix_now());
            }
            let next_due = last.map_or(check.interval, |t| {
                check.interval.saturating_sub(t.elapsed())
            });
            sleep = sleep.min(next_due.max(Duration::from_millis(10)));
        }
        sleep
    }
}

#[async_trait]
impl BackgroundService for UpstreamProbes {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let mut last = [None, None];
        loop {
            let sleep = self.tick(&mut last).await;
            tokio::select! {
                _ = tokio::time::sleep(sleep) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}

/// GET `health_path`: any 2xx or 3xx is up.
async fn http_check(
    client: &reqwest::Client,
    up: &Upstream,
    check: &HealthCheck,
) -> Result<(), String> {
    let url = format!("{}{}", up.url.trim_end_matches('/'), check.path);
    let sent = client.get(&url).timeout(check.timeout).send().await;
    match sent {
        Ok(r) if r.status().is_success() || r.status().is_redirection() => Ok(()),
        Ok(r) => Err(format!("{} answered {}", check.path, r.status().as_u16())),
        Err(e) => Err(format!(
            "{}: {}",
            check.path,
            request_cause(&e, check.timeout)
        )),
    }
}

fn request_cause(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        format!("no answer within {} ms", timeout.as_millis())
    } else if e.is_connect() {
        "cannot connect (connection refused or host unreachable)".to_string()
    } else {
        "request failed".to_string()
    }
}

/// `SELECT 1` on the handlers' pool every [`DEPENDENCY_INTERVAL`], forever.
pub async fn database(pool: sqlx::PgPool, health: Arc<Health>) {
    let mut tick = tokio::time::interval(DEPENDENCY_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let ran =
            tokio::time::timeout(DEPENDENCY_TIMEOUT, sqlx::query("SELECT 1").execute(&pool)).await;
        let outcome = match ran {
            Ok(Ok(_)) => Ok(()),
            // The pool retries a refused connect until its acquire timeout and
            // then says only "timed out": one direct connect names the cause.
            Ok(Err(_)) | Err(_) => Err(format!("database unreachable: {}", diagnose(&pool).await)),
        };
        health.probed(Backend::Database, outcome, unix_now());
    }
}

/// Why the database cannot be used: one connect outside the pool, its error
/// reduced to a short cause (never the URL or its credentials).
async fn diagnose(pool: &sqlx::PgPool) -> String {
    use sqlx::{ConnectOptions, Connection};
    let opts = pool.connect_options();
    let at = format!("{}:{}", opts.get_host(), opts.get_port());
    match tokio::time::timeout(DEPENDENCY_TIMEOUT, opts.connect()).await {
        Err(_) => format!("connect to {at} timed out"),
        Ok(Err(e)) => passive::database_cause(&e).map_or_else(
            || format!("connect to {at} failed"),
            |c| format!("{c} ({at})"),
        ),
        Ok(Ok(conn)) => {
            let _ = conn.close().await;
            "connects, but SELECT 1 on the pool failed or timed out".to_string()
        }
    }
}

/// A client for checks: no pooled connections, so a backend that stopped
/// listening shows as down at once rather than through a kept-alive socket.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap_or_default()
}

/// GET Soketi's base URL (it answers `OK`) every [`DEPENDENCY_INTERVAL`], forever.
pub async fn soketi(base_url: String, health: Arc<Health>) {
    let client = client();
    let mut tick = tokio::time::interval(DEPENDENCY_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let sent = client
            .get(&base_url)
            .timeout(DEPENDENCY_TIMEOUT)
            .send()
            .await;
        let outcome = match sent {
            Ok(r) if !r.status().is_server_error() => Ok(()),
            Ok(r) => Err(format!("soketi answered {}", r.status().as_u16())),
            Err(e) => Err(format!(
                "soketi unreachable: {}",
                request_cause(&e, DEPENDENCY_TIMEOUT)
            )),
        };
        health.probed(Backend::Soketi, outcome, unix_now());
    }
}
