//! The judge: per route, a sliding window of request counts, errors and a
//! latency histogram for each backend, and the guard decision "is rust worse
//! than next by more than the route allows?". Also the trip latch that keeps
//! a tripped route on next until its flag file changes (`latch`), and the
//! route's migration stage label (`stage`).
//!
//! Pure apart from interior locking: time is passed in as `now`. Knows
//! nothing of Pingora, metrics or config files; the proxy glue records each
//! finished request, calls `evaluate`, and acts on a `TripReason`.

mod latch;
mod latency;
mod stage;
pub(crate) mod window;

pub use latch::TripLatch;
pub use stage::Stage;

use latency::Histogram;
use std::fmt;
use std::time::{Duration, Instant};
use window::RouteRings;

/// The two backends, as the flags name them.
pub use crate::flags::Side;

/// A route's `guard = { … }`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Guard {
    /// Trip when rust's error ratio exceeds next's by more than this (0..=1).
    pub max_error_ratio_delta: f64,
    /// Trip when rust's p99 exceeds next's times this (≥ 1).
    pub max_p99_ratio: f64,
    /// Each side needs this many requests in the window before judging.
    pub min_requests: u64,
    pub window: Duration,
}

/// Why a guard tripped. `Display` is the log line.
#[derive(Debug, Clone, PartialEq)]
pub enum TripReason {
    ErrorRatio {
        rust: f64,
        next: f64,
        max_delta: f64,
        rust_requests: u64,
        next_requests: u64,
    },
    P99 {
        rust: Duration,
        next: Duration,
        max_ratio: f64,
        rust_requests: u64,
        next_requests: u64,
    },
    /// Tripped by another replica's judge (shared through Redis).
    Replica { instance: String, reason: String },
}

impl fmt::Display for TripReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TripReason::Replica { instance, reason } => {
                write!(f, "tripped on replica {instance}: {reason}")
            }
            TripReason::ErrorRatio {
                rust,
                next,
                max_delta,
                rust_requests,
                next_requests,
            } => write!(
                f,
                "rust error ratio {rust:.4} exceeds next's {next:.4} by more than {max_delta} \
                 (rust {rust_requests} requests, next {next_requests})"
            ),
            TripReason::P99 {
                rust,
                next,
                max_ratio,
                rust_requests,
                next_requests,
            } => write!(
                f,
                "rust p99 {:.1} ms exceeds {max_ratio} x next's p99 {:.1} ms \
                 (rust {rust_requests} requests, next {next_requests})",
                rust.as_secs_f64() * 1e3,
                next.as_secs_f64() * 1e3
            ),
        }
    }
}

/// One side's totals over a route's judge window (read-only view).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SideSummary {
    pub requests: u64,
    pub errors: u64,
    /// Zero when the side had no request in the window.
    pub p99: Duration,
}

/// A guarded route's window as the judge sees it now (for the status page).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RouteStats {
    pub window: Duration,
    pub next: SideSummary,
    pub rust: SideSummary,
}

#[derive(Default)]
struct SideStats {
    count: u64,
    errors: u64,
    latency: Histogram,
}

impl SideStats {
    fn merge(&mut self, o: &SideStats) {
        self.count += o.count;
        self.errors += o.errors;
        self.latency.merge(&o.latency);
    }

    fn error_ratio(&self) -> f64 {
        self.errors as f64 / self.count.max(1) as f64
    }
}

#[derive(Default)]
struct Bucket {
    next: SideStats,
    rust: SideStats,
}

/// Shared by all proxy threads; one lock per route.
#[derive(Default)]
pub struct Judge {
    routes: RouteRings<Bucket>,
}

impl Judge {
    pub fn new() -> Self {
        Judge::default()
    }

    /// Sets the guarded routes and their windows (call on every config
    /// snapshot). A route whose window is unchanged keeps its samples; other
    /// routes are dropped; requests of routes not listed are not recorded.
    pub fn configure<'a>(&self, routes: impl IntoIterator<Item = (&'a str, Duration)>) {
        self.routes.configure(routes);
    }

    /// Forgets a route's samples (e.g. when its trip is cleared by a flag edit).
    pub fn reset(&self, route: &str) {
        self.routes.with(route, |ring| ring.restart(ring.window()));
    }

    /// Records one finished request. `is_error`: 5xx, timeout or connect error.
    pub fn record(
        &self,
        route: &str,
        backend: Side,
        is_error: bool,
        latency: Duration,
        now: Instant,
    ) {
        self.routes.with(route, |ring| {
            let bucket = ring.current(now);
            let side = match backend {
                Side::Next => &mut bucket.next,
                Side::Rust => &mut bucket.rust,
            };
            side.count += 1;
            side.errors += u64::from(is_error);
            side.latency.add(latency);
        });
    }

    /// The route's per-side totals over its window at `now`; None for a
    /// route the judge does not watch (no guard). Changes nothing.
    pub fn summary(&self, route: &str, now: Instant) -> Option<RouteStats> {
        self.routes.with(route, |ring| {
            let mut total = Bucket::default();
            for b in ring.live(now) {
                total.next.merge(&b.next);
                total.rust.merge(&b.rust);
            }
            let side = |s: &SideStats| SideSummary {
                requests: s.count,
                errors: s.errors,
                p99: s.latency.quantile(0.99),
            };
            RouteStats {
                window: ring.window(),
                next: side(&total.next),
                rust: side(&total.rust),
            }
        })
    }

    /// Some(reason) when rust is worse than next by more than the guard
    /// allows, with at least `min_requests` on both sides in the window.
    /// A guard whose window differs from the configured one restarts the
    /// route's window (and judges nothing until it fills).
    pub fn evaluate(&self, route: &str, guard: &Guard, now: Instant) -> Option<TripReason> {
        let total = self.routes.with(route, |ring| {
            if ring.window() != guard.window {
                ring.restart(guard.window);
                return None;
            }
            let mut total = Bucket::default();
            for b in ring.live(now) {
                total.next.merge(&b.next);
                total.rust.merge(&b.rust);
            }
            Some(total)
        })??;
        let (rust, next) = (&total.rust, &total.next);
        if rust.count < guard.min_requests || next.count < guard.min_requests {
            return None;
        }
        let (re, ne) = (rust.error_ratio(), next.error_ratio());
        if re - ne > guard.max_error_ratio_delta {
            return Some(TripReason::ErrorRatio {
                rust: re,
                next: ne,
                max_delta: guard.max_error_ratio_delta,
                rust_requests: rust.count,
                next_requests: next.count,
            });
        }
        let (rp, np) = (rust.latency.quantile(0.99), next.latency.quantile(0.99));
        if rp.as_secs_f64() > np.as_secs_f64() * guard.max_p99_ratio {
            return Some(TripReason::P99 {
                rust: rp,
                next: np,
                max_ratio: guard.max_p99_ratio,
                rust_requests: rust.count,
                next_requests: next.count,
            });
        }
        None
    }
}

#[cfg(test)]
mod tests;
