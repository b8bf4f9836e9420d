//! [`Caps`]: all per-route cap state, keyed by route id so it survives config
//! reloads (the policy is passed in on every call).
//!
//! Order of checks (fairness: a client's own limit comes before the shared
//! ones): per-client → per-channel → [collapse/cache, done by the caller with
//! [`Collapser`](super::Collapser)] → breaker → inflight.
//! May use: every sibling module, `rand`, `sha2`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::bounded::BoundedMap;
use super::breaker::{Breaker, BreakerState};
use super::channel::ChannelLog;
use super::gcra::{self, GcraDecision};
use super::inflight::{Inflight, Timer, TokioTimer};
use super::key::ClientKey;
use super::permit::Permit;
use super::policy::{CapPolicy, CapStore, CapsConfig, ClientRate, Rate};
use super::redis_store::RedisStore;
use super::{CapReason, Rejection, jittered};

/// All cap state of the process. `Send + Sync`; share it in an `Arc`.
pub struct Caps {
    max_keys: usize,
    routes: RwLock<HashMap<String, Arc<RouteState>>>,
    redis: Option<RedisStore>,
    timer: Arc<dyn Timer>,
    /// SplitMix64 state for Retry-After jitter (not security relevant, and
    /// far cheaper per rejection than a cryptographic generator).
    jitter: AtomicU64,
}

pub(super) struct RouteState {
    pub(super) clients: BoundedMap<std::time::Instant>,
    pub(super) channels: BoundedMap<ChannelLog>,
    pub(super) breaker: Mutex<Breaker>,
    pub(super) inflight: Inflight,
    pub(super) inflight_now: AtomicUsize,
}

/// One route's gauges (`cutover_inflight`, `cutover_breaker_state`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteGauge {
    pub route: String,
    pub inflight: usize,
    pub breaker: BreakerState,
}

/// Store health for metrics (`cutover_cap_store_fallbacks_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreStats {
    /// Checks answered by local buckets because Redis was not usable.
    pub fallbacks_total: u64,
    /// Redis configured and currently connected.
    pub redis_up: bool,
}

impl Caps {
    /// Does no I/O (Redis connects lazily in the background on first use, or
    /// eagerly with [`Caps::connect_store`]).
    pub fn new(config: CapsConfig) -> Self {
        Self::with_timer(config, Arc::new(TokioTimer))
    }

    /// Same, with the timer the inflight queue waits on (tests pass a fake).
    pub fn with_timer(config: CapsConfig, timer: Arc<dyn Timer>) -> Self {
        let redis = match config.store {
            CapStore::Memory => None,
            CapStore::Redis(redis) => Some(RedisStore::new(redis)),
        };
        Caps {
            max_keys: config.max_tracked_keys.get(),
            routes: RwLock::new(HashMap::new()),
            redis,
            timer,
            jitter: AtomicU64::new(rand::random()),
        }
    }

    /// Connects to Redis now, waiting at most about a second. True when the
    /// buckets are shared; false with the memory store or when Redis is down
    /// (checks then use local buckets and Redis is retried later).
    pub async fn connect_store(&self) -> bool {
        match &self.redis {
            Some(redis) => redis.connect().await,
            None => false,
        }
    }

    /// Per-client, per-channel, then breaker and inflight checks in one call
    /// (for routes that do not collapse). The permit must be finished with the
    /// backend's outcome (or dropped if the request was abandoned).
    pub async fn admit(
        &self,
        route: &str,
        policy: &CapPolicy,
        client: &ClientKey,
        channel: Option<&str>,
        now: Instant,
    ) -> Result<Permit, Rejection> {
        self.admit_client(route, policy, client, channel, now)
            .await?;
        self.admit_backend(route, policy, now).await
    }

    /// The client's own limits: per-client bucket (shared via Redis when
    /// configured), then the `(client, channel)` window when `channel` is given.
    pub async fn admit_client(
        &self,
        route: &str,
        policy: &CapPolicy,
        client: &ClientKey,
        channel: Option<&str>,
        now: Instant,
    ) -> Result<(), Rejection> {
        let state = self.route(route);
        let key = client.storage_key();
        if let Some(limit) = &policy.per_client
            && let Err(wait) = self.check_client(route, &state, limit, &key, now).await
        {
            return Err(self.reject(CapReason::ClientRate, wait, policy));
        }
        if let (Some(limit), Some(channel)) = (&policy.per_channel, channel)
            && let Err(wait) = self
                .check_channel(route, &state, limit, &key, channel, now)
                .await
        {
            return Err(self.reject(CapReason::ChannelRate, wait, policy));
        }
        Ok(())
    }

    /// Backend protection: breaker, then an inflight slot (waiting at most the
    /// queue timeout).
    pub async fn admit_backend(
        &self,
        route: &str,
        policy: &CapPolicy,
        now: Instant,
    ) -> Result<Permit, Rejection> {
        let state = self.route(route);
        let ticket = match &policy.breaker {
            Some(breaker) => match lock(&state.breaker).admit(breaker, now) {
                Ok(ticket) => Some((ticket, *breaker)),
                Err(wait) => return Err(self.reject(CapReason::Breaker, wait, policy)),
            },
            None => None,
        };
        let slot = match policy.max_inflight {
            Some(max) => {
                let acquired = state
                    .inflight
                    .acquire(max, policy.queue_timeout, self.timer.as_ref())
                    .await;
                match acquired {
                    Ok(slot) => Some(slot),
                    Err(_timeout) => {
                        if let Some((ticket, _)) = ticket {
                            lock(&state.breaker).abandon(ticket);
                        }
                        let wait = Duration::ZERO;
                        return Err(self.reject(CapReason::Inflight, wait, policy));
                    }
                }
            }
            None => None,
        };
        Ok(Permit::new(state, slot, ticket))
    }

    /// Inflight and breaker state of every route seen so far, sorted by id.
    pub fn gauges(&self, now: Instant) -> Vec<RouteGauge> {
        let routes = self.routes.read().unwrap_or_else(|p| p.into_inner());
        let mut gauges: Vec<RouteGauge> = routes
            .iter()
            .map(|(route, state)| RouteGauge {
                route: route.clone(),
                inflight: state.inflight_now.load(Ordering::Relaxed),
                breaker: lock(&state.breaker).state(now),
            })
            .collect();
        gauges.sort_by(|a, b| a.route.cmp(&b.route));
        gauges
    }

    /// Redis fallback counter and health.
    pub fn store_stats(&self) -> StoreStats {
        match &self.redis {
            Some(redis) => StoreStats {
                fallbacks_total: redis.fallbacks(),
                redis_up: redis.is_up(),
            },
            None => StoreStats::default(),
        }
    }

    /// Forgets the state of routes no longer configured (call after a
    /// reload); returns the ids it forgot. Permits in flight keep their
    /// route's state alive until they finish.
    pub fn retain_routes(&self, keep: impl Fn(&str) -> bool) -> Vec<String> {
        let mut routes = self.routes.write().unwrap_or_else(|p| p.into_inner());
        let gone: Vec<String> = routes.keys().filter(|r| !keep(r)).cloned().collect();
        for route in &gone {
            routes.remove(route);
        }
        gone
    }

    /// Tracked per-client buckets of a route (tests and debugging).
    pub fn tracked_clients(&self, route: &str) -> usize {
        let routes = self.routes.read().unwrap_or_else(|p| p.into_inner());
        routes.get(route).map_or(0, |state| state.clients.len())
    }

    async fn check_client(
        &self,
        route: &str,
        state: &RouteState,
        limit: &ClientRate,
        key: &str,
        now: Instant,
    ) -> Result<(), Duration> {
        if let Some(redis) = &self.redis
            && let Some(verdict) = redis.check(&format!("{route}:{key}"), limit, now).await
        {
            return verdict;
        }
        let hashed = state.clients.key_of(&key);
        state.clients.update(
            hashed,
            now,
            |tat, now| gcra::is_idle(*tat, now),
            |slot| match gcra::check(*slot, limit, now) {
                GcraDecision::Allow { tat } => {
                    *slot = Some(tat);
                    Ok(())
                }
                GcraDecision::Deny { wait } => Err(wait),
            },
        )
    }

    /// The `(client, channel)` window: shared through Redis when configured
    /// (keyed by a digest, as channel names come from clients), else local.
    async fn check_channel(
        &self,
        route: &str,
        state: &RouteState,
        limit: &Rate,
        key: &str,
        channel: &str,
        now: Instant,
    ) -> Result<(), Duration> {
        if let Some(redis) = &self.redis {
            let digest = Sha256::new()
                .chain_update(key.as_bytes())
                .chain_update([0])
                .chain_update(channel.as_bytes())
                .finalize();
            let shared_key = format!("{route}:ch:{}", hex::encode(&digest[..16]));
            if let Some(verdict) = redis.check_window(&shared_key, limit, now).await {
                return verdict;
            }
        }
        let hashed = state.channels.key_of(&(key, channel));
        let per = limit.per;
        state.channels.update(
            hashed,
            now,
            |log, now| log.is_idle(per, now),
            |slot| {
                slot.get_or_insert_with(ChannelLog::default)
                    .check(limit, now)
            },
        )
    }

    fn reject(&self, reason: CapReason, wait: Duration, policy: &CapPolicy) -> Rejection {
        let base = policy.retry_after.max(wait);
        Rejection {
            reason,
            retry_after: jittered(base, wait, self.unit_random()),
        }
    }

    /// A uniform value in [0, 1) (SplitMix64).
    fn unit_random(&self) -> f64 {
        let mut z = self
            .jitter
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    fn route(&self, route: &str) -> Arc<RouteState> {
        if let Some(state) = self
            .routes
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(route)
        {
            return state.clone();
        }
        let mut routes = self.routes.write().unwrap_or_else(|p| p.into_inner());
        routes
            .entry(route.to_string())
            .or_insert_with(|| {
                Arc::new(RouteState {
                    clients: BoundedMap::new(self.max_keys),
                    channels: BoundedMap::new(self.max_keys),
                    breaker: Mutex::new(Breaker::default()),
                    inflight: Inflight::default(),
                    inflight_now: AtomicUsize::new(0),
                })
            })
            .clone()
    }
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Guarded values are replaced whole; a poisoned lock is still consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
