//! [`Permit`]: a request admitted to the backend. Holds the inflight slot
//! and the breaker ticket; `finish` feeds the breaker, dropping it unfinished
//! frees the slot and any half-open probe without counting an outcome.
//! May use: `engine` route state, `breaker`.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use tokio::sync::OwnedSemaphorePermit;

use super::Outcome;
use super::breaker::Ticket;
use super::engine::{RouteState, lock};
use super::policy::BreakerPolicy;

/// A backend slot. Finish it with the backend's outcome; dropping it without
/// finishing frees the slot and any half-open probe without counting.
pub struct Permit {
    route: Arc<RouteState>,
    _slot: Option<OwnedSemaphorePermit>,
    ticket: Option<(Ticket, BreakerPolicy)>,
    finished: bool,
}

impl Permit {
    pub(super) fn new(
        route: Arc<RouteState>,
        slot: Option<OwnedSemaphorePermit>,
        ticket: Option<(Ticket, BreakerPolicy)>,
    ) -> Self {
        route.inflight_now.fetch_add(1, Ordering::Relaxed);
        Permit {
            route,
            _slot: slot,
            ticket,
            finished: false,
        }
    }

    /// Feeds the breaker (errors and timeouts count as failures) and frees the slot.
    pub fn finish(mut self, outcome: Outcome, now: Instant) {
        self.finished = true;
        if let Some((ticket, policy)) = self.ticket {
            let failed = !matches!(outcome, Outcome::Success);
            lock(&self.route.breaker).record(ticket, failed, &policy, now);
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        if !self.finished
            && let Some((ticket, _)) = self.ticket
        {
            lock(&self.route.breaker).abandon(ticket);
        }
        self.route.inflight_now.fetch_sub(1, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for Permit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Permit")
            .field(
                "probe",
                &matches!(self.ticket, Some((Ticket::Probe { .. }, _))),
            )
            .finish()
    }
}
