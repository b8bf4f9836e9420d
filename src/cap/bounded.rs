//! A sharded map with a hard bound on its size, for per-key cap state.
//!
//! Keys are 64-bit SipHash digests (random keys per map, so a client cannot
//! aim collisions). When a shard is full, idle entries (state equal to a fresh
//! key) are swept; if the shard is still above 90 % of its share, arbitrary
//! entries are dropped, which at worst forgets some clients' history (fails
//! open for them) but never grows memory. Sweeps run at most once per 10 % of
//! capacity inserts, so the cost is O(1) amortized.
//! May use: std only.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, RandomState};
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

const SHARDS: usize = 16;

/// Bounded map from hashed keys to `V`.
pub struct BoundedMap<V> {
    hasher: RandomState,
    shards: Vec<Mutex<Shard<V>>>,
    per_shard: usize,
}

struct Shard<V> {
    map: HashMap<u64, V>,
}

impl<V> BoundedMap<V> {
    /// A map holding at most about `max_keys` entries (never fewer than one per shard).
    pub fn new(max_keys: usize) -> Self {
        let per_shard = max_keys.div_ceil(SHARDS).max(1);
        BoundedMap {
            hasher: RandomState::new(),
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Shard {
                        map: HashMap::new(),
                    })
                })
                .collect(),
            per_shard,
        }
    }

    /// Digest of any hashable key (a tuple of parts is fine).
    pub fn key_of<K: Hash>(&self, key: &K) -> u64 {
        self.hasher.hash_one(key)
    }

    /// Runs `f` on the entry for `key` (`None` when absent). Leaving `Some` in
    /// the slot stores it; leaving `None` removes the entry. `idle` tells which
    /// entries may be swept when room is needed.
    pub fn update<R>(
        &self,
        key: u64,
        now: Instant,
        idle: impl Fn(&V, Instant) -> bool,
        f: impl FnOnce(&mut Option<V>) -> R,
    ) -> R {
        let mut shard = self.lock(key);
        let mut slot = shard.map.remove(&key);
        let existed = slot.is_some();
        let out = f(&mut slot);
        if let Some(value) = slot {
            if !existed && shard.map.len() >= self.per_shard {
                shard.make_room(self.per_shard, now, &idle);
            }
            shard.map.insert(key, value);
        }
        out
    }

    /// Number of entries (sums all shards; for tests and gauges).
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).map.len())
            .sum()
    }

    /// True when no entry is stored.
    #[cfg(test)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The hard bound on [`len`](Self::len).
    #[cfg(test)]
    pub fn capacity(&self) -> usize {
        self.per_shard * SHARDS
    }

    fn lock(&self, key: u64) -> MutexGuard<'_, Shard<V>> {
        let index = (key as usize) % SHARDS;
        // A panic while holding the lock cannot leave a map entry half-written
        // (values are replaced whole), so a poisoned lock is safe to reuse.
        self.shards[index]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<V> Shard<V> {
    fn make_room(&mut self, cap: usize, now: Instant, idle: &impl Fn(&V, Instant) -> bool) {
        self.map.retain(|_, v| !idle(v, now));
        let target = cap - cap / 10 - 1;
        if self.map.len() > target {
            let excess = self.map.len() - target;
            let victims: Vec<u64> = self.map.keys().take(excess).copied().collect();
            for key in victims {
                self.map.remove(&key);
            }
        }
    }
}
