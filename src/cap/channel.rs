//! Per `(client, channel)` sliding-window log: at most `count` admitted
//! requests in any window of length `per`.
//!
//! Pure: the state is a short list of admission times (at most `count`, which
//! config bounds), every function takes `now`. May use: `policy` only.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::policy::Rate;

/// Admission times inside the current window, oldest first.
#[derive(Debug, Clone, Default)]
pub struct ChannelLog {
    admitted: VecDeque<Instant>,
}

impl ChannelLog {
    /// Admits and records the request, or returns how long until it would be
    /// admitted.
    pub fn check(&mut self, limit: &Rate, now: Instant) -> Result<(), Duration> {
        self.forget_before(limit.per, now);
        let max = limit.count.get() as usize;
        if self.admitted.len() < max {
            self.admitted.push_back(now);
            return Ok(());
        }
        // Full: the oldest admission leaves the window first.
        let oldest = self.admitted.front().copied().unwrap_or(now);
        Err((oldest + limit.per).saturating_duration_since(now))
    }

    /// True when nothing is left in the window: the log can be dropped.
    pub fn is_idle(&self, per: Duration, now: Instant) -> bool {
        self.admitted.back().is_none_or(|last| *last + per <= now)
    }

    fn forget_before(&mut self, per: Duration, now: Instant) {
        while let Some(first) = self.admitted.front() {
            if *first + per <= now {
                self.admitted.pop_front();
            } else {
                break;
            }
        }
    }
}
