use std::time::{Duration, Instant};

use crate::cap::bounded::BoundedMap;

/// Entries are `true` while live.
fn touch(map: &BoundedMap<bool>, key: u64, live: bool, now: Instant) {
    map.update(key, now, |live, _| !*live, |slot| *slot = Some(live));
}

#[test]
fn map_never_grows_past_its_capacity_under_a_storm_of_new_keys() {
    let map = BoundedMap::new(1000);
    let now = Instant::now();
    for i in 0..50_000u64 {
        let key = map.key_of(&i);
        touch(&map, key, true, now);
        assert!(map.len() <= map.capacity());
    }
    assert!(map.capacity() <= 1000 + 16);
}

#[test]
fn idle_entries_are_evicted_before_live_ones() {
    let map = BoundedMap::new(64);
    let now = Instant::now();
    let live = map.key_of(&"live client");
    touch(&map, live, true, now);
    for i in 0..10_000u64 {
        touch(&map, map.key_of(&i), false, now + Duration::from_millis(i));
    }
    let still_there = map.update(live, now, |_, _| false, |slot| slot.is_some());
    assert!(still_there);
    assert!(map.len() <= map.capacity());
}

#[test]
fn leaving_none_in_the_slot_removes_the_entry() {
    let map = BoundedMap::new(64);
    let now = Instant::now();
    let key = map.key_of(&1u8);
    touch(&map, key, true, now);
    map.update(key, now, |_, _| false, |slot| *slot = None);
    assert!(map.is_empty());
}
