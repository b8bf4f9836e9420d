//! Retry-storm caps: per-client GCRA buckets, per-(client, channel) windows,
//! collapsing of identical in-flight requests with a short positive cache,
//! `max_inflight` with a queue timeout, and a circuit breaker — per route.
//!
//! Owns all cap state ([`Caps`], [`Collapser`]) and the Redis bucket store.
//! Decisions are pure and take `now: Instant`; only `redis_store` does I/O and
//! only `inflight` waits (on an injected [`Timer`]). Knows nothing of Pingora
//! or HTTP: the proxy turns a [`Rejection`] into a 429/503 response.
//! May use: `identity`, `redis`, `tokio` sync/time, `rand`, `sha2`, `tracing`.
//!
//! Per request the proxy does, with one `Instant::now()`:
//! 1. `ClientKey::choose(identity, socket_id, peer_ip)`;
//! 2. `caps.admit_client(route, policy, &key, channel_name, now)` → 429 on `Err`;
//! 3. if `policy.collapse`: `collapser.run(CollapseKey::new(route, &key,
//!    socket_id, channel), policy.cache_ttl, now, || backend call)`, where the
//!    backend call starts with step 4 (so cache hits and followers skip it);
//! 4. `caps.admit_backend(route, policy, now)` → 503 on `Err`, else call the
//!    backend and `permit.finish(outcome, Instant::now())`.
//!
//! `Caps::admit` is steps 2 + 4 for routes that do not collapse.

mod bounded;
mod breaker;
mod channel;
mod collapse;
mod engine;
mod gcra;
mod inflight;
mod key;
mod permit;
mod policy;
mod redis_store;

#[cfg(test)]
mod tests;

use std::time::Duration;

pub use breaker::BreakerState;
pub use collapse::{CollapseKey, CollapseRole, Collapser};
pub use engine::{Caps, RouteGauge, StoreStats};
pub use inflight::{Sleep, Timer, TokioTimer};
pub use key::ClientKey;
pub use permit::Permit;
pub use policy::{
    BreakerPolicy, CapPolicy, CapStore, CapsConfig, ClientRate, Rate, RedisStoreConfig, redact_url,
};

/// Which cap refused a request; `as_str` is the `reason` metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CapReason {
    /// Per-client bucket empty → 429.
    ClientRate,
    /// Same (client, channel) too often → 429.
    ChannelRate,
    /// No backend slot within the queue timeout → 503.
    Inflight,
    /// Breaker open (or half-open with all probes out) → 503.
    Breaker,
}

impl CapReason {
    pub fn as_str(self) -> &'static str {
        match self {
            CapReason::ClientRate => "client_rate",
            CapReason::ChannelRate => "channel_rate",
            CapReason::Inflight => "inflight",
            CapReason::Breaker => "breaker",
        }
    }

    /// 429 for the client's own rate, 503 for backend protection.
    pub fn status(self) -> u16 {
        match self {
            CapReason::ClientRate | CapReason::ChannelRate => 429,
            CapReason::Inflight | CapReason::Breaker => 503,
        }
    }
}

/// A refused request: why, and when to come back (already jittered).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rejection {
    pub reason: CapReason,
    pub retry_after: Duration,
}

impl Rejection {
    /// Whole seconds for the `Retry-After` header: rounded up, at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        let secs = self.retry_after.as_secs() + u64::from(self.retry_after.subsec_nanos() > 0);
        secs.max(1)
    }
}

/// How a backend call ended; errors and timeouts feed the breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Error,
    Timeout,
}

/// `base` scaled by a factor in [0.8, 1.2] chosen by `unit` ∈ [0, 1), never
/// below `floor` and never zero.
pub fn jittered(base: Duration, floor: Duration, unit: f64) -> Duration {
    let factor = 0.8 + 0.4 * unit.clamp(0.0, 1.0);
    base.mul_f64(factor)
        .max(floor)
        .max(Duration::from_millis(1))
}
