use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use super::*;
use crate::streams::Pace;

fn route(id: &str) -> RouteId {
    RouteId::parse(id).unwrap()
}

fn migrate(per_second: u32) -> StreamPolicy {
    StreamPolicy::Migrate {
        pace: Pace {
            per_second: NonZeroU32::new(per_second).unwrap(),
        },
    }
}

#[test]
fn a_flip_schedules_only_streams_whose_side_changes_oldest_first_and_paced() {
    let t0 = Instant::now();
    let mut reg = Registry::default();
    let mut entries = Vec::new();
    for i in 0..20u64 {
        let side = if i % 2 == 0 { Side::Next } else { Side::Rust };
        let keys = StickyKeys::default();
        let (_, e) = reg.open(
            route("r"),
            side,
            keys,
            migrate(10),
            t0 + Duration::from_millis(i),
        );
        entries.push(e);
    }
    let n = reg.reconcile(|_| migrate(10), |_| Side::Rust, t0, &mut || 0.0);
    assert_eq!(n, 10);
    let late = t0 + Duration::from_secs(10);
    for (i, e) in entries.iter().enumerate() {
        let due = e.due(late);
        assert_eq!(due.is_some(), i % 2 == 0, "stream {i}");
    }
    // Oldest first, one per 100 ms.
    assert_eq!(entries[0].due(t0), Some(Reason::Migrate));
    assert_eq!(entries[2].due(t0 + Duration::from_millis(99)), None);
    assert!(entries[2].due(t0 + Duration::from_millis(100)).is_some());
    // A second reconcile with the same decision does not reschedule.
    assert_eq!(
        reg.reconcile(|_| migrate(10), |_| Side::Rust, t0, &mut || 0.0),
        0
    );
}

#[test]
fn flipping_back_before_its_turn_keeps_the_stream() {
    let t0 = Instant::now();
    let mut reg = Registry::default();
    let (_, e) = reg.open(
        route("r"),
        Side::Next,
        StickyKeys::default(),
        migrate(1),
        t0,
    );
    let (_, f) = reg.open(
        route("r"),
        Side::Next,
        StickyKeys::default(),
        migrate(1),
        t0,
    );
    reg.reconcile(|_| migrate(1), |_| Side::Rust, t0, &mut || 0.0);
    reg.reconcile(|_| migrate(1), |_| Side::Next, t0, &mut || 0.0);
    assert_eq!(e.due(t0 + Duration::from_secs(60)), None);
    assert_eq!(f.due(t0 + Duration::from_secs(60)), None);
}

#[test]
fn drain_ends_each_stream_at_max_age_and_keep_never() {
    let t0 = Instant::now();
    let max_age = Duration::from_secs(5);
    let drain = StreamPolicy::Drain { max_age };
    let mut reg = Registry::default();
    let (_, e) = reg.open(route("r"), Side::Next, StickyKeys::default(), drain, t0);
    assert_eq!(e.due(t0 + Duration::from_millis(4999)), None);
    assert_eq!(e.due(t0 + max_age), Some(Reason::MaxAge));
    reg.reconcile(|_| StreamPolicy::Keep, |_| Side::Rust, t0, &mut || 0.0);
    assert_eq!(e.due(t0 + Duration::from_secs(3600)), None);
}

#[test]
fn counts_are_per_route_and_side_and_close_forgets() {
    let t0 = Instant::now();
    let mut reg = Registry::default();
    let (a, _) = reg.open(
        route("r"),
        Side::Next,
        StickyKeys::default(),
        StreamPolicy::Keep,
        t0,
    );
    reg.open(
        route("r"),
        Side::Rust,
        StickyKeys::default(),
        StreamPolicy::Keep,
        t0,
    );
    assert_eq!(reg.counts().get(&(route("r"), Side::Next)), Some(&1));
    reg.close(a);
    assert_eq!(reg.counts().get(&(route("r"), Side::Next)), None);
    assert_eq!(reg.counts().get(&(route("r"), Side::Rust)), Some(&1));
}

#[test]
fn a_late_stream_whose_slot_was_taken_moves_to_the_next_free_one() {
    let t0 = Instant::now();
    let mut reg = Registry::default();
    let entries: Vec<_> = (0..3)
        .map(|i| {
            let at = t0 + Duration::from_millis(i);
            reg.open(
                route("r"),
                Side::Next,
                StickyKeys::default(),
                migrate(10),
                at,
            )
            .1
        })
        .collect();
    reg.reconcile(|_| migrate(10), |_| Side::Rust, t0, &mut || 0.0);
    // All three come late, together, 1 s after the flip.
    let late = t0 + Duration::from_secs(1);
    assert_eq!(
        reg.take_turn(&entries[0], late, &mut || 0.0),
        Some(Reason::Migrate)
    );
    assert_eq!(reg.take_turn(&entries[1], late, &mut || 0.0), None);
    assert_eq!(reg.take_turn(&entries[2], late, &mut || 0.0), None);
    // They end in the next two slots, without asking the gate again.
    let (second, third) = (
        late + Duration::from_millis(100),
        late + Duration::from_millis(200),
    );
    assert_eq!(entries[1].due(second - Duration::from_millis(1)), None);
    assert_eq!(
        reg.take_turn(&entries[1], second, &mut || 0.0),
        Some(Reason::Migrate)
    );
    assert_eq!(
        reg.take_turn(&entries[2], third, &mut || 0.0),
        Some(Reason::Migrate)
    );
}

/// The regression behind issue 15's slow tail: a stream woken at its turn
/// whose slot was taken must be woken again at the later instant the gate
/// gave it, not left to its next bytes (an idle SSE stream: 15 s later).
#[tokio::test]
async fn a_stream_moved_by_the_gate_is_woken_at_its_new_turn() {
    let t0 = Instant::now();
    let mut reg = Registry::default();
    let (_, a) = reg.open(
        route("r"),
        Side::Next,
        StickyKeys::default(),
        migrate(10),
        t0,
    );
    let (_, b) = reg.open(
        route("r"),
        Side::Next,
        StickyKeys::default(),
        migrate(10),
        t0,
    );
    reg.reconcile(|_| migrate(10), |_| Side::Rust, t0, &mut || 0.0);
    let late = t0 + Duration::from_millis(150);
    tokio::time::sleep_until(late.into()).await;
    // Both are due; a takes the slot, b is moved to the next one.
    b.wait_due(false).await;
    assert_eq!(reg.take_turn(&a, late, &mut || 0.0), Some(Reason::Migrate));
    assert_eq!(reg.take_turn(&b, late, &mut || 0.5), None);
    let wake = tokio::time::timeout(Duration::from_secs(5), b.wait_due(true)).await;
    assert!(wake.is_ok(), "the moved stream was never woken");
    let now = Instant::now();
    assert!(
        now >= late + Duration::from_millis(150),
        "woken before its new turn"
    );
    assert_eq!(reg.take_turn(&b, now, &mut || 0.0), Some(Reason::Migrate));
    // A wake-up that could not end it (mid-event) is not repeated for the
    // same passed deadline: the next bytes end it.
    let again = tokio::time::timeout(Duration::from_millis(300), b.wait_due(true)).await;
    assert!(
        again.is_err(),
        "woken again for a deadline that already woke it"
    );
}
