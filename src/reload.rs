//! The live config: a snapshot swapped whole, and the poller that reloads it.
//!
//! Every ≤ 250 ms (and at once on SIGHUP) the reloader hashes `routes.toml`,
//! `flags/*.toml` and every file `[auth]` names (secrets, PEM keys, JWKS files);
//! when the content changed it parses and validates all of it and swaps the
//! snapshot with `arc-swap` (the authenticator, its keys and its token cache are
//! part of the snapshot, so a rotated secret takes effect on the next request).
//! A bad `routes.toml` (or secret) keeps the whole last good snapshot. Flag
//! files are applied per file: a bad one keeps *its* route's last good flag
//! while every other file applies, so a typo in route A's file never blocks a
//! flip or rollback of route B. Either way the log says `file:line: fix`, one
//! failure is counted per bad content, and the bad flag files are listed in
//! [`FlagReport`] (`/-/config`, `/-/ready`, `cutover_flag_file_valid`).
//! Requests hold the `Arc` they started with, so in-flight work (and open
//! WebSockets/SSE) finish on the snapshot and backend they began with.

mod flag_report;
pub mod jwks;

use flag_report::unix_now;
pub use flag_report::{BadFlagFile, FlagReport};

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;

use crate::config::{Config, ConfigError, ConfigFiles, FlagProblem};
use crate::metrics::Metrics;

/// One loaded config and its generation (1 = as started).
#[derive(Debug)]
pub struct Snapshot {
    pub generation: u64,
    pub config: Config,
}

/// The current snapshot, shared by every request, and the flag files that
/// are not applied (kept beside it: a rejected edit is not a new generation).
pub struct Live {
    current: ArcSwap<Snapshot>,
    flag_report: ArcSwap<FlagReport>,
    /// The last whole-config rejection, for the status page; kept after a
    /// later good edit (its generation tells).
    last_rejected: Mutex<Option<RejectedEdit>>,
}

impl Live {
    pub fn new(config: Config) -> Live {
        let report = FlagReport::default().next(&config.flag_problems, unix_now());
        Live {
            current: ArcSwap::from_pointee(Snapshot {
                generation: 1,
                config,
            }),
            flag_report: ArcSwap::from_pointee(report),
            last_rejected: Mutex::new(None),
        }
    }

    /// The last rejected `routes.toml` (or secret) edit.
    pub fn last_rejected(&self) -> Option<RejectedEdit> {
        self.last_rejected
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// The flag files not applied right now.
    pub fn flag_report(&self) -> Arc<FlagReport> {
        self.flag_report.load_full()
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

/// A rejected whole-config edit: when (Unix seconds), the generation that
/// stayed in force, and `file:line: fix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedEdit {
    pub at: u64,
    pub generation: u64,
    pub error: String,
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
    /// Hash of the files last validated (good or bad), so each content is
    /// validated, logged and counted once.
    seen: Mutex<[u8; 32]>,
    /// Called with every snapshot installed (and the first one).
    hooks: Vec<SnapshotHook>,
    /// Long-lived JWKS refreshers, handed to each new authenticator before its swap.
    jwks: Option<Arc<crate::auth::jwks::JwksSources>>,
}

/// Work to do on each new snapshot (e.g. export per-route gauges).
pub type SnapshotHook = Arc<dyn Fn(&Snapshot) + Send + Sync>;

impl Reloader {
    pub fn new(routes_path: &Path, live: Arc<Live>, metrics: Arc<Metrics>) -> Reloader {
        let seen = live.load().config.content_hash;
        let r = Reloader {
            routes_path: routes_path.to_path_buf(),
            live,
            metrics,
            seen: Mutex::new(seen),
            hooks: Vec::new(),
            jwks: None,
        };
        for bad in &r.live.flag_report().bad {
            log_bad_flag(&bad.problem, &r.live.load().config);
        }
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
            Err(e) => {
                // Unreadable routes.toml or flags dir: counted and logged once per error.
                use sha2::Digest;
                let hash: [u8; 32] = sha2::Sha256::digest(e.to_string().as_bytes()).into();
                if self.seen.lock().is_ok_and(|s| *s == hash) {
                    return Outcome::Unchanged;
                }
                return self.reject(hash, e);
            }
        };
        let current = self.live.load();
        if self.seen.lock().is_ok_and(|s| *s == files.hash) {
            return Outcome::Unchanged;
        }
        for path in changed_secret_files(&current.config.secret_files, &files.secret_files) {
            // The path only: never the value (nor its hash).
            tracing::info!(file = %path.display(), "secret file changed; validating");
        }
        let cfg = match Config::from_files(&files, Some(&current.config)) {
            Err(e) => return self.reject(files.hash, e),
            Ok(cfg) => cfg,
        };
        if let Ok(mut s) = self.seen.lock() {
            *s = files.hash;
        }
        let rejected = self.report_flags(&cfg);
        if cfg.applied_hash == current.config.applied_hash {
            // Only rejected (or reverted-to-the-same) flag edits: nothing to swap.
            self.publish_flag_files(&current.config);
            return match rejected {
                Some(e) => Outcome::Rejected(e),
                None => Outcome::Unchanged,
            };
        }
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
        self.metrics.reloads.with_label_values(&["success"]).inc();
        self.publish(&snap);
        tracing::info!(generation = snap.generation, "config reloaded");
        Outcome::Applied {
            generation: snap.generation,
        }
    }

    /// Record the flag files `cfg` could not apply; log and count the new
    /// ones (once per bad content), and log the ones fixed since.
    fn report_flags(&self, cfg: &Config) -> Option<ConfigError> {
        let old = self.live.flag_report();
        let new = old.next(&cfg.flag_problems, unix_now());
        let mut first_new = None;
        for bad in &new.bad {
            if !old.bad.iter().any(|b| b.problem == bad.problem) {
                log_bad_flag(&bad.problem, cfg);
                first_new.get_or_insert_with(|| bad.problem.error.clone());
            }
        }
        for gone in &old.bad {
            if !new
                .bad
                .iter()
                .any(|b| b.problem.error.file == gone.problem.error.file)
            {
                tracing::info!(file = %gone.problem.error.file.display(), route = %gone.problem.route, "flag file valid again (or removed)");
            }
        }
        if first_new.is_some() {
            self.metrics.reloads.with_label_values(&["failure"]).inc();
        }
        self.live.flag_report.store(Arc::new(new));
        first_new
    }

    fn reject(&self, hash: [u8; 32], e: ConfigError) -> Outcome {
        if let Ok(mut s) = self.seen.lock() {
            *s = hash;
        }
        self.metrics.reloads.with_label_values(&["failure"]).inc();
        *self
            .live
            .last_rejected
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(RejectedEdit {
            at: unix_now(),
            generation: self.live.load().generation,
            error: e.to_string(),
        });
        tracing::error!(error = %e, "config rejected; keeping the last good config");
        Outcome::Rejected(e)
    }

    /// `cutover_flag_file_valid{route}`: 1 for every route whose flag file (if
    /// any) is in force, 0 for a bad file (a leftover file: its name).
    fn publish_flag_files(&self, cfg: &Config) {
        let report = self.live.flag_report();
        let m = &self.metrics.flag_file_valid;
        m.reset();
        for route in cfg.routes.iter() {
            m.with_label_values(&[route.id.as_str()]).set(1);
        }
        for bad in &report.bad {
            m.with_label_values(&[bad.problem.route.as_str()]).set(0);
        }
    }

    /// Export the snapshot's gauges.
    fn publish(&self, snap: &Snapshot) {
        for hook in &self.hooks {
            hook(snap);
        }
        self.publish_flag_files(&snap.config);
        let m = &self.metrics;
        m.generation.set(snap.generation as i64);
        let fp = snap.config.flags_fingerprint();
        // 48 bits: exact in a float sample, plenty to tell replicas apart.
        let fp48 = fp[..6]
            .iter()
            .fold(0i64, |acc, b| (acc << 8) | i64::from(*b));
        m.flags_fingerprint.set(fp48);
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

/// One log line per bad flag file: where, the fix, and what the route keeps.
fn log_bad_flag(p: &FlagProblem, cfg: &Config) {
    if p.orphan {
        tracing::warn!(
            error = %p.error,
            "flag file ignored: it names no route of routes.toml (a removed route's leftover?): delete it or add the route; every other flag still applies"
        );
        return;
    }
    let keeps = crate::route::RouteId::parse(&p.route)
        .ok()
        .and_then(|id| cfg.flag(&id).map(|f| f.describe()))
        .unwrap_or_else(|| "next (no good flag yet)".to_string());
    tracing::error!(
        route = %p.route,
        error = %p.error,
        keeps = %keeps,
        "flag file rejected; this route keeps its last good flag, every other flag still applies"
    );
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
