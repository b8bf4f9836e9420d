//! Per-route handles on the two per-request series (`cutover_requests_total`,
//! `cutover_request_duration_seconds`), resolved once per route and label
//! combination instead of `with_label_values` (hash every label, lock, clone)
//! on every request. A series still appears only when first recorded, as
//! with `with_label_values`: the handles are created on first use.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;
use prometheus::{Histogram, HistogramVec, IntCounter, IntCounterVec};

/// The `backend` label values, in handle order.
const BACKENDS: [&str; 3] = ["next", "rust", super::CUTOVER_BACKEND];
/// The `status_class` label values, in handle order (see `status_class`).
const CLASSES: [&str; 6] = ["1xx", "2xx", "3xx", "4xx", "5xx", "none"];

#[derive(Default)]
struct RouteHandles {
    requests: [[OnceLock<IntCounter>; CLASSES.len()]; BACKENDS.len()],
    duration: [OnceLock<Histogram>; BACKENDS.len()],
}

/// Route id → its handles. Reads are lock-free; a route's first request
/// (after start or a reload that added it) copies the map once.
#[derive(Default)]
pub struct RequestHandles {
    routes: ArcSwap<HashMap<Box<str>, Arc<RouteHandles>>>,
}

fn index_of(values: &[&str], v: &str) -> Option<usize> {
    values.iter().position(|x| *x == v)
}

impl RequestHandles {
    fn route(&self, route: &str) -> Arc<RouteHandles> {
        if let Some(h) = self.routes.load().get(route) {
            return h.clone();
        }
        let mut added = None;
        self.routes.rcu(|map| {
            let mut map = HashMap::clone(map);
            let h = map.entry(route.into()).or_default().clone();
            added = Some(h);
            map
        });
        added.unwrap_or_default()
    }

    /// One answered request: `requests{route, backend, status_class}` + 1 and
    /// its duration into `duration{route, backend}`.
    pub fn record(
        &self,
        vecs: (&IntCounterVec, &HistogramVec),
        labels: (&str, &str, &str),
        seconds: f64,
    ) {
        let (route, backend, class) = labels;
        let (Some(b), Some(c)) = (index_of(&BACKENDS, backend), index_of(&CLASSES, class)) else {
            // A label outside the known sets (none today): the slow path.
            vecs.0.with_label_values(&[route, backend, class]).inc();
            vecs.1.with_label_values(&[route, backend]).observe(seconds);
            return;
        };
        let h = self.route(route);
        h.requests[b][c]
            .get_or_init(|| vecs.0.with_label_values(&[route, backend, class]))
            .inc();
        h.duration[b]
            .get_or_init(|| vecs.1.with_label_values(&[route, backend]))
            .observe(seconds);
    }
}

#[cfg(test)]
mod tests {
    use super::super::Metrics;

    #[test]
    fn recorded_requests_show_under_their_labels_and_only_those() {
        let m = Metrics::new();
        for _ in 0..3 {
            m.record_request("r1", "next", 200, 0.002);
        }
        m.record_request("r1", "cutover", 401, 0.001);
        m.record_request("(unmatched)", "next", 0, 0.001);
        let c = |labels: &[&str]| m.requests.with_label_values(labels).get();
        assert_eq!(c(&["r1", "next", "2xx"]), 3);
        assert_eq!(c(&["r1", "cutover", "4xx"]), 1);
        assert_eq!(c(&["(unmatched)", "next", "none"]), 1);
        let h = m.duration.with_label_values(&["r1", "next"]);
        assert_eq!(h.get_sample_count(), 3);
        let text = m.render();
        assert!(!text.contains("backend=\"rust\""), "{text}");
    }
}
