use std::time::{Duration, Instant};

use super::client_rate;
use crate::cap::gcra::{GcraDecision, check, is_idle};

/// Runs `n` checks at `now`, storing the state; returns how many were admitted.
fn admitted(
    tat: &mut Option<Instant>,
    n: u32,
    limit: &crate::cap::ClientRate,
    now: Instant,
) -> u32 {
    let mut ok = 0;
    for _ in 0..n {
        if let GcraDecision::Allow { tat: next } = check(*tat, limit, now) {
            *tat = Some(next);
            ok += 1;
        }
    }
    ok
}

#[test]
fn fresh_bucket_admits_the_burst_then_refuses() {
    let limit = client_rate(20, Duration::from_secs(10), 10);
    let t0 = Instant::now();
    let mut tat = None;
    assert_eq!(admitted(&mut tat, 50, &limit, t0), 10);
}

#[test]
fn empty_bucket_refills_one_request_per_emission_interval() {
    let limit = client_rate(20, Duration::from_secs(10), 10);
    let t0 = Instant::now();
    let mut tat = None;
    admitted(&mut tat, 10, &limit, t0);
    assert_eq!(
        admitted(&mut tat, 5, &limit, t0 + Duration::from_millis(499)),
        0
    );
    assert_eq!(
        admitted(&mut tat, 5, &limit, t0 + Duration::from_millis(500)),
        1
    );
    // After 10 s of silence the whole burst is back, not more.
    assert_eq!(
        admitted(&mut tat, 50, &limit, t0 + Duration::from_secs(20)),
        10
    );
}

#[test]
fn refused_request_is_told_the_exact_wait() {
    let limit = client_rate(2, Duration::from_secs(1), 1);
    let t0 = Instant::now();
    let mut tat = None;
    admitted(&mut tat, 1, &limit, t0);
    let later = t0 + Duration::from_millis(100);
    assert_eq!(
        check(tat, &limit, later),
        GcraDecision::Deny {
            wait: Duration::from_millis(400)
        }
    );
}

#[test]
fn steady_client_at_the_rate_is_never_refused() {
    let limit = client_rate(20, Duration::from_secs(10), 1);
    let t0 = Instant::now();
    let mut tat = None;
    for i in 0..100u32 {
        let now = t0 + Duration::from_millis(500) * i;
        assert_eq!(admitted(&mut tat, 1, &limit, now), 1, "request {i}");
    }
}

#[test]
fn admitted_count_over_any_interval_stays_within_burst_plus_rate() {
    let limit = client_rate(10, Duration::from_secs(1), 5);
    let t0 = Instant::now();
    let mut tat = None;
    let mut total = 0;
    // Hammer every millisecond for 3 s.
    for ms in 0..3000u64 {
        total += admitted(&mut tat, 3, &limit, t0 + Duration::from_millis(ms));
    }
    // burst + rate × t = 5 + 10 × 3 (the last token lands at exactly 3 s).
    assert!(total <= 35, "admitted {total}");
    assert!(total >= 34, "admitted {total}");
}

#[test]
fn bucket_is_idle_once_full_again() {
    let limit = client_rate(1, Duration::from_secs(1), 3);
    let t0 = Instant::now();
    let mut tat = None;
    admitted(&mut tat, 2, &limit, t0);
    let tat = tat.expect("admitted");
    assert!(!is_idle(tat, t0 + Duration::from_millis(1999)));
    assert!(is_idle(tat, t0 + Duration::from_secs(2)));
}
