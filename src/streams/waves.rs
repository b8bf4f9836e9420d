//! The pure wave scheduler: when each stream of a migration ends.
//!
//! Streams are given consecutive slots of `1/pace` seconds, oldest first,
//! and each is due at a uniformly jittered instant inside its own slot. A
//! second flip during a migration queues behind the slots already handed
//! out.
//!
//! Being due is not ending: a stream ends when the proxy next sees it (an
//! idle stream's wake-up, or its next bytes at a boundary), and on a loaded
//! machine that runs late. So every end also takes a turn at a gate
//! ([`Waves::take_turn`]): at most one end per slot of wall-clock time, and
//! a stream that comes when its slot was taken is given the next free slot
//! instead (jittered inside it) — late ends push the later ones back, they
//! never catch up in a burst. Any one-second window therefore holds at most
//! `pace + 1` ends (the `+ 1`: a window can straddle two partial slots),
//! however late the ends run. Time and randomness are passed in.

use std::time::{Duration, Instant};

use super::Pace;

/// One route's migration pacing; outlives snapshots.
#[derive(Debug, Clone)]
pub struct Waves {
    interval: Duration,
    /// The start of the first slot not handed out yet.
    next_free: Option<Instant>,
    /// The gate: the end of the last slot an end has taken.
    taken_until: Option<Instant>,
}

/// The gate's answer to a stream that is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// End it now: this slot is its own.
    Now,
    /// Its slot was taken by a late end: end at this instant instead (a
    /// later slot, held for it).
    At(Instant),
}

impl Waves {
    pub fn new(pace: Pace) -> Waves {
        Waves {
            interval: Duration::from_secs(1) / pace.per_second.get(),
            next_free: None,
            taken_until: None,
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

    /// A due stream asks to end at `now`. It may if no end has taken the
    /// slot of wall-clock time `now` is in; otherwise it is given the first
    /// free slot, at a jittered instant inside it, and the caller ends it
    /// then without asking again. `jitter` returns values in `[0, 1)`.
    pub fn take_turn(&mut self, now: Instant, jitter: &mut impl FnMut() -> f64) -> Turn {
        let Some(free) = self.taken_until.filter(|t| *t > now) else {
            // The slot `now` is in, on the grid of the slots taken so far.
            let start = match self.taken_until {
                Some(t) => now - into_slot(now - t, self.interval),
                None => now,
            };
            self.taken_until = Some(start + self.interval);
            return Turn::Now;
        };
        let j = jitter().clamp(0.0, 1.0 - f64::EPSILON);
        self.taken_until = Some(free + self.interval);
        Turn::At(free + self.interval.mul_f64(j))
    }
}

/// How far into its slot of `interval` an instant `since` after a slot
/// boundary is.
fn into_slot(since: Duration, interval: Duration) -> Duration {
    let nanos = since.as_nanos() % interval.as_nanos().max(1);
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(0))
}

/// The `retry:` an ended SSE stream gets, in milliseconds: a short base plus
/// up to one slot of jitter, so reconnects keep the spread of the ends.
pub fn retry_ms(pace: Option<Pace>, jitter: f64) -> u64 {
    let slot_ms = pace.map_or(1000, |p| (1000 / u64::from(p.per_second.get())).max(1));
    100 + (jitter.clamp(0.0, 1.0) * slot_ms as f64) as u64
}

#[cfg(test)]
mod tests;
