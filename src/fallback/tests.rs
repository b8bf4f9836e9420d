use super::*;
use RetryMethods::{AlsoNonIdempotent, Idempotent};

const WINDOW: Duration = Duration::from_secs(60);

fn budget() -> FallbackBudget {
    let b = FallbackBudget::new();
    b.configure([("r", WINDOW)]);
    b
}

fn requests(b: &FallbackBudget, n: u64, now: Instant) {
    for _ in 0..n {
        b.record_request("r", now);
    }
}

#[test]
fn fallbacks_are_refused_beyond_the_ratio() {
    let (b, t0) = (budget(), Instant::now());
    requests(&b, 100, t0);
    let taken = (0..10)
        .filter(|_| b.try_take("r", 0.05, WINDOW, t0))
        .count();
    assert_eq!(taken, 5);
}

#[test]
fn a_quiet_route_gets_no_fallback_before_it_has_traffic() {
    let (b, t0) = (budget(), Instant::now());
    requests(&b, 1, t0);
    assert!(!b.try_take("r", 0.05, WINDOW, t0));
    assert!(b.try_take("r", 1.0, WINDOW, t0));
}

#[test]
fn budget_recovers_as_the_window_slides() {
    let (b, t0) = (budget(), Instant::now());
    requests(&b, 100, t0);
    while b.try_take("r", 0.05, WINDOW, t0) {}
    let t1 = t0 + Duration::from_secs(30);
    requests(&b, 20, t1);
    assert!(
        b.try_take("r", 0.05, WINDOW, t1),
        "new requests add one fallback of room"
    );
    assert!(!b.try_take("r", 0.05, WINDOW, t1));
    // After a full window the first minute's fallbacks are forgotten.
    let t2 = t0 + Duration::from_secs(61);
    requests(&b, 40, t2);
    assert!(b.try_take("r", 0.05, WINDOW, t2));
    assert!(b.try_take("r", 0.05, WINDOW, t2));
}

#[test]
fn routes_without_a_fallback_never_take_one() {
    let (b, t0) = (budget(), Instant::now());
    b.record_request("other", t0);
    assert!(!b.try_take("other", 1.0, WINDOW, t0));
}

#[test]
fn only_idempotent_requests_before_any_byte_are_eligible() {
    assert!(eligible(
        &Method::GET,
        Idempotent,
        Failure::Connect,
        false,
        true
    ));
    assert!(eligible(
        &Method::PUT,
        Idempotent,
        Failure::Status5xx,
        false,
        true
    ));
    assert!(!eligible(
        &Method::POST,
        Idempotent,
        Failure::Timeout,
        false,
        true
    ));
    assert!(!eligible(
        &Method::GET,
        Idempotent,
        Failure::Status5xx,
        true,
        true
    ));
    assert!(!eligible(
        &Method::PUT,
        Idempotent,
        Failure::Connect,
        false,
        false
    ));
    assert_eq!(FallbackResult::OverBudget.as_str(), "over_budget");
}

#[test]
fn post_and_patch_are_eligible_only_on_routes_with_fallback_non_idempotent() {
    for method in [Method::POST, Method::PATCH] {
        for failure in [Failure::Connect, Failure::Status5xx, Failure::Timeout] {
            assert!(
                !eligible(&method, Idempotent, failure, false, true),
                "{method}"
            );
            assert!(
                eligible(&method, AlsoNonIdempotent, failure, false, true),
                "{method}"
            );
        }
    }
    assert_eq!(BudgetPolicy::default().methods, Idempotent);
}

#[test]
fn fallback_non_idempotent_keeps_the_response_started_and_replay_rules() {
    let post = &Method::POST;
    assert!(!eligible(
        post,
        AlsoNonIdempotent,
        Failure::Status5xx,
        true,
        true
    ));
    assert!(!eligible(
        post,
        AlsoNonIdempotent,
        Failure::Connect,
        false,
        false
    ));
}

#[test]
fn fallback_non_idempotent_adds_only_post_and_patch() {
    for method in [
        Method::GET,
        Method::HEAD,
        Method::OPTIONS,
        Method::PUT,
        Method::DELETE,
    ] {
        assert!(AlsoNonIdempotent.allow(&method), "{method}");
        assert!(Idempotent.allow(&method), "{method}");
    }
    let lock = Method::from_bytes(b"LOCK").unwrap();
    for method in [Method::CONNECT, Method::TRACE, lock] {
        assert!(!AlsoNonIdempotent.allow(&method), "{method}");
    }
}

#[test]
fn usage_counts_requests_and_fallbacks_in_the_window() {
    let (b, t0) = (budget(), Instant::now());
    requests(&b, 100, t0);
    assert!(b.try_take("r", 0.05, WINDOW, t0));
    assert_eq!(b.usage("r", t0), Some((100, 1)));
    assert_eq!(b.usage("r", t0 + WINDOW * 2), Some((0, 0)));
    assert_eq!(b.usage("no-fallback", t0), None);
}

#[test]
fn other_replicas_spending_counts_against_the_same_budget() {
    let t0 = Instant::now();
    let b = FallbackBudget::new();
    b.configure([("r", WINDOW)]);
    for _ in 0..100 {
        b.record_request("r", t0);
    }
    // Alone: 5 % of 100 requests.
    assert!(b.try_take("r", 0.05, WINDOW, t0));
    // Another replica saw 100 requests and already took 10 fallbacks: the
    // shared budget (5 % of 200 = 10) is spent.
    b.set_others(std::collections::HashMap::from([(
        "r".to_string(),
        (100, 10),
    )]));
    assert!(!b.try_take("r", 0.05, WINDOW, t0));
    // It goes quiet (its entry ages out): this replica's own budget again.
    b.set_others(std::collections::HashMap::new());
    assert!(b.try_take("r", 0.05, WINDOW, t0));
}
