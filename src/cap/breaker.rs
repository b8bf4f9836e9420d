//! Circuit breaker: closed → open (error/timeout ratio ≥ threshold with at
//! least `min_requests` outcomes in the window) → half-open after the cooldown
//! (up to `probes` trial requests) → closed when they all succeed, open again
//! on any failure.
//!
//! Pure state machine: every method takes the policy and `now`.
//! May use: `policy` only.

use std::time::{Duration, Instant};

use super::policy::BreakerPolicy;

/// Slots the window is split into; outcomes older than the window drop out
/// one slot at a time.
const SLOTS: u32 = 10;

/// Exported as the `cutover_breaker_state` gauge (see [`BreakerState::as_gauge`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    /// 0 = closed, 1 = open, 2 = half-open.
    pub fn as_gauge(self) -> i64 {
        match self {
            BreakerState::Closed => 0,
            BreakerState::Open => 1,
            BreakerState::HalfOpen => 2,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// What an admitted request is to the breaker; handed back with its outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ticket {
    /// Admitted while closed (in breaker generation `gen`).
    Normal { generation: u64 },
    /// A half-open probe of generation `gen`.
    Probe { generation: u64 },
}

#[derive(Debug, Clone)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { outstanding: u32, succeeded: u32 },
}

/// One route's breaker.
#[derive(Debug, Clone)]
pub struct Breaker {
    phase: Phase,
    /// Bumped on every transition; stale tickets are ignored.
    generation: u64,
    /// (slot index since `origin`, requests, failures), newest last.
    slots: Vec<(u64, u32, u32)>,
    origin: Option<Instant>,
}

impl Default for Breaker {
    fn default() -> Self {
        Breaker {
            phase: Phase::Closed,
            generation: 0,
            slots: Vec::with_capacity(SLOTS as usize + 1),
            origin: None,
        }
    }
}

impl Breaker {
    /// Current state (an expired open breaker reports `HalfOpen`).
    pub fn state(&self, now: Instant) -> BreakerState {
        match self.phase {
            Phase::Closed => BreakerState::Closed,
            Phase::Open { until } if now < until => BreakerState::Open,
            Phase::Open { .. } | Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Admits a request, or returns how long until the breaker may admit again.
    pub fn admit(&mut self, policy: &BreakerPolicy, now: Instant) -> Result<Ticket, Duration> {
        if let Phase::Open { until } = self.phase {
            if now < until {
                return Err(until - now);
            }
            self.transition(Phase::HalfOpen {
                outstanding: 0,
                succeeded: 0,
            });
        }
        match &mut self.phase {
            Phase::Closed => Ok(Ticket::Normal {
                generation: self.generation,
            }),
            Phase::HalfOpen {
                outstanding,
                succeeded,
            } => {
                if *outstanding + *succeeded < policy.probes.get() {
                    *outstanding += 1;
                    Ok(Ticket::Probe {
                        generation: self.generation,
                    })
                } else {
                    // Probes are in flight; their outcome decides soon.
                    Err(Duration::ZERO)
                }
            }
            Phase::Open { until } => Err(until.saturating_duration_since(now)),
        }
    }

    /// Records the outcome of an admitted request.
    pub fn record(&mut self, ticket: Ticket, failed: bool, policy: &BreakerPolicy, now: Instant) {
        match ticket {
            Ticket::Normal { generation } if generation == self.generation => {
                self.count(failed, policy, now);
                if self.should_open(policy) {
                    self.transition(Phase::Open {
                        until: now + policy.cooldown,
                    });
                }
            }
            Ticket::Probe { generation } if generation == self.generation => {
                if failed {
                    self.transition(Phase::Open {
                        until: now + policy.cooldown,
                    });
                } else if let Phase::HalfOpen {
                    outstanding,
                    succeeded,
                } = &mut self.phase
                {
                    *outstanding = outstanding.saturating_sub(1);
                    *succeeded += 1;
                    if *succeeded >= policy.probes.get() {
                        self.transition(Phase::Closed);
                    }
                }
            }
            _ => {}
        }
    }

    /// A request was admitted but never finished (client went away): frees
    /// its probe slot without counting an outcome.
    pub fn abandon(&mut self, ticket: Ticket) {
        if let (Ticket::Probe { generation }, Phase::HalfOpen { outstanding, .. }) =
            (ticket, &mut self.phase)
            && generation == self.generation
        {
            *outstanding = outstanding.saturating_sub(1);
        }
    }

    fn transition(&mut self, phase: Phase) {
        self.phase = phase;
        self.generation += 1;
        self.slots.clear();
        self.origin = None;
    }

    fn count(&mut self, failed: bool, policy: &BreakerPolicy, now: Instant) {
        let slot_len = (policy.window / SLOTS).max(Duration::from_millis(1));
        let origin = *self.origin.get_or_insert(now);
        let index = (now.saturating_duration_since(origin).as_nanos() / slot_len.as_nanos()) as u64;
        self.slots
            .retain(|(i, _, _)| index.saturating_sub(*i) < u64::from(SLOTS));
        match self.slots.last_mut() {
            Some((i, requests, failures)) if *i == index => {
                *requests += 1;
                *failures += u32::from(failed);
            }
            _ => self.slots.push((index, 1, u32::from(failed))),
        }
    }

    fn should_open(&self, policy: &BreakerPolicy) -> bool {
        let (requests, failures) = self
            .slots
            .iter()
            .fold((0u32, 0u32), |(r, f), (_, sr, sf)| (r + sr, f + sf));
        requests >= policy.min_requests.get()
            && f64::from(failures) >= policy.error_ratio * f64::from(requests)
    }
}
