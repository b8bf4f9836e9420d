//! The pure wave scheduler: when each stream of a migration ends.
//!
//! Streams are given consecutive slots of `1/pace` seconds, oldest first,
//! and each ends at a uniformly jittered instant inside its own slot. So any
//! one-second window holds at most `pace + 1` ends (the `+ 1` is the jitter
//! allowance: a window can straddle two partial slots), the whole wave takes
//! `count / pace` seconds, and no two clients are told to reconnect at the
//! same instant. A second flip during a migration queues behind the slots
//! already handed out. Time and randomness are passed in.

use std::time::{Duration, Instant};

use super::Pace;

/// One route's migration pacing; outlives snapshots.
#[derive(Debug, Clone)]
pub struct Waves {
    interval: Duration,
    /// The start of the first slot not handed out yet.
    next_free: Option<Instant>,
}

impl Waves {
    pub fn new(pace: Pace) -> Waves {
        Waves {
            interval: Duration::from_secs(1) / pace.per_second.get(),
            next_free: None,
        }
    }

    /// A new pace applies to slots handed out from now on.
    pub fn set_pace(&mut self, pace: Pace) {
        self.interval = Duration::from_secs(1) / pace.per_second.get();
    }

    /// End instants for `count` streams, in order, no earlier than `now`.
    /// `jitter` returns values in `[0, 1)`.
    pub fn schedule(
        &mut self,
        count: usize,
        now: Instant,
        jitter: &mut impl FnMut() -> f64,
    ) -> Vec<Instant> {
        let mut slot = self.next_free.filter(|t| *t > now).unwrap_or(now);
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let j = jitter().clamp(0.0, 1.0 - f64::EPSILON);
            out.push(slot + self.interval.mul_f64(j));
            slot += self.interval;
        }
        self.next_free = Some(slot);
        out
    }
}

/// The `retry:` an ended SSE stream gets, in milliseconds: a short base plus
/// up to one slot of jitter, so reconnects keep the spread of the ends.
pub fn retry_ms(pace: Option<Pace>, jitter: f64) -> u64 {
    let slot_ms = pace.map_or(1000, |p| (1000 / u64::from(p.per_second.get())).max(1));
    100 + (jitter.clamp(0.0, 1.0) * slot_ms as f64) as u64
}

#[cfg(test)]
mod tests;
