//! Budgeted fallback to next: when the rust side fails before any response
//! byte on an idempotent request (or a POST/PATCH on a route that declares
//! them safe to replay), the request may be retried on next — but at most
//! `ratio` of the route's requests over a sliding `window` may be, so a
//! broken rust side cannot double next's load. Owns the eligibility rule
//! (`eligible`) and the per-route budget; time is passed in. Knows nothing of
//! Pingora or metrics (`FallbackResult::as_str` is the metric label).

use crate::judge::window::RouteRings;
use http::Method;
use std::time::{Duration, Instant};

/// Response header marking a response served by fallback.
pub const FALLBACK_HEADER: &str = "x-cutover-fallback";

/// A route's fallback policy: `fallback_budget = { ratio, window }` and
/// `fallback_non_idempotent`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BudgetPolicy {
    /// Share of the route's requests that may fall back, 0..=1.
    pub ratio: f64,
    pub window: Duration,
    pub methods: RetryMethods,
}

impl Default for BudgetPolicy {
    fn default() -> Self {
        BudgetPolicy {
            ratio: 0.05,
            window: Duration::from_secs(60),
            methods: RetryMethods::Idempotent,
        }
    }
}

/// Which request methods a route may retry on next
/// (`fallback_non_idempotent = false | true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RetryMethods {
    /// GET, HEAD, OPTIONS, PUT, DELETE (the default).
    #[default]
    Idempotent,
    /// Those and POST, PATCH: the handlers on both sides dedupe the request
    /// by a key, so running it twice does no harm.
    AlsoNonIdempotent,
}

impl RetryMethods {
    /// Whether a request with this method may be retried at all.
    pub fn allow(self, method: &Method) -> bool {
        const IDEMPOTENT: [Method; 5] = [
            Method::GET,
            Method::HEAD,
            Method::OPTIONS,
            Method::PUT,
            Method::DELETE,
        ];
        IDEMPOTENT.contains(method)
            || (self == RetryMethods::AlsoNonIdempotent
                && (*method == Method::POST || *method == Method::PATCH))
    }
}

/// How the rust side failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Connect,
    /// A 5xx status (the response not yet forwarded).
    Status5xx,
    Timeout,
}

/// The `result` label of `cutover_fallbacks_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FallbackResult {
    Taken,
    OverBudget,
}

impl FallbackResult {
    pub fn as_str(self) -> &'static str {
        match self {
            FallbackResult::Taken => "taken",
            FallbackResult::OverBudget => "over_budget",
        }
    }
}

/// May this failure be retried on next at all (before the budget)? Only
/// methods the route's `methods` allow (idempotent ones, plus POST and PATCH
/// with `fallback_non_idempotent`), only before any response byte reached
/// the client, and only when the request body can be replayed.
pub fn eligible(
    method: &Method,
    methods: RetryMethods,
    _failure: Failure,
    response_started: bool,
    body_replayable: bool,
) -> bool {
    methods.allow(method) && !response_started && body_replayable
}

#[derive(Default)]
struct Counts {
    requests: u64,
    fallbacks: u64,
}

/// Per-route sliding counts of requests and fallbacks; shared by threads.
#[derive(Default)]
pub struct FallbackBudget {
    routes: RouteRings<Counts>,
    /// Other replicas' `(requests, fallbacks)` in their window, per route,
    /// as last read from the shared store (empty without one).
    others: std::sync::Mutex<std::collections::HashMap<String, (u64, u64)>>,
}

impl FallbackBudget {
    pub fn new() -> Self {
        FallbackBudget::default()
    }

    /// Sets the routes with a fallback and their windows (call on every
    /// config snapshot); unchanged windows keep their counts.
    pub fn configure<'a>(&self, routes: impl IntoIterator<Item = (&'a str, Duration)>) {
        self.routes.configure(routes);
    }

    /// Counts one request of `route` (every request, whichever side serves it).
    pub fn record_request(&self, route: &str, now: Instant) {
        self.routes
            .with(route, |ring| ring.current(now).requests += 1);
    }

    /// `(requests, fallbacks)` of `route` over its window at `now`; None
    /// for a route without a fallback. Changes nothing.
    pub fn usage(&self, route: &str, now: Instant) -> Option<(u64, u64)> {
        self.routes.with(route, |ring| {
            ring.live(now)
                .fold((0, 0), |(r, f), c| (r + c.requests, f + c.fallbacks))
        })
    }

    /// Takes one fallback if that keeps fallbacks ≤ `max_ratio` of the
    /// requests in the window; false (over budget) otherwise. A `window`
    /// other than the configured one restarts the route's counts.
    /// Replaces what the other replicas spent (see `proxy::guard::shared`):
    /// every replica's requests and fallbacks count against one budget.
    pub fn set_others(&self, others: std::collections::HashMap<String, (u64, u64)>) {
        *self.others.lock().unwrap_or_else(|p| p.into_inner()) = others;
    }

    fn others(&self, route: &str) -> (u64, u64) {
        let others = self.others.lock().unwrap_or_else(|p| p.into_inner());
        others.get(route).copied().unwrap_or((0, 0))
    }

    pub fn try_take(&self, route: &str, max_ratio: f64, window: Duration, now: Instant) -> bool {
        self.routes
            .with(route, |ring| {
                if ring.window() != window {
                    ring.restart(window);
                    return false;
                }
                let (mut requests, mut fallbacks) = self.others(route);
                for c in ring.live(now) {
                    requests += c.requests;
                    fallbacks += c.fallbacks;
                }
                if (fallbacks + 1) as f64 > max_ratio * requests as f64 {
                    return false;
                }
                ring.current(now).fallbacks += 1;
                true
            })
            .unwrap_or(false)
    }
}

#[cfg(test)]
mod tests;
