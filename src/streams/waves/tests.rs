use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use super::*;

fn pace(n: u32) -> Pace {
    Pace {
        per_second: NonZeroU32::new(n).unwrap(),
    }
}

#[test]
fn a_wave_of_n_streams_takes_n_over_pace_seconds_in_order() {
    let now = Instant::now();
    let mut w = Waves::new(pace(50));
    let ends = w.schedule(200, now, &mut || 0.5);
    assert_eq!(ends.len(), 200);
    assert!(
        ends.windows(2).all(|p| p[0] < p[1]),
        "oldest first, in order"
    );
    let span = *ends.last().unwrap() - now;
    assert!(
        span >= Duration::from_millis(3980) && span < Duration::from_secs(4),
        "{span:?}"
    );
}

#[test]
fn a_second_flip_queues_behind_the_slots_already_given() {
    let now = Instant::now();
    let mut w = Waves::new(pace(10));
    let first = w.schedule(10, now, &mut || 0.0);
    let second = w.schedule(5, now + Duration::from_millis(100), &mut || 0.0);
    assert!(second[0] > *first.last().unwrap());
    assert_eq!(second[0] - now, Duration::from_secs(1));
    // Later, after the queue ran out, a wave starts at its own `now`.
    let later = now + Duration::from_secs(60);
    assert_eq!(w.schedule(1, later, &mut || 0.0)[0], later);
}

#[test]
fn retry_hint_is_a_base_plus_at_most_one_slot() {
    assert_eq!(retry_ms(Some(pace(50)), 0.0), 100);
    assert_eq!(retry_ms(Some(pace(50)), 0.99), 119);
    assert_eq!(retry_ms(None, 0.5), 600);
}

proptest! {
    /// Every end lies inside its own slot, and any one-second window holds at
    /// most pace + 1 ends, whatever the jitter.
    #[test]
    fn ends_never_exceed_pace_plus_one_per_second(
        per_second in 1u32..200,
        count in 0usize..600,
        jitters in proptest::collection::vec(0.0f64..1.0, 600),
    ) {
        let now = Instant::now();
        let mut w = Waves::new(pace(per_second));
        let mut it = jitters.into_iter();
        let ends = w.schedule(count, now, &mut || it.next().unwrap_or(0.0));
        let slot = Duration::from_secs(1) / per_second;
        for (i, end) in ends.iter().enumerate() {
            let from = now + slot * i as u32;
            prop_assert!(*end >= from && *end < from + slot);
        }
        for (i, start) in ends.iter().enumerate() {
            let in_window = ends[i..].iter().take_while(|e| **e < *start + Duration::from_secs(1)).count();
            prop_assert!(in_window as u32 <= per_second + 1);
        }
    }
}
