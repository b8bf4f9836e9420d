use std::time::{Duration, Instant};

use super::breaker_policy;
use crate::cap::breaker::{Breaker, BreakerState};

/// Admits and records `n` outcomes at `now`.
fn feed(breaker: &mut Breaker, n: u32, failed: bool, now: Instant) {
    let policy = breaker_policy();
    for _ in 0..n {
        if let Ok(ticket) = breaker.admit(&policy, now) {
            breaker.record(ticket, failed, &policy, now);
        }
    }
}

#[test]
fn breaker_stays_closed_below_min_requests_even_if_all_fail() {
    let mut breaker = Breaker::default();
    let t0 = Instant::now();
    feed(&mut breaker, 3, true, t0);
    assert_eq!(breaker.state(t0), BreakerState::Closed);
}

#[test]
fn breaker_opens_when_error_ratio_reaches_threshold() {
    let mut breaker = Breaker::default();
    let t0 = Instant::now();
    feed(&mut breaker, 2, false, t0);
    feed(&mut breaker, 2, true, t0);
    assert_eq!(breaker.state(t0), BreakerState::Open);
    let refused = breaker.admit(&breaker_policy(), t0 + Duration::from_secs(1));
    assert_eq!(refused, Err(Duration::from_secs(4)));
}

#[test]
fn breaker_stays_closed_when_errors_are_below_the_ratio() {
    let mut breaker = Breaker::default();
    let t0 = Instant::now();
    feed(&mut breaker, 3, false, t0);
    feed(&mut breaker, 1, true, t0);
    feed(&mut breaker, 4, false, t0);
    assert_eq!(breaker.state(t0), BreakerState::Closed);
}

#[test]
fn old_errors_leave_the_window() {
    let mut breaker = Breaker::default();
    let t0 = Instant::now();
    feed(&mut breaker, 3, true, t0);
    // 11 s later the three errors are out of the 10 s window.
    let later = t0 + Duration::from_secs(11);
    feed(&mut breaker, 3, false, later);
    feed(&mut breaker, 1, true, later);
    assert_eq!(breaker.state(later), BreakerState::Closed);
}

#[test]
fn open_breaker_half_opens_after_cooldown_and_admits_only_the_probes() {
    let policy = breaker_policy();
    let mut breaker = Breaker::default();
    let t0 = Instant::now();
    feed(&mut breaker, 4, true, t0);
    let t1 = t0 + Duration::from_secs(5);
    assert_eq!(breaker.state(t1), BreakerState::HalfOpen);
    let probe1 = breaker.admit(&policy, t1);
    let probe2 = breaker.admit(&policy, t1);
    assert!(probe1.is_ok() && probe2.is_ok());
    assert!(
        breaker.admit(&policy, t1).is_err(),
        "third request while probing"
    );
}

#[test]
fn successful_probes_close_the_breaker() {
    let policy = breaker_policy();
    let mut breaker = Breaker::default();
    let t0 = Instant::now();
    feed(&mut breaker, 4, true, t0);
    let t1 = t0 + Duration::from_secs(6);
    feed(&mut breaker, 2, false, t1);
    assert_eq!(breaker.state(t1), BreakerState::Closed);
    assert!(breaker.admit(&policy, t1).is_ok());
}

#[test]
fn failed_probe_reopens_for_another_cooldown() {
    let mut breaker = Breaker::default();
    let t0 = Instant::now();
    feed(&mut breaker, 4, true, t0);
    let t1 = t0 + Duration::from_secs(5);
    feed(&mut breaker, 1, false, t1);
    feed(&mut breaker, 1, true, t1);
    assert_eq!(breaker.state(t1), BreakerState::Open);
    assert_eq!(
        breaker.state(t1 + Duration::from_secs(5)),
        BreakerState::HalfOpen
    );
}

#[test]
fn abandoned_probe_frees_its_slot() {
    let policy = breaker_policy();
    let mut breaker = Breaker::default();
    let t0 = Instant::now();
    feed(&mut breaker, 4, true, t0);
    let t1 = t0 + Duration::from_secs(5);
    let first = breaker.admit(&policy, t1).expect("probe");
    let _second = breaker.admit(&policy, t1).expect("probe");
    assert!(breaker.admit(&policy, t1).is_err());
    breaker.abandon(first);
    assert!(breaker.admit(&policy, t1).is_ok());
}

#[test]
fn outcomes_from_before_the_breaker_opened_are_ignored() {
    let policy = breaker_policy();
    let mut breaker = Breaker::default();
    let t0 = Instant::now();
    let slow = breaker.admit(&policy, t0).expect("closed");
    feed(&mut breaker, 4, true, t0);
    let t1 = t0 + Duration::from_secs(5);
    let _probe = breaker.admit(&policy, t1).expect("probe");
    // A request admitted while closed finishes late: it is not a probe.
    breaker.record(slow, false, &policy, t1);
    breaker.record(slow, false, &policy, t1);
    assert_eq!(breaker.state(t1), BreakerState::HalfOpen);
}
