//! The `[caps]` table and the per-route `cap = { … }` table of routes.toml:
//! serde mirrors (`RawCaps`, `RawCap`, `RawBreaker`) and their `TryFrom`
//! conversions into `cap::CapsConfig` / `cap::CapPolicy`, with errors that
//! name the key and the fix. Also the strict duration and rate parsers.
//! May use: serde, `cap` policy types, `redis` (URL parsing only, no I/O).
//!
//! Example to paste into routes.toml (every key optional; defaults shown):
//!
//! ```toml
//! [caps]
//! store = "memory"            # "memory" | "redis://host:6379/0" | "rediss://…"; default "memory"
//! redis_timeout_ms = 5        # (redis store only) 1..=1000; a Redis check slower than this uses local buckets
//! redis_retry_ms = 1000       # (redis store only) 10..=600000; back-off before Redis is tried again after a failure
//! key_prefix = "cutover:cap:" # (redis store only) prefix of every Redis key (no spaces)
//! max_tracked_keys = 100000   # 16..=10000000; per route and cap kind, idle keys evicted first
//!
//! [[route]]
//! id = "realtime-auth"
//! # …
//! # Same as cap = { per_client = "20/10s", burst = 10, … } on the route.
//! [route.cap]
//! per_client = "20/10s"  # "<count>/<duration>", units ms|s|m|h ("5/s" = "5/1s"); default off
//! burst = 10             # 1..=100000 requests at once; default = the rate's count; needs per_client
//! per_channel = "5/10s"  # count 1..=1000 per (client, channel_name) in any such window; default off
//! collapse = true        # identical concurrent requests share one backend call; default false
//! cache_ttl_ms = 2000    # 0..=60000, serve repeats of a successful answer; default 0 (off); needs collapse
//! max_inflight = 64      # 1..=100000 concurrent backend calls for this route; default unlimited
//! queue_timeout_ms = 50  # 0..=10000, wait for a backend slot before 503; default 50
//! retry_after = "1s"     # base Retry-After, jittered ±20 %, never below the exact wait; 1ms..=1h; default "1s"
//!
//! [route.cap.breaker]    # the whole table is optional; default: no breaker
//! error_ratio = 0.5      # (0, 1]: open when errors+timeouts / requests reach this; default 0.5
//! min_requests = 20      # 1..=1000000 outcomes in the window before it may open; default 20
//! window = "10s"         # sliding window of outcomes, 1ms..=24h; default "10s"
//! cooldown = "5s"        # open time before half-open probes, 1ms..=24h; default "5s"
//! probes = 1             # 1..=100 probes that must all succeed to close; default 1
//! ```

use std::num::NonZeroUsize;
use std::time::Duration;

use serde::Deserialize;

use crate::cap::{CapStore, CapsConfig, RedisStoreConfig};

mod parse;
mod route;
#[cfg(test)]
mod tests;

pub use parse::{parse_duration, parse_rate};

/// Errors of the `[caps]` and `cap = { … }` tables; each names the key and the fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CapConfigError {
    #[error(
        "{key} = {value:?} is not a rate ({why}); write \"<count>/<duration>\" like \"20/10s\" (units ms, s, m, h)"
    )]
    BadRate {
        key: &'static str,
        value: String,
        why: &'static str,
    },
    #[error(
        "{key} = {value:?} is not a duration ({why}); write a whole number and a unit: \"500ms\", \"10s\", \"5m\", \"1h\""
    )]
    BadDuration {
        key: &'static str,
        value: String,
        why: &'static str,
    },
    #[error("{key} = {value} is out of range {range}; {fix}")]
    OutOfRange {
        key: &'static str,
        value: String,
        range: &'static str,
        fix: &'static str,
    },
    #[error("{key} is set but {needs}; {fix}")]
    Requires {
        key: &'static str,
        needs: &'static str,
        fix: &'static str,
    },
    #[error(
        "caps.store = {value:?} is not \"memory\" or a redis URL ({why}); write store = \"memory\" or store = \"redis://127.0.0.1:6379/0\""
    )]
    BadStore { value: String, why: String },
}

/// `[caps]` as written.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCaps {
    pub store: Option<String>,
    pub redis_timeout_ms: Option<u64>,
    pub redis_retry_ms: Option<u64>,
    pub key_prefix: Option<String>,
    pub max_tracked_keys: Option<usize>,
}

impl std::fmt::Debug for RawCaps {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawCaps")
            .field("store", &self.store.as_deref().map(crate::cap::redact_url))
            .field("redis_timeout_ms", &self.redis_timeout_ms)
            .field("redis_retry_ms", &self.redis_retry_ms)
            .field("key_prefix", &self.key_prefix)
            .field("max_tracked_keys", &self.max_tracked_keys)
            .finish()
    }
}

/// A route's `cap = { … }` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCap {
    pub per_client: Option<String>,
    pub burst: Option<u32>,
    pub per_channel: Option<String>,
    pub collapse: Option<bool>,
    pub cache_ttl_ms: Option<u64>,
    pub max_inflight: Option<usize>,
    pub queue_timeout_ms: Option<u64>,
    pub breaker: Option<RawBreaker>,
    pub retry_after: Option<String>,
}

/// `cap.breaker = { … }` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBreaker {
    pub error_ratio: Option<f64>,
    pub min_requests: Option<u32>,
    pub window: Option<String>,
    pub cooldown: Option<String>,
    pub probes: Option<u32>,
}

impl TryFrom<RawCaps> for CapsConfig {
    type Error = CapConfigError;

    fn try_from(raw: RawCaps) -> Result<Self, Self::Error> {
        let RawCaps {
            store,
            redis_timeout_ms,
            redis_retry_ms,
            key_prefix,
            max_tracked_keys,
        } = raw;
        let max_tracked_keys = in_range(
            "caps.max_tracked_keys",
            max_tracked_keys.unwrap_or(100_000),
            16..=10_000_000,
            "16..=10000000",
            "lower it to bound memory or raise it above 16",
        )?;
        let store = match store.as_deref().unwrap_or("memory") {
            // The redis_* keys are kept but unused, so switching the store
            // is a one-line edit.
            "memory" => CapStore::Memory,
            url => CapStore::Redis(redis_config(
                url,
                redis_timeout_ms,
                redis_retry_ms,
                key_prefix,
            )?),
        };
        Ok(CapsConfig {
            store,
            max_tracked_keys: NonZeroUsize::new(max_tracked_keys).unwrap_or(NonZeroUsize::MIN),
        })
    }
}

fn redis_config(
    url: &str,
    timeout_ms: Option<u64>,
    retry_ms: Option<u64>,
    key_prefix: Option<String>,
) -> Result<RedisStoreConfig, CapConfigError> {
    let bad_store = |why: String| CapConfigError::BadStore {
        value: crate::cap::redact_url(url),
        why,
    };
    if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
        return Err(bad_store("it must start with redis:// or rediss://".into()));
    }
    redis::Client::open(url).map_err(|e| bad_store(e.to_string()))?;
    let timeout = in_range(
        "caps.redis_timeout_ms",
        timeout_ms.unwrap_or(5),
        1..=1000,
        "1..=1000",
        "a few ms: a check slower than this uses local buckets",
    )?;
    let retry = in_range(
        "caps.redis_retry_ms",
        retry_ms.unwrap_or(1000),
        10..=600_000,
        "10..=600000",
        "use e.g. 1000",
    )?;
    let key_prefix = key_prefix.unwrap_or_else(|| "cutover:cap:".to_string());
    if key_prefix.is_empty() || key_prefix.chars().any(char::is_whitespace) {
        return Err(CapConfigError::OutOfRange {
            key: "caps.key_prefix",
            value: format!("{key_prefix:?}"),
            range: "non-empty, no spaces",
            fix: "use e.g. \"cutover:cap:\"",
        });
    }
    Ok(RedisStoreConfig {
        url: url.to_string(),
        timeout: Duration::from_millis(timeout),
        retry_after: Duration::from_millis(retry),
        key_prefix,
    })
}

/// `value` if inside `range`, else an error naming `key`, the range and the fix.
pub(crate) fn in_range<T: PartialOrd + std::fmt::Display>(
    key: &'static str,
    value: T,
    range: std::ops::RangeInclusive<T>,
    shown: &'static str,
    fix: &'static str,
) -> Result<T, CapConfigError> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(CapConfigError::OutOfRange {
            key,
            value: value.to_string(),
            range: shown,
            fix,
        })
    }
}
