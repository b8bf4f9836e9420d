//! The trip latch: a tripped route stays on next, in memory only, until its
//! flag file changes. The proxy passes the flag file's content fingerprint
//! (any bytes, e.g. its hash); a different fingerprint clears the trip, so
//! undoing a rollback is an edit, and the files never change by themselves.

use super::TripReason;
use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Clone)]
struct Tripped {
    reason: TripReason,
    fingerprint: Vec<u8>,
}

#[derive(Default)]
pub struct TripLatch {
    /// Fast path: nothing tripped, so no lock per request.
    any: AtomicBool,
    routes: Mutex<HashMap<String, Tripped>>,
}

impl TripLatch {
    pub fn new() -> Self {
        TripLatch::default()
    }

    /// Latches `route` while its flag file keeps `fingerprint`. True when it
    /// was not tripped before (log and export then).
    pub fn trip(&self, route: &str, reason: TripReason, fingerprint: &[u8]) -> bool {
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let fresh = routes
            .get(route)
            .is_none_or(|t| t.fingerprint.as_slice() != fingerprint);
        if fresh {
            let fingerprint = fingerprint.to_vec();
            routes.insert(
                route.to_string(),
                Tripped {
                    reason,
                    fingerprint,
                },
            );
            self.any.store(true, Ordering::Release);
        }
        fresh
    }

    /// Whether `route` is tripped under its current flag `fingerprint`. A
    /// changed fingerprint clears the trip (and returns false).
    pub fn is_tripped(&self, route: &str, fingerprint: &[u8]) -> bool {
        if !self.any.load(Ordering::Acquire) {
            return false;
        }
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        match routes.get(route) {
            Some(t) if t.fingerprint.as_slice() == fingerprint => true,
            Some(_) => {
                routes.remove(route);
                self.any.store(!routes.is_empty(), Ordering::Release);
                false
            }
            None => false,
        }
    }

    /// Why `route` is tripped under its current flag `fingerprint`, if it
    /// is; unlike [`TripLatch::is_tripped`] it clears nothing.
    pub fn reason(&self, route: &str, fingerprint: &[u8]) -> Option<TripReason> {
        if !self.any.load(Ordering::Acquire) {
            return None;
        }
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        routes
            .get(route)
            .filter(|t| t.fingerprint.as_slice() == fingerprint)
            .map(|t| t.reason.clone())
    }

    /// The tripped routes and why, sorted by route (for `/-/config`, logs).
    pub fn tripped(&self) -> Vec<(String, TripReason)> {
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<_> = routes
            .iter()
            .map(|(r, t)| (r.clone(), t.reason.clone()))
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}
