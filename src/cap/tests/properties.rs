//! Property tests of the two window guarantees the storm bound relies on.

use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::{client_rate, rate};
use crate::cap::channel::ChannelLog;
use crate::cap::gcra::{GcraDecision, check};

/// Sorted request offsets in ms.
fn arrivals() -> impl Strategy<Value = Vec<u64>> {
    prop::collection::vec(0u64..5_000, 1..300).prop_map(|mut v| {
        v.sort_unstable();
        v
    })
}

proptest! {
    #[test]
    fn gcra_admits_at_most_burst_plus_rate_times_t_in_any_window(
        times in arrivals(),
        count in 1u32..20,
        per_ms in 100u64..5_000,
        burst in 1u32..10,
    ) {
        let limit = client_rate(count, Duration::from_millis(per_ms), burst);
        let interval = limit.rate.emission_interval();
        let t0 = Instant::now();
        let mut tat = None;
        let mut admitted = Vec::new();
        for ms in times {
            let now = t0 + Duration::from_millis(ms);
            if let GcraDecision::Allow { tat: next } = check(tat, &limit, now) {
                tat = Some(next);
                admitted.push(now);
            }
        }
        for i in 0..admitted.len() {
            for j in i..admitted.len() {
                let span = admitted[j] - admitted[i];
                let bound = u128::from(burst) + span.as_nanos() / interval.as_nanos();
                prop_assert!((j - i + 1) as u128 <= bound, "{} in {span:?}", j - i + 1);
            }
        }
    }

    #[test]
    fn channel_log_admits_at_most_count_in_any_window(
        times in arrivals(),
        count in 1u32..10,
        per_ms in 100u64..3_000,
    ) {
        let limit = rate(count, Duration::from_millis(per_ms));
        let t0 = Instant::now();
        let mut log = ChannelLog::default();
        let admitted: Vec<Instant> = times
            .into_iter()
            .map(|ms| t0 + Duration::from_millis(ms))
            .filter(|now| log.check(&limit, *now).is_ok())
            .collect();
        for (i, start) in admitted.iter().enumerate() {
            let inside = admitted[i..].iter().take_while(|t| **t - *start < limit.per).count();
            prop_assert!(inside <= count as usize);
        }
    }
}
