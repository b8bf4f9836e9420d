//! GCRA (generic cell rate algorithm): a token bucket with burst stored as a
//! single "theoretical arrival time" per key.
//!
//! Pure: every function takes `now` and returns a decision. The same maths runs
//! in `redis_store`'s Lua script (in microseconds of Redis server time).
//! May use: `policy` only.

use std::time::{Duration, Instant};

use super::policy::ClientRate;

/// Outcome of one GCRA check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GcraDecision {
    /// Admitted; store `tat` as the key's new state.
    Allow { tat: Instant },
    /// Refused; the next request would be admitted after `wait`.
    Deny { wait: Duration },
}

/// Checks one request against a bucket whose stored state is `tat` (None = a
/// fresh, full bucket). A fresh bucket admits `burst` requests at once, then
/// one per emission interval.
pub fn check(tat: Option<Instant>, limit: &ClientRate, now: Instant) -> GcraDecision {
    let interval = limit.rate.emission_interval();
    let tolerance = interval * limit.burst.get();
    let tat = tat.map_or(now, |t| t.max(now));
    let new_tat = tat + interval;
    let ahead = new_tat - now;
    if ahead > tolerance {
        GcraDecision::Deny {
            wait: ahead - tolerance,
        }
    } else {
        GcraDecision::Allow { tat: new_tat }
    }
}

/// A bucket whose `tat` is not after `now` is full again: identical to an
/// absent key, so it can be forgotten without changing any decision.
pub fn is_idle(tat: Instant, now: Instant) -> bool {
    tat <= now
}
