//! Guard trips shared by every replica, through Redis, when `[caps] store`
//! is a Redis URL: a replica whose judge trips a route writes the trip (its
//! flag file's fingerprint, the reason, which replica) into one hash,
//! `cutover:guard:trips`; every replica reads the hash every
//! [`POLL`] and latches each trip whose fingerprint is its own flag file's.
//! So a trip moves the route back to next everywhere within a second,
//! survives a replica restart (read at start), and ends, as locally, when
//! the flag file changes (a different fingerprint no longer matches; the
//! stale entry is overwritten by the next trip). Redis down: each replica
//! keeps judging alone (its own trips hold locally: fails safe to next),
//! logged once per transition and counted in `cutover_guard_sync_errors_total`.
//! The fallback budget is shared the same way: each replica writes its
//! windowed requests and fallbacks per route, and spends against the sum.
//! May use `redis`, `tokio`, `judge`, `config`, `reload`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::AsyncCommands;
use redis::aio::MultiplexedConnection;
use serde::{Deserialize, Serialize};

use super::GuardState;
use crate::judge::TripReason;
use crate::metrics::Metrics;
use crate::reload::Live;

/// The Redis hash holding one trip per route.
pub const KEY: &str = "cutover:guard:trips";
/// How often every replica reads the shared trips.
pub const POLL: Duration = Duration::from_millis(250);
const TIMEOUT: Duration = Duration::from_millis(500);

/// One route's trip as stored in Redis.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct SharedTrip {
    /// Hex SHA-256 of the flag file the trip holds under.
    pub fingerprint: String,
    pub reason: String,
    pub instance: String,
}

/// The connection to the shared store, shared by the publisher and the poller.
pub struct TripStore {
    client: redis::Client,
    conn: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    up: AtomicBool,
    /// This replica's name in trips it writes.
    pub instance: String,
}

impl TripStore {
    pub fn new(url: &str, instance: String) -> Option<Arc<TripStore>> {
        let client = redis::Client::open(url).ok()?;
        Some(Arc::new(TripStore {
            client,
            conn: tokio::sync::Mutex::new(None),
            up: AtomicBool::new(true),
            instance,
        }))
    }

    async fn conn(&self) -> redis::RedisResult<MultiplexedConnection> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let c = tokio::time::timeout(TIMEOUT, self.client.get_multiplexed_async_connection())
            .await
            .map_err(|_| redis::RedisError::from((redis::ErrorKind::Io, "connect timed out")))??;
        *slot = Some(c.clone());
        Ok(c)
    }

    /// Notes the outcome of a Redis call: logs and counts transitions, drops
    /// a broken connection so the next call reconnects.
    async fn outcome<T>(&self, r: redis::RedisResult<T>, metrics: &Metrics) -> Option<T> {
        match r {
            Ok(v) => {
                if !self.up.swap(true, Ordering::Relaxed) {
                    tracing::info!("guard trips shared again through redis");
                }
                Some(v)
            }
            Err(e) => {
                metrics.guard_sync_errors.inc();
                *self.conn.lock().await = None;
                if self.up.swap(false, Ordering::Relaxed) {
                    tracing::warn!(
                        error = %e,
                        "redis unreachable: each replica judges its routes alone until it is back"
                    );
                }
                None
            }
        }
    }

    /// Writes a trip for every replica to see.
    pub async fn publish(&self, metrics: &Metrics, route: &str, trip: &SharedTrip) {
        let value = serde_json::to_string(trip).unwrap_or_default();
        self.call(metrics, |mut c| async move {
            c.hset::<_, _, _, ()>(KEY, route, value).await
        })
        .await;
    }

    /// One bounded Redis call (connect + `f` within [`TIMEOUT`]), its outcome
    /// noted by [`TripStore::outcome`].
    async fn call<T, F, Fut>(&self, metrics: &Metrics, f: F) -> Option<T>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: std::future::Future<Output = redis::RedisResult<T>>,
    {
        let r = async {
            let c = self.conn().await?;
            tokio::time::timeout(TIMEOUT, f(c))
                .await
                .map_err(|_| redis::RedisError::from((redis::ErrorKind::Io, "timed out")))?
        }
        .await;
        self.outcome(r, metrics).await
    }

    async fn fetch(&self, metrics: &Metrics) -> Option<Vec<(String, SharedTrip)>> {
        let entries = self
            .call(metrics, |mut c| async move {
                c.hgetall::<_, Vec<(String, String)>>(KEY).await
            })
            .await?;
        Some(
            entries
                .into_iter()
                .filter_map(|(route, v)| Some((route, serde_json::from_str(&v).ok()?)))
                .collect(),
        )
    }
}

/// Prefix of the per-route hash where each replica writes its windowed
/// `requests fallbacks unix_ms` for the fallback budget.
pub const BUDGET_KEY: &str = "cutover:fallback:";
/// A replica's budget entry older than this no longer counts (it stopped).
const FRESH_MS: u128 = 2_000;

impl TripStore {
    /// Shares this replica's fallback budget use and folds in the others':
    /// each replica writes its own windowed totals (idempotent, so a lost
    /// write heals on the next tick) and sums the fresh entries of the
    /// others. Redis down: every replica spends its own budget alone.
    pub async fn sync_budgets(&self, guard: &GuardState, cfg: &crate::config::Config) {
        let routes: Vec<(String, Duration)> = cfg
            .route_shadow
            .iter()
            .filter_map(|(id, r)| r.fallback.map(|b| (id.as_str().to_string(), b.window)))
            .collect();
        if routes.is_empty() {
            return;
        }
        let now = std::time::Instant::now();
        let unix_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        let mut pipe = redis::pipe();
        for (route, window) in &routes {
            let (requests, fallbacks) = guard.budget.usage(route, now).unwrap_or((0, 0));
            let key = format!("{BUDGET_KEY}{route}");
            let ttl = i64::try_from(window.as_millis() * 2).unwrap_or(i64::MAX);
            pipe.hset(
                &key,
                &self.instance,
                format!("{requests} {fallbacks} {unix_ms}"),
            )
            .ignore()
            .pexpire(&key, ttl)
            .ignore()
            .hgetall(&key);
        }
        let all = self
            .call(&guard.metrics, |mut c| async move {
                pipe.query_async::<Vec<Vec<(String, String)>>>(&mut c).await
            })
            .await;
        let Some(all) = all else {
            guard.budget.set_others(Default::default());
            return;
        };
        let mut others = std::collections::HashMap::new();
        for ((route, _), entries) in routes.iter().zip(all) {
            let mut sum = (0u64, 0u64);
            for (instance, value) in entries {
                let mut parts = value.split(' ').map(|p| p.parse::<u128>().ok());
                let (Some(Some(req)), Some(Some(fb)), Some(Some(at))) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    continue;
                };
                if instance != self.instance && unix_ms.saturating_sub(at) <= FRESH_MS {
                    sum.0 += req as u64;
                    sum.1 += fb as u64;
                }
            }
            others.insert(route.clone(), sum);
        }
        guard.budget.set_others(others);
    }
}

/// The background poller: latches every shared trip that holds here.
pub struct TripPoller {
    pub store: Arc<TripStore>,
    pub guard: Arc<GuardState>,
    pub live: Arc<Live>,
}

#[async_trait::async_trait]
impl pingora::services::background::BackgroundService for TripPoller {
    async fn start(&self, mut shutdown: pingora::server::ShutdownWatch) {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.changed() => return,
                _ = tick.tick() => {}
            }
            let snap = self.live.load();
            // Our own trips too: a restarted replica picks its old ones up.
            for (route, trip) in self
                .store
                .fetch(&self.guard.metrics)
                .await
                .unwrap_or_default()
            {
                self.guard.apply_shared(&snap.config, &route, &trip);
            }
            // Also when Redis is down: then each replica's budget is its own.
            self.store.sync_budgets(&self.guard, &snap.config).await;
        }
    }
}

impl SharedTrip {
    pub fn reason(&self) -> TripReason {
        TripReason::Replica {
            instance: self.instance.clone(),
            reason: self.reason.clone(),
        }
    }
}
