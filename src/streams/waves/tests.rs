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

#[test]
fn ends_on_time_each_take_their_own_slot() {
    let now = Instant::now();
    let mut w = Waves::new(pace(10));
    let due = w.schedule(5, now, &mut || 0.5);
    for at in due {
        assert_eq!(w.take_turn(at, &mut || 0.5), Turn::Now);
    }
}

#[test]
fn late_ends_are_pushed_back_one_slot_each_never_a_burst() {
    let now = Instant::now();
    let mut w = Waves::new(pace(10));
    let due = w.schedule(20, now, &mut || 0.0);
    // The proxy stalled for 1.05 s: the first eleven streams are all due at once.
    let late = now + Duration::from_millis(1050);
    assert!(due[10] <= late);
    assert_eq!(w.take_turn(late, &mut || 0.0), Turn::Now);
    for k in 1..11u32 {
        // The slot of `late` is [1.05 s, 1.15 s): the next free ones follow it.
        let want = late + Duration::from_millis(100) * k;
        assert_eq!(w.take_turn(late, &mut || 0.0), Turn::At(want), "stream {k}");
    }
    // A stream due later than the pushed-back queue waits behind it too.
    assert_eq!(
        w.take_turn(late + Duration::from_millis(300), &mut || 0.5),
        Turn::At(late + Duration::from_millis(1150))
    );
    // Once the queue has run out, an end at its own time goes through.
    assert_eq!(
        w.take_turn(now + Duration::from_secs(5), &mut || 0.5),
        Turn::Now
    );
}

proptest! {
    /// However late and bunched the ends run, the gate lets at most pace + 1
    /// of them through in any one-second window, each no earlier than asked.
    #[test]
    fn gated_ends_never_exceed_pace_plus_one_per_second(
        per_second in 1u32..200,
        gaps_ms in proptest::collection::vec(prop_oneof![Just(0u64), 0u64..30, 0u64..2000], 1..400),
        jitters in proptest::collection::vec(0.0f64..1.0, 400),
    ) {
        let t0 = Instant::now();
        let mut w = Waves::new(pace(per_second));
        let mut jit = jitters.into_iter().cycle();
        let mut asked = t0;
        let mut ends = Vec::new();
        for gap in gaps_ms {
            asked += Duration::from_millis(gap);
            let end = match w.take_turn(asked, &mut || jit.next().unwrap_or(0.0)) {
                Turn::Now => asked,
                Turn::At(at) => at,
            };
            prop_assert!(end >= asked);
            ends.push(end);
        }
        ends.sort();
        for (i, start) in ends.iter().enumerate() {
            let in_window = ends[i..].iter().take_while(|e| **e < *start + Duration::from_secs(1)).count();
            prop_assert!(in_window as u32 <= per_second + 1, "{in_window} ends in one second at {per_second}/s");
        }
    }


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
