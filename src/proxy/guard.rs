//! Guard glue: the judge's sliding windows, the trip latch and the fallback
//! budget, shared by every request. Records each finished request of a
//! guarded route, trips the route back to next (in memory) when the judge
//! says rust is worse, holds it there until its flag file changes, and
//! exports `cutover_guard_tripped` and `cutover_stage` for every route on
//! every config snapshot and on every trip. May use `judge`, `fallback`,
//! `flags`, `config`, `metrics`.

pub mod shared;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::fallback::FallbackBudget;
use crate::flags::Side;
use crate::judge::{Judge, Stage, TripLatch};
use crate::metrics::Metrics;
use crate::reload::Snapshot;
use crate::route::RouteId;

pub struct GuardState {
    pub judge: Judge,
    pub latch: TripLatch,
    pub budget: FallbackBudget,
    pub(super) metrics: Arc<Metrics>,
    /// Where trips are shared with the other replicas (Redis), if anywhere.
    shared: Option<Arc<shared::TripStore>>,
}

/// The flag file's fingerprint (zeros when the route has no flag file).
fn fingerprint(cfg: &Config, route: &RouteId) -> [u8; 32] {
    cfg.flag(route).map_or([0; 32], |f| f.fingerprint)
}

impl GuardState {
    pub fn new(metrics: Arc<Metrics>) -> GuardState {
        GuardState {
            judge: Judge::new(),
            latch: TripLatch::new(),
            budget: FallbackBudget::new(),
            metrics,
            shared: None,
        }
    }

    /// Share trips with every replica through `store`.
    pub fn with_shared(mut self, store: Option<Arc<shared::TripStore>>) -> GuardState {
        self.shared = store;
        self
    }

    /// Latches a trip another replica (or this one, before a restart) shared,
    /// when it holds under this replica's flag file for the route.
    pub fn apply_shared(&self, cfg: &Config, route: &str, trip: &shared::SharedTrip) {
        let Some(route) = cfg.routes.iter().find(|r| r.id.as_str() == route) else {
            return;
        };
        if hex::encode(fingerprint(cfg, &route.id)) != trip.fingerprint {
            return;
        }
        if self.latch.trip(
            route.id.as_str(),
            trip.reason(),
            &fingerprint(cfg, &route.id),
        ) {
            tracing::warn!(
                route = route.id.as_str(),
                replica = %trip.instance,
                reason = %trip.reason,
                "guard tripped on another replica: route held on next until its flag file changes"
            );
            self.publish_route(cfg, &route.id, true);
        }
    }

    /// The side after the latch: a tripped route is served by next.
    pub fn hold(&self, cfg: &Config, route: &RouteId, side: Side) -> Side {
        if side == Side::Rust
            && self
                .latch
                .is_tripped(route.as_str(), &fingerprint(cfg, route))
        {
            Side::Next
        } else {
            side
        }
    }

    /// Why `route` is held on next right now (None: not tripped, or its
    /// flag file changed since). Read-only, for the status page.
    pub fn trip_reason(&self, cfg: &Config, route: &RouteId) -> Option<crate::judge::TripReason> {
        self.latch.reason(route.as_str(), &fingerprint(cfg, route))
    }

    /// Counts a request of a route with a fallback budget.
    pub fn count_request(&self, cfg: &Config, route: &RouteId, now: Instant) {
        if cfg
            .route_shadow(route)
            .is_some_and(|r| r.fallback.is_some())
        {
            self.budget.record_request(route.as_str(), now);
        }
    }

    /// Records one finished request of a guarded route and trips it when
    /// rust is worse than next by more than the guard allows.
    pub fn record(
        &self,
        snap: &Snapshot,
        route: &RouteId,
        side: Side,
        is_error: bool,
        latency: Duration,
        now: Instant,
    ) {
        let cfg = &snap.config;
        let Some(guard) = cfg.route_shadow(route).and_then(|r| r.guard) else {
            return;
        };
        let id = route.as_str();
        self.judge.record(id, side, is_error, latency, now);
        if side != Side::Rust {
            return;
        }
        let Some(reason) = self.judge.evaluate(id, &guard, now) else {
            return;
        };
        if self
            .latch
            .trip(id, reason.clone(), &fingerprint(cfg, route))
        {
            tracing::warn!(
                route = id,
                reason = %reason,
                "guard tripped: route held on next until its flag file changes"
            );
            self.publish_route(cfg, route, true);
            if let Some(store) = self.shared.clone() {
                let trip = shared::SharedTrip {
                    fingerprint: hex::encode(fingerprint(cfg, route)),
                    reason: reason.to_string(),
                    instance: store.instance.clone(),
                };
                let (metrics, id) = (self.metrics.clone(), id.to_string());
                tokio::spawn(async move { store.publish(&metrics, &id, &trip).await });
            }
        }
    }

    /// Call on every config snapshot: windows, re-arming after a flag edit,
    /// and the stage and guard gauges of every route.
    pub fn on_snapshot(&self, snap: &Snapshot) {
        let cfg = &snap.config;
        let guarded: Vec<(&str, Duration)> = cfg
            .route_shadow
            .iter()
            .filter_map(|(id, r)| r.guard.map(|g| (id.as_str(), g.window)))
            .collect();
        self.judge.configure(guarded);
        let budgets: Vec<(&str, Duration)> = cfg
            .route_shadow
            .iter()
            .filter_map(|(id, r)| r.fallback.map(|b| (id.as_str(), b.window)))
            .collect();
        self.budget.configure(budgets);
        let before: HashSet<String> = self.latch.tripped().into_iter().map(|(r, _)| r).collect();
        self.metrics.stage.reset();
        self.metrics.guard_tripped.reset();
        for route in cfg.routes.iter() {
            let id = route.id.as_str();
            let tripped = self.latch.is_tripped(id, &fingerprint(cfg, &route.id));
            if before.contains(id) && !tripped {
                self.judge.reset(id);
                tracing::info!(route = id, "guard re-armed: the flag file changed");
            }
            self.publish_route(cfg, &route.id, tripped);
        }
    }

    fn publish_route(&self, cfg: &Config, route: &RouteId, tripped: bool) {
        let flag = cfg.flag(route);
        let stage = Stage::of(
            flag.map_or(0, |f| f.rust_percent()),
            flag.map_or(0, |f| f.shadow_percent()),
            tripped,
        );
        let id = route.as_str();
        for s in Stage::ALL {
            self.metrics
                .stage
                .with_label_values(&[id, s.as_str()])
                .set(i64::from(s == stage));
        }
        self.metrics
            .guard_tripped
            .with_label_values(&[id])
            .set(i64::from(tripped));
    }
}
