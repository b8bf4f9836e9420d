use super::*;

const MS: Duration = Duration::from_millis(1);

fn guard() -> Guard {
    Guard {
        max_error_ratio_delta: 0.02,
        max_p99_ratio: 1.5,
        min_requests: 50,
        window: Duration::from_secs(60),
    }
}

fn judge() -> Judge {
    let j = Judge::new();
    j.configure([("r", Duration::from_secs(60))]);
    j
}

/// `n` requests on `side`, the first `errors` of them failing, at `now`.
fn feed(j: &Judge, side: Side, n: u64, errors: u64, latency: Duration, now: Instant) {
    for i in 0..n {
        j.record("r", side, i < errors, latency, now);
    }
}

#[test]
fn rust_error_ratio_worse_by_more_than_delta_trips() {
    let (j, t0) = (judge(), Instant::now());
    feed(&j, Side::Next, 100, 1, 10 * MS, t0);
    feed(&j, Side::Rust, 100, 10, 10 * MS, t0);
    let reason = j.evaluate("r", &guard(), t0);
    assert!(
        matches!(
            reason,
            Some(TripReason::ErrorRatio {
                rust_requests: 100,
                ..
            })
        ),
        "{reason:?}"
    );
    assert!(reason.is_some_and(|r| r.to_string().contains("rust error ratio 0.1000")));
}

#[test]
fn rust_within_the_delta_does_not_trip() {
    let (j, t0) = (judge(), Instant::now());
    feed(&j, Side::Next, 100, 5, 10 * MS, t0);
    feed(&j, Side::Rust, 100, 6, 10 * MS, t0);
    assert_eq!(j.evaluate("r", &guard(), t0), None);
}

#[test]
fn rust_better_than_next_does_not_trip() {
    let (j, t0) = (judge(), Instant::now());
    feed(&j, Side::Next, 100, 50, 100 * MS, t0);
    feed(&j, Side::Rust, 100, 0, 10 * MS, t0);
    assert_eq!(j.evaluate("r", &guard(), t0), None);
}

#[test]
fn too_few_requests_on_either_side_never_trip() {
    let (j, t0) = (judge(), Instant::now());
    feed(&j, Side::Next, 100, 0, 10 * MS, t0);
    feed(&j, Side::Rust, 49, 49, 10 * MS, t0);
    assert_eq!(j.evaluate("r", &guard(), t0), None);
    let (j, t0) = (judge(), Instant::now());
    feed(&j, Side::Next, 49, 0, 10 * MS, t0);
    feed(&j, Side::Rust, 100, 100, 10 * MS, t0);
    assert_eq!(j.evaluate("r", &guard(), t0), None);
}

#[test]
fn rust_p99_above_the_ratio_trips() {
    let (j, t0) = (judge(), Instant::now());
    feed(&j, Side::Next, 100, 0, 10 * MS, t0);
    feed(&j, Side::Rust, 95, 0, 10 * MS, t0);
    feed(&j, Side::Rust, 5, 0, 40 * MS, t0);
    let reason = j.evaluate("r", &guard(), t0);
    assert!(matches!(reason, Some(TripReason::P99 { .. })), "{reason:?}");
}

#[test]
fn rust_p99_within_the_ratio_does_not_trip() {
    let (j, t0) = (judge(), Instant::now());
    feed(&j, Side::Next, 100, 0, 10 * MS, t0);
    feed(&j, Side::Rust, 100, 0, 13 * MS, t0);
    assert_eq!(j.evaluate("r", &guard(), t0), None);
    // A slow tail under 1 % does not move the p99.
    let (j, t0) = (judge(), Instant::now());
    feed(&j, Side::Next, 200, 0, 10 * MS, t0);
    feed(&j, Side::Rust, 199, 0, 10 * MS, t0);
    feed(&j, Side::Rust, 1, 0, 5000 * MS, t0);
    assert_eq!(j.evaluate("r", &guard(), t0), None);
}

#[test]
fn old_samples_leave_the_window() {
    let (j, t0) = (judge(), Instant::now());
    feed(&j, Side::Next, 100, 0, 10 * MS, t0);
    feed(&j, Side::Rust, 100, 100, 10 * MS, t0);
    assert!(
        j.evaluate("r", &guard(), t0 + Duration::from_secs(50))
            .is_some()
    );
    // Fresh healthy traffic after a full window: the bad minute is forgotten.
    let t1 = t0 + Duration::from_secs(61);
    feed(&j, Side::Next, 100, 0, 10 * MS, t1);
    feed(&j, Side::Rust, 100, 0, 10 * MS, t1);
    assert_eq!(j.evaluate("r", &guard(), t1), None);
}

#[test]
fn samples_across_buckets_add_up_within_the_window() {
    let (j, t0) = (judge(), Instant::now());
    for s in 0..10 {
        let t = t0 + Duration::from_secs(s * 5);
        feed(&j, Side::Next, 10, 0, 10 * MS, t);
        feed(&j, Side::Rust, 10, 2, 10 * MS, t);
    }
    let reason = j.evaluate("r", &guard(), t0 + Duration::from_secs(50));
    assert!(
        matches!(
            reason,
            Some(TripReason::ErrorRatio {
                rust_requests: 100,
                ..
            })
        ),
        "{reason:?}"
    );
}

#[test]
fn unconfigured_routes_are_not_recorded() {
    let (j, t0) = (judge(), Instant::now());
    j.record("other", Side::Rust, true, MS, t0);
    assert_eq!(j.evaluate("other", &guard(), t0), None);
}

#[test]
fn reconfiguring_keeps_samples_when_the_window_is_unchanged() {
    let (j, t0) = (judge(), Instant::now());
    feed(&j, Side::Next, 100, 0, 10 * MS, t0);
    feed(&j, Side::Rust, 100, 100, 10 * MS, t0);
    j.configure([
        ("r", Duration::from_secs(60)),
        ("s", Duration::from_secs(10)),
    ]);
    assert!(j.evaluate("r", &guard(), t0).is_some());
    j.configure([("r", Duration::from_secs(30))]);
    assert_eq!(
        j.evaluate(
            "r",
            &Guard {
                window: Duration::from_secs(30),
                ..guard()
            },
            t0
        ),
        None
    );
}

#[test]
fn reset_forgets_a_route() {
    let (j, t0) = (judge(), Instant::now());
    feed(&j, Side::Next, 100, 0, 10 * MS, t0);
    feed(&j, Side::Rust, 100, 100, 10 * MS, t0);
    j.reset("r");
    assert_eq!(j.evaluate("r", &guard(), t0), None);
}

#[test]
fn a_trip_holds_until_the_flag_fingerprint_changes() {
    let latch = TripLatch::new();
    assert!(!latch.is_tripped("r", b"v1"));
    let reason = TripReason::ErrorRatio {
        rust: 0.5,
        next: 0.0,
        max_delta: 0.02,
        rust_requests: 60,
        next_requests: 60,
    };
    assert!(latch.trip("r", reason.clone(), b"v1"));
    assert!(
        !latch.trip("r", reason.clone(), b"v1"),
        "a second trip is not news"
    );
    assert!(latch.is_tripped("r", b"v1"));
    assert!(!latch.is_tripped("other", b"v1"));
    assert_eq!(latch.tripped(), vec![("r".to_string(), reason)]);
    assert!(
        !latch.is_tripped("r", b"v2"),
        "editing the flag file clears the trip"
    );
    assert!(!latch.is_tripped("r", b"v1"));
    assert!(latch.tripped().is_empty());
}

#[test]
fn latency_quantiles_are_within_fifteen_percent() {
    let mut h = latency::Histogram::default();
    for ms in 1..=100 {
        h.add(Duration::from_millis(ms));
    }
    let p50 = h.quantile(0.5).as_secs_f64();
    let p99 = h.quantile(0.99).as_secs_f64();
    assert!((0.050..=0.050 * 1.15).contains(&p50), "{p50}");
    assert!((0.099..=0.099 * 1.15).contains(&p99), "{p99}");
    assert_eq!(latency::Histogram::default().quantile(0.99), Duration::ZERO);
}

#[test]
fn stage_follows_shadow_canary_and_trip() {
    assert_eq!(Stage::of(0, 0, false), Stage::Next);
    assert_eq!(Stage::of(0, 5, false), Stage::Shadow);
    assert_eq!(Stage::of(10, 5, false), Stage::Canary);
    assert_eq!(Stage::of(100, 5, false), Stage::Rust);
    assert_eq!(Stage::of(100, 0, true), Stage::Tripped);
    let labels: Vec<&str> = Stage::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(labels, ["next", "shadow", "canary", "rust", "tripped"]);
}

#[test]
fn summary_reports_each_side_over_the_window_and_changes_nothing() {
    let (j, t0) = (judge(), Instant::now());
    feed(&j, Side::Next, 40, 0, 10 * MS, t0);
    feed(&j, Side::Rust, 20, 5, 30 * MS, t0);
    let s = j.summary("r", t0).unwrap();
    assert_eq!(s.window, Duration::from_secs(60));
    assert_eq!((s.next.requests, s.next.errors), (40, 0));
    assert_eq!((s.rust.requests, s.rust.errors), (20, 5));
    assert!(
        s.rust.p99 >= 30 * MS && s.rust.p99 <= 35 * MS,
        "{:?}",
        s.rust.p99
    );
    assert_eq!(j.summary("r", t0), Some(s), "reading twice gives the same");
    let later = j.summary("r", t0 + Duration::from_secs(61)).unwrap();
    assert_eq!(later.next.requests + later.rust.requests, 0);
    assert_eq!(j.summary("unguarded", t0), None);
}

#[test]
fn reason_reads_a_trip_without_clearing_it() {
    let latch = TripLatch::new();
    let reason = TripReason::ErrorRatio {
        rust: 1.0,
        next: 0.0,
        max_delta: 0.2,
        rust_requests: 5,
        next_requests: 5,
    };
    assert_eq!(latch.reason("r", b"v1"), None);
    latch.trip("r", reason.clone(), b"v1");
    assert_eq!(latch.reason("r", b"v1"), Some(reason));
    assert_eq!(
        latch.reason("r", b"v2"),
        None,
        "another flag file: not tripped"
    );
    assert!(latch.is_tripped("r", b"v1"), "reading cleared nothing");
}
