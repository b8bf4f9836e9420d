//! Validated, serde-free cap settings: the per-route [`CapPolicy`] and the
//! process-wide [`CapsConfig`].
//!
//! Built only by `config::cap` (`TryFrom` of the raw TOML types) or by tests.
//! Owns no state; every type here is a plain value that may be cloned into a
//! config snapshot. May use: std only.

use std::num::{NonZeroU32, NonZeroUsize};
use std::time::Duration;

/// `count` events per `per` (e.g. `20/10s`). Both are non-zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: NonZeroU32,
    pub per: Duration,
}

impl Rate {
    /// Builds a rate; `None` when `per` is zero.
    pub fn new(count: NonZeroU32, per: Duration) -> Option<Self> {
        (!per.is_zero()).then_some(Rate { count, per })
    }

    /// Time between two events at the steady rate (GCRA's emission interval).
    pub fn emission_interval(&self) -> Duration {
        self.per / self.count.get()
    }
}

/// Per-client token bucket: steady `rate`, up to `burst` requests at once.
/// Over any interval `t` a client is admitted at most `burst + rate × t` times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientRate {
    pub rate: Rate,
    pub burst: NonZeroU32,
}

/// Circuit breaker over the backend's error/timeout ratio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerPolicy {
    /// Open when `errors / requests >= error_ratio` (in `(0, 1]`).
    pub error_ratio: f64,
    /// ... and at least this many outcomes were seen in the window.
    pub min_requests: NonZeroU32,
    /// Sliding window the ratio is computed over.
    pub window: Duration,
    /// How long the breaker stays open before half-open probing.
    pub cooldown: Duration,
    /// Probes admitted while half-open; all must succeed to close again.
    pub probes: NonZeroU32,
}

/// One route's caps. `CapPolicy::default()` caps nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct CapPolicy {
    pub per_client: Option<ClientRate>,
    /// At most `count` requests per `(client, channel)` in any window `per`.
    pub per_channel: Option<Rate>,
    /// Collapse identical concurrent requests into one backend call.
    pub collapse: bool,
    /// Positive cache of successful collapsed answers; zero = off.
    pub cache_ttl: Duration,
    /// Backend concurrency for this route; `None` = unlimited.
    pub max_inflight: Option<NonZeroUsize>,
    /// How long a request may queue for an inflight slot.
    pub queue_timeout: Duration,
    pub breaker: Option<BreakerPolicy>,
    /// Base `Retry-After` (jittered ±20 %, never below the exact wait).
    pub retry_after: Duration,
}

impl Default for CapPolicy {
    fn default() -> Self {
        CapPolicy {
            per_client: None,
            per_channel: None,
            collapse: false,
            cache_ttl: Duration::ZERO,
            max_inflight: None,
            queue_timeout: Duration::from_millis(50),
            breaker: None,
            retry_after: Duration::from_secs(1),
        }
    }
}

/// Where per-client buckets live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CapStore {
    /// Buckets in this process only.
    Memory,
    /// Buckets shared by every replica through Redis (URL without secrets in Debug).
    Redis(RedisStoreConfig),
}

/// Redis store settings.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisStoreConfig {
    /// `redis://` or `rediss://` URL (may contain a password: never logged).
    pub url: String,
    /// A check slower than this falls back to the local buckets.
    pub timeout: Duration,
    /// After a failure, Redis is retried only after this back-off.
    pub retry_after: Duration,
    /// Prepended to every key, e.g. `cutover:cap:`.
    pub key_prefix: String,
}

impl std::fmt::Debug for RedisStoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStoreConfig")
            .field("url", &redact_url(&self.url))
            .field("timeout", &self.timeout)
            .field("retry_after", &self.retry_after)
            .field("key_prefix", &self.key_prefix)
            .finish()
    }
}

/// `redis://user:secret@host/0` → `redis://***@host/0`.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***{}", &url[..scheme_end], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// Process-wide cap settings (`[caps]` in routes.toml).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapsConfig {
    pub store: CapStore,
    /// Bound on tracked keys per route and per cap kind (local buckets).
    pub max_tracked_keys: NonZeroUsize,
}

impl Default for CapsConfig {
    fn default() -> Self {
        CapsConfig {
            store: CapStore::Memory,
            max_tracked_keys: NonZeroUsize::new(100_000).unwrap_or(NonZeroUsize::MIN),
        }
    }
}
