//! Every metric cutover exports: names, help, bounded labels — in one place.
//!
//! Labels are route ids from config (unmatched traffic is `(unmatched)`),
//! backend (`next`/`rust`), status class, decision and reason codes: never raw
//! paths, user ids or tokens. Each instance owns its own [`Registry`] (tests
//! run several), served on the admin port. Recorded once per request, in the
//! proxy's `logging` phase.

use prometheus::{
    Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry,
};

/// Label value for requests no route claimed.
pub const UNMATCHED: &str = "(unmatched)";

pub const REQUESTS_TOTAL: &str = "cutover_requests_total";
pub const REQUEST_DURATION: &str = "cutover_request_duration_seconds";
pub const UPSTREAM_ERRORS_TOTAL: &str = "cutover_upstream_errors_total";
pub const CONFIG_RELOADS_TOTAL: &str = "cutover_config_reloads_total";
pub const CONFIG_GENERATION: &str = "cutover_config_generation";
pub const CONFIG_LAST_SUCCESS: &str = "cutover_config_last_success_timestamp_seconds";
pub const ROUTE_BACKEND: &str = "cutover_route_backend";
pub const ROUTE_CANARY_PERCENT: &str = "cutover_route_canary_percent";

pub struct Metrics {
    pub registry: Registry,
    /// `{route, backend, status_class}`
    pub requests: IntCounterVec,
    /// `{route, backend}`
    pub duration: HistogramVec,
    /// `{route, backend, kind}` kind: connect, timeout, read, write, other
    pub upstream_errors: IntCounterVec,
    /// `{result}` result: success, failure
    pub reloads: IntCounterVec,
    pub generation: IntGauge,
    pub last_success: Gauge,
    /// `{route, backend}`: 1 for the configured side(s)
    pub route_backend: IntGaugeVec,
    /// `{route}`: share of clients on rust, 0..=100
    pub canary_percent: GaugeVec,
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry = Registry::new();
        let m = Metrics {
            requests: IntCounterVec::new(
                Opts::new(
                    REQUESTS_TOTAL,
                    "Requests answered, by route, backend and status class.",
                ),
                &["route", "backend", "status_class"],
            )
            .expect("static metric definition"),
            duration: HistogramVec::new(
                HistogramOpts::new(
                    REQUEST_DURATION,
                    "Time from request start to last byte, by route and backend.",
                )
                .buckets(vec![
                    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    30.0,
                ]),
                &["route", "backend"],
            )
            .expect("static metric definition"),
            upstream_errors: IntCounterVec::new(
                Opts::new(
                    UPSTREAM_ERRORS_TOTAL,
                    "Failures talking to a backend, by kind.",
                ),
                &["route", "backend", "kind"],
            )
            .expect("static metric definition"),
            reloads: IntCounterVec::new(
                Opts::new(CONFIG_RELOADS_TOTAL, "Config reload attempts by result."),
                &["result"],
            )
            .expect("static metric definition"),
            generation: IntGauge::new(
                CONFIG_GENERATION,
                "Generation of the config in use (1 = as started).",
            )
            .expect("static metric definition"),
            last_success: Gauge::new(
                CONFIG_LAST_SUCCESS,
                "Unix time of the last successful config load.",
            )
            .expect("static metric definition"),
            route_backend: IntGaugeVec::new(
                Opts::new(
                    ROUTE_BACKEND,
                    "1 for each backend a route's flag sends traffic to.",
                ),
                &["route", "backend"],
            )
            .expect("static metric definition"),
            canary_percent: GaugeVec::new(
                Opts::new(
                    ROUTE_CANARY_PERCENT,
                    "Percent of a route's clients sent to rust.",
                ),
                &["route"],
            )
            .expect("static metric definition"),
            registry,
        };
        m.register_all();
        m
    }

    fn register_all(&self) {
        let r = &self.registry;
        let all: [Box<dyn prometheus::core::Collector>; 8] = [
            Box::new(self.requests.clone()),
            Box::new(self.duration.clone()),
            Box::new(self.upstream_errors.clone()),
            Box::new(self.reloads.clone()),
            Box::new(self.generation.clone()),
            Box::new(self.last_success.clone()),
            Box::new(self.route_backend.clone()),
            Box::new(self.canary_percent.clone()),
        ];
        for c in all {
            r.register(c).expect("metric names are unique");
        }
        for result in ["success", "failure"] {
            self.reloads.with_label_values(&[result]);
        }
    }

    /// Text exposition of everything.
    pub fn render(&self) -> String {
        let enc = prometheus::TextEncoder::new();
        enc.encode_to_string(&self.registry.gather())
            .unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// `2xx`, `4xx`, …; `0xx` when no response was sent.
pub fn status_class(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        5 => "5xx",
        _ => "none",
    }
}
