//! The live config: a snapshot swapped whole, and the poller that reloads it.
//!
//! Every ≤ 250 ms (and at once on SIGHUP) the reloader hashes `routes.toml`,
//! `flags/*.toml` and every file `[auth]` names (secrets, PEM keys, JWKS files);
//! when the content changed it parses and validates all of it and swaps the
//! snapshot with `arc-swap` (the authenticator, its keys and its token cache are
//! part of the snapshot, so a rotated secret takes effect on the next request). A bad edit keeps the last good
//! snapshot, logs `file:line: fix` and counts one failure per bad content.
//! Requests hold the `Arc` they started with, so in-flight work (and open
//! WebSockets/SSE) finish on the snapshot and backend they began with.

pub mod jwks;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;

use crate::config::{Config, ConfigError, ConfigFiles};
use crate::metrics::Metrics;

/// One loaded config and its generation (1 = as started).
#[derive(Debug)]
pub struct Snapshot {
    pub generation: u64,
    pub config: Config,
}

/// The current snapshot, shared by every request.
pub struct Live {
    current: ArcSwap<Snapshot>,
}

impl Live {
    pub fn new(config: Config) -> Live {
        Live {
            current: ArcSwap::from_pointee(Snapshot {
                generation: 1,
                config,
            }),
        }
    }

    /// The snapshot for one request (load once, use throughout).
    pub fn load(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Install a new config as the next generation.
    pub fn swap(&self, config: Config) -> Arc<Snapshot> {
        let generation = self.current.load().generation + 1;
        let snap = Arc::new(Snapshot { generation, config });
        self.current.store(snap.clone());
        snap
    }
}

/// What one reload check did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Unchanged,
    Applied { generation: u64 },
    Rejected(ConfigError),
}

/// Watches the config files and swaps the snapshot.
pub struct Reloader {
    routes_path: PathBuf,
    live: Arc<Live>,
    metrics: Arc<Metrics>,
    /// Hash of the last content that failed, so a bad file counts once.
    last_bad: Mutex<Option<[u8; 32]>>,
    /// Called with every snapshot installed (and the first one).
    hooks: Vec<SnapshotHook>,
    /// Long-lived JWKS refreshers, handed to each new authenticator before its swap.
    jwks: Option<Arc<crate::auth::jwks::JwksSources>>,
}

/// Work to do on each new snapshot (e.g. export per-route gauges).
pub type SnapshotHook = Arc<dyn Fn(&Snapshot) + Send + Sync>;

impl Reloader {
    pub fn new(routes_path: &Path, live: Arc<Live>, metrics: Arc<Metrics>) -> Reloader {
        let r = Reloader {
            routes_path: routes_path.to_path_buf(),
            live,
            metrics,
            last_bad: Mutex::new(None),
            hooks: Vec::new(),
            jwks: None,
        };
        r.publish(&r.live.load());
        r
    }

    /// Adds a hook, run now on the current snapshot and on every reload.
    pub fn with_hook(mut self, hook: SnapshotHook) -> Reloader {
        hook(&self.live.load());
        self.hooks.push(hook);
        self
    }

    /// Shares `sources`' JWKS refreshers with every config it installs.
    pub fn with_jwks(mut self, sources: Arc<crate::auth::jwks::JwksSources>) -> Reloader {
        sources.adopt(&self.live.load().config.authenticator);
        self.jwks = Some(sources);
        self
    }

    /// Check the files once; reload if their content changed.
    pub fn check(&self) -> Outcome {
        let files = match ConfigFiles::read(&self.routes_path) {
            Ok(f) => f,
            Err(e) => return self.reject(None, e),
        };
        let current = self.live.load();
        if files.hash == current.config.content_hash {
            return Outcome::Unchanged;
        }
        if self.last_bad.lock().is_ok_and(|b| *b == Some(files.hash)) {
            return Outcome::Unchanged;
        }
        for path in changed_secret_files(&current.config.secret_files, &files.secret_files) {
            // The path only: never the value (nor its hash).
            tracing::info!(file = %path.display(), "secret file changed; validating");
        }
        match Config::from_files(&files) {
            Err(e) => self.reject(Some(files.hash), e),
            Ok(cfg) => {
                if cfg.process != current.config.process {
                    tracing::warn!(
                        "server settings changed (listen, admin_listen, threads, grace periods, \
                         keepalive_pool, upgrade_sock, pid_file): these need a restart or a \
                         graceful upgrade; the running values stay in force"
                    );
                }
                log_changes(&current.config, &cfg);
                if let Some(sources) = &self.jwks {
                    sources.adopt(&cfg.authenticator);
                }
                let snap = self.live.swap(cfg);
                if let Ok(mut b) = self.last_bad.lock() {
                    *b = None;
                }
                self.metrics.reloads.with_label_values(&["success"]).inc();
                self.publish(&snap);
                tracing::info!(generation = snap.generation, "config reloaded");
                Outcome::Applied {
                    generation: snap.generation,
                }
            }
        }
    }

    fn reject(&self, hash: Option<[u8; 32]>, e: ConfigError) -> Outcome {
        if let Ok(mut b) = self.last_bad.lock() {
            if hash.is_some() && *b == hash {
                return Outcome::Unchanged;
            }
            *b = hash;
        }
        self.metrics.reloads.with_label_values(&["failure"]).inc();
        tracing::error!(error = %e, "config rejected; keeping the last good config");
        Outcome::Rejected(e)
    }

    /// Export the snapshot's gauges.
    fn publish(&self, snap: &Snapshot) {
        for hook in &self.hooks {
            hook(snap);
        }
        let m = &self.metrics;
        m.generation.set(snap.generation as i64);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        m.last_success.set(now);
        m.route_backend.reset();
        m.canary_percent.reset();
        for route in snap.config.routes.iter() {
            let id = route.id.as_str();
            let pct = snap.config.flag(&route.id).map_or(0, |f| f.rust_percent());
            m.route_backend
                .with_label_values(&[id, "next"])
                .set(i64::from(pct < 100));
            m.route_backend
                .with_label_values(&[id, "rust"])
                .set(i64::from(pct > 0));
            m.canary_percent
                .with_label_values(&[id])
                .set(f64::from(pct));
            // Known series start at 0, so dashboards see them before the first event.
            if route.cap.is_some() {
                for reason in ["client_rate", "channel_rate", "inflight", "breaker"] {
                    m.cap_rejections.with_label_values(&[id, reason]);
                }
                m.cap_collapsed.with_label_values(&[id]);
                m.cap_cache_hits.with_label_values(&[id]);
                m.inflight.with_label_values(&[id]);
                m.breaker_state.with_label_values(&[id]);
            }
        }
        if matches!(snap.config.caps.store, crate::cap::CapStore::Redis(_)) {
            m.cap_store_fallbacks.with_label_values(&["redis"]);
        }
    }
}

/// Files `[auth]` names whose content differs (or that appeared or vanished).
fn changed_secret_files<'a>(
    old: &[(PathBuf, Option<[u8; 32]>)],
    new: &'a [(PathBuf, Option<[u8; 32]>)],
) -> impl Iterator<Item = &'a PathBuf> {
    new.iter()
        .filter(|(path, hash)| !old.iter().any(|(p, h)| p == path && h == hash))
        .map(|(path, _)| path)
}

fn log_changes(old: &Config, new: &Config) {
    for route in new.routes.iter() {
        let now = new
            .flag(&route.id)
            .map_or_else(|| "next (no flag)".to_string(), |f| f.describe());
        match old.routes.get(&route.id) {
            None => tracing::info!(route = %route.id, flag = %now, "route added"),
            Some(_) => {
                let before = old
                    .flag(&route.id)
                    .map_or_else(|| "next (no flag)".to_string(), |f| f.describe());
                if before != now {
                    tracing::info!(route = %route.id, from = %before, to = %now, "flag changed");
                }
            }
        }
    }
    for route in old.routes.iter() {
        if new.routes.get(&route.id).is_none() {
            tracing::info!(route = %route.id, "route removed: its traffic goes to next");
        }
    }
}

#[async_trait]
impl BackgroundService for Reloader {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let mut hup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGHUP; polling only");
                None
            }
        };
        tracing::info!(path = %self.routes_path.display(), "watching config (SIGHUP reloads at once)");
        loop {
            let interval = self.live.load().config.live.reload_interval;
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                Some(()) = async { match hup.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => {
                    tracing::info!("SIGHUP: reloading now");
                }
                _ = shutdown.changed() => return,
            }
            self.check();
        }
    }
}
