//! Every metric cutover exports: names, help, bounded labels — in one place.
//!
//! Labels are route ids from config (unmatched traffic is `(unmatched)`),
//! backend (`next`/`rust`, or `cutover` for an answer cutover wrote itself:
//! see [`CUTOVER_BACKEND`]), status class, decision and reason codes: never raw
//! paths, user ids or tokens. Each instance owns its own [`Registry`] (tests
//! run several), served on the admin port. Recorded once per request, in the
//! proxy's `logging` phase.

mod handles;

use prometheus::{
    Gauge, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry,
};

/// Label value for requests no route claimed.
pub const UNMATCHED: &str = "(unmatched)";

/// `backend` label value of a response cutover wrote on its own, without
/// asking a backend: auth and cap refusals, refused ambiguous targets, bad
/// requests, its own errors. A 502/504 cutover writes *because a backend
/// failed* is counted under that backend (`next`/`rust`), so a next outage
/// shows as next's errors in the per-side panels and ratios; the failure
/// itself is also in `cutover_upstream_errors_total{backend}`.
pub const CUTOVER_BACKEND: &str = "cutover";

pub const REQUESTS_TOTAL: &str = "cutover_requests_total";
pub const REQUEST_DURATION: &str = "cutover_request_duration_seconds";
pub const UPSTREAM_ERRORS_TOTAL: &str = "cutover_upstream_errors_total";
pub const CONFIG_RELOADS_TOTAL: &str = "cutover_config_reloads_total";
pub const CONFIG_GENERATION: &str = "cutover_config_generation";
pub const FLAGS_FINGERPRINT: &str = "cutover_flags_fingerprint";
pub const CONFIG_LAST_SUCCESS: &str = "cutover_config_last_success_timestamp_seconds";
pub const FLAG_FILE_VALID: &str = "cutover_flag_file_valid";
pub const ROUTE_BACKEND: &str = "cutover_route_backend";
pub const ROUTE_CANARY_PERCENT: &str = "cutover_route_canary_percent";
pub const AUTH_TOTAL: &str = "cutover_auth_total";
pub const CAP_REJECTIONS_TOTAL: &str = "cutover_cap_rejections_total";
pub const CAP_COLLAPSED_TOTAL: &str = "cutover_cap_collapsed_total";
pub const CAP_CACHE_HITS_TOTAL: &str = "cutover_cap_cache_hits_total";
pub const INFLIGHT: &str = "cutover_inflight";
pub const BREAKER_STATE: &str = "cutover_breaker_state";
pub const CAP_STORE_FALLBACKS_TOTAL: &str = "cutover_cap_store_fallbacks_total";
pub const SHADOW_REQUESTS_TOTAL: &str = "cutover_shadow_requests_total";
pub const SHADOW_COMPARED_TOTAL: &str = "cutover_shadow_compared_total";
pub const SHADOW_MISMATCHES_TOTAL: &str = "cutover_shadow_mismatches_total";
pub const FALLBACKS_TOTAL: &str = "cutover_fallbacks_total";
pub const GUARD_TRIPPED: &str = "cutover_guard_tripped";
pub const STAGE: &str = "cutover_stage";
pub const GUARD_SYNC_ERRORS_TOTAL: &str = "cutover_guard_sync_errors_total";
pub const JWKS_AGE: &str = "cutover_jwks_age_seconds";
pub const JWKS_FETCHES_TOTAL: &str = "cutover_jwks_fetches_total";
pub const BACKEND_UP: &str = "cutover_backend_up";

pub struct Metrics {
    pub registry: Registry,
    /// `{route, backend, status_class}` backend: next, rust, cutover
    /// ([`CUTOVER_BACKEND`]: what cutover answered without a backend)
    pub requests: IntCounterVec,
    /// `{route, backend}` as `requests`
    pub duration: HistogramVec,
    /// `{route, backend, kind}` kind: connect, timeout, read, write, other
    pub upstream_errors: IntCounterVec,
    /// `{result}` result: success, failure
    pub reloads: IntCounterVec,
    pub generation: IntGauge,
    /// The applied flags' fingerprint (48 bits of a SHA-256 over every
    /// route's flag file content), equal on replicas that agree
    pub flags_fingerprint: IntGauge,
    pub last_success: Gauge,
    /// `{route}`: 0 while the route's flag file is rejected (it keeps its last
    /// good flag; a leftover file of a removed route: its name), else 1
    pub flag_file_valid: IntGaugeVec,
    /// `{route, backend}`: 1 for the configured side(s)
    pub route_backend: IntGaugeVec,
    /// `{route}`: share of clients on rust, 0..=100
    pub canary_percent: GaugeVec,
    /// `{route, scheme, result}` result: ok, missing, expired, bad_signature,
    /// malformed, wrong_audience, unknown_key, tenant_not_allowed (chatbot
    /// token outside its issuer's tenants), ambiguous (session cookies
    /// that name no single token: treated as no credential)
    pub auth: IntCounterVec,
    /// `{route, reason}` reason: client_rate, channel_rate, inflight, breaker
    pub cap_rejections: IntCounterVec,
    /// `{route}`
    pub cap_collapsed: IntCounterVec,
    /// `{route}`
    pub cap_cache_hits: IntCounterVec,
    /// `{route}`: requests in flight to the backend
    pub inflight: IntGaugeVec,
    /// `{route}`: 0 closed, 1 half-open, 2 open
    pub breaker_state: IntGaugeVec,
    /// `{store}`: checks answered locally because the shared store failed
    pub cap_store_fallbacks: IntCounterVec,
    /// `{route, result}` result: compared, dropped, skipped_body, skipped_method, timeout
    pub shadow_requests: IntCounterVec,
    /// `{route, kind}` kind: cross, self
    pub shadow_compared: IntCounterVec,
    /// `{route, kind, category}` category: status, header, body, auth_decision, timeout, error
    pub shadow_mismatches: IntCounterVec,
    /// `{route, result}` result: taken, over_budget
    pub fallbacks: IntCounterVec,
    /// `{route}`: 1 while the guard holds the route on next
    pub guard_tripped: IntGaugeVec,
    /// Reads and writes of the shared guard trips (Redis) that failed
    pub guard_sync_errors: prometheus::IntCounter,
    /// `{route, stage}` stage: next, shadow, canary, rust, tripped (1 for the current one)
    pub stage: IntGaugeVec,
    /// `{issuer}`: seconds since the issuer's JWKS URL last answered a good key set
    /// (since start while it never has)
    pub jwks_age: IntGaugeVec,
    /// `{issuer, result}` result: ok, network, status, invalid
    pub jwks_fetches: IntCounterVec,
    /// `{backend}` backend: next, rust, database, soketi (the embedded
    /// handlers' dependencies): 1 up, 0 down, no series while unknown or not
    /// a dependency of this deployment. Set from `crate::health` at scrape.
    pub backend_up: IntGaugeVec,
    /// Tester overrides: see [`OverrideMetrics`].
    pub overrides: OverrideMetrics,
    /// Open streams and their migrations: see [`StreamMetrics`].
    pub streams: StreamMetrics,
    /// Resolved `requests`/`duration` series: [`Metrics::record_request`].
    request_handles: handles::RequestHandles,
}

fn counter(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, help), labels).expect("static metric definition")
}

fn gauge(name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    IntGaugeVec::new(Opts::new(name, help), labels).expect("static metric definition")
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
            flags_fingerprint: IntGauge::new(
                FLAGS_FINGERPRINT,
                "Fingerprint of the flags in force: replicas that differ disagree on who answers.",
            )
            .expect("static metric definition"),
            last_success: Gauge::new(
                CONFIG_LAST_SUCCESS,
                "Unix time of the last successful config load.",
            )
            .expect("static metric definition"),
            flag_file_valid: gauge(
                FLAG_FILE_VALID,
                "0 while a route's flag file is rejected (the route keeps its last good flag), else 1.",
                &["route"],
            ),
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
            auth: counter(
                AUTH_TOTAL,
                "Credential checks by route, scheme and result.",
                &["route", "scheme", "result"],
            ),
            cap_rejections: counter(
                CAP_REJECTIONS_TOTAL,
                "Requests refused by retry-storm caps.",
                &["route", "reason"],
            ),
            cap_collapsed: counter(
                CAP_COLLAPSED_TOTAL,
                "Requests answered by joining an identical in-flight one.",
                &["route"],
            ),
            cap_cache_hits: counter(
                CAP_CACHE_HITS_TOTAL,
                "Requests answered from the short positive cache.",
                &["route"],
            ),
            inflight: gauge(
                INFLIGHT,
                "Requests in flight to the backend, by route.",
                &["route"],
            ),
            breaker_state: gauge(
                BREAKER_STATE,
                "Circuit breaker: 0 closed, 1 half-open, 2 open.",
                &["route"],
            ),
            cap_store_fallbacks: counter(
                CAP_STORE_FALLBACKS_TOTAL,
                "Cap checks done locally because the shared store failed.",
                &["store"],
            ),
            shadow_requests: counter(
                SHADOW_REQUESTS_TOTAL,
                "Shadow copies by result.",
                &["route", "result"],
            ),
            shadow_compared: counter(
                SHADOW_COMPARED_TOTAL,
                "Response pairs compared (cross = next vs rust, self = primary twice).",
                &["route", "kind"],
            ),
            shadow_mismatches: counter(
                SHADOW_MISMATCHES_TOTAL,
                "Compared pairs that differed, by category.",
                &["route", "kind", "category"],
            ),
            fallbacks: counter(
                FALLBACKS_TOTAL,
                "Failed rust requests retried on next, or refused by the budget.",
                &["route", "result"],
            ),
            guard_tripped: gauge(
                GUARD_TRIPPED,
                "1 while the guard holds a route on next.",
                &["route"],
            ),
            guard_sync_errors: prometheus::IntCounter::new(
                GUARD_SYNC_ERRORS_TOTAL,
                "Failed reads/writes of the guard trips shared through Redis (each replica then judges alone).",
            )
            .expect("valid metric"),
            stage: gauge(
                STAGE,
                "1 for the migration stage each route is in.",
                &["route", "stage"],
            ),
            jwks_age: gauge(
                JWKS_AGE,
                "Seconds since an issuer's jwks_url last gave a good key set.",
                &["issuer"],
            ),
            jwks_fetches: counter(
                JWKS_FETCHES_TOTAL,
                "Fetches of an issuer's jwks_url, by result.",
                &["issuer", "result"],
            ),
            backend_up: gauge(
                BACKEND_UP,
                "1 while a backend answers (requests or its health check), 0 while it is down.",
                &["backend"],
            ),
            overrides: OverrideMetrics::new(),
            streams: StreamMetrics::new(),
            request_handles: handles::RequestHandles::default(),
            registry,
        };
        m.register_all();
        m.registry
            .register(Box::new(m.backend_up.clone()))
            .expect("metric names are unique");
        m.overrides.register(&m.registry);
        m.streams.register(&m.registry);
        m
    }

    fn register_all(&self) {
        let r = &self.registry;
        let all: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(self.requests.clone()),
            Box::new(self.duration.clone()),
            Box::new(self.upstream_errors.clone()),
            Box::new(self.reloads.clone()),
            Box::new(self.generation.clone()),
            Box::new(self.flags_fingerprint.clone()),
            Box::new(self.last_success.clone()),
            Box::new(self.flag_file_valid.clone()),
            Box::new(self.route_backend.clone()),
            Box::new(self.canary_percent.clone()),
            Box::new(self.auth.clone()),
            Box::new(self.cap_rejections.clone()),
            Box::new(self.cap_collapsed.clone()),
            Box::new(self.cap_cache_hits.clone()),
            Box::new(self.inflight.clone()),
            Box::new(self.breaker_state.clone()),
            Box::new(self.cap_store_fallbacks.clone()),
            Box::new(self.shadow_requests.clone()),
            Box::new(self.shadow_compared.clone()),
            Box::new(self.shadow_mismatches.clone()),
            Box::new(self.fallbacks.clone()),
            Box::new(self.guard_tripped.clone()),
            Box::new(self.guard_sync_errors.clone()),
            Box::new(self.stage.clone()),
            Box::new(self.jwks_age.clone()),
            Box::new(self.jwks_fetches.clone()),
            Box::new(crate::logbuf::DROPPED.clone()),
        ];
        for c in all {
            r.register(c).expect("metric names are unique");
        }
        for result in ["success", "failure"] {
            self.reloads.with_label_values(&[result]);
        }
    }

    /// One answered request in `requests` and `duration`, through handles
    /// resolved once per route and labels (no per-request label lookup).
    pub fn record_request(&self, route: &str, backend: &str, status: u16, seconds: f64) {
        let labels = (route, backend, status_class(status));
        let vecs = (&self.requests, &self.duration);
        self.request_handles.record(vecs, labels, seconds);
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

pub const DECISIONS_TOTAL: &str = "cutover_decisions_total";
pub const OVERRIDE_REJECTED_TOTAL: &str = "cutover_override_rejected_total";

/// What decided each routed request's side, and the override cookies ignored.
pub const OPEN_STREAMS: &str = "cutover_open_streams";
pub const STREAM_MIGRATIONS_TOTAL: &str = "cutover_stream_migrations_total";

/// Open streams (SSE responses, upgraded WebSockets) and the ones cutover
/// ended because of their route's `streams` policy.
pub struct StreamMetrics {
    /// `{route, backend}`: streams open now, per side
    pub open: IntGaugeVec,
    /// `{route, reason}` reason: migrate (its side changed with a flip),
    /// max_age (`streams = "drain"`)
    pub migrations: IntCounterVec,
}

impl StreamMetrics {
    fn new() -> StreamMetrics {
        StreamMetrics {
            open: gauge(
                OPEN_STREAMS,
                "Open SSE and WebSocket streams, by route and the side they are on.",
                &["route", "backend"],
            ),
            migrations: counter(
                STREAM_MIGRATIONS_TOTAL,
                "Streams cutover ended so they reconnect: after a flip (migrate) or at max_age.",
                &["route", "reason"],
            ),
        }
    }

    fn register(&self, r: &Registry) {
        for c in [
            Box::new(self.open.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(self.migrations.clone()),
        ] {
            r.register(c).expect("metric names are unique");
        }
    }
}

pub struct OverrideMetrics {
    /// `{route, decision}` decision: `flag` (the flag file, or the guard
    /// holding a tripped route on next), `override` (a valid tester override
    /// cookie; these requests are not in the judge's windows)
    pub decisions: IntCounterVec,
    /// `{reason}` reason: malformed, bad_signature, expired, route_not_in_set,
    /// wrong_user, unknown_version (the request then follows its flag)
    pub rejected: IntCounterVec,
}

impl OverrideMetrics {
    fn new() -> OverrideMetrics {
        OverrideMetrics {
            decisions: counter(
                DECISIONS_TOTAL,
                "Routed requests by what chose their side: flag or override.",
                &["route", "decision"],
            ),
            rejected: counter(
                OVERRIDE_REJECTED_TOTAL,
                "Tester override cookies ignored, by reason.",
                &["reason"],
            ),
        }
    }

    fn register(&self, r: &Registry) {
        r.register(Box::new(self.decisions.clone()))
            .expect("metric names are unique");
        r.register(Box::new(self.rejected.clone()))
            .expect("metric names are unique");
        for reason in crate::r#override::Rejection::ALL {
            self.rejected.with_label_values(&[reason.label()]);
        }
    }
}
