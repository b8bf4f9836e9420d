// Copyright 2026 Cloudflare, Inc.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
// http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

//! cutover patch 1: the pool's maps are keyed by integers that are not
//! chosen by a client — a connection's file descriptor and a group key that
//! is already a hash of the peer — so they need no DoS-resistant SipHash
//! (std's `RandomState`, DashMap's default). Each release and reuse of a
//! pooled connection hashed such a key six times. One multiply each here
//! (the FxHash step): the high bits, which hashbrown's control bytes and
//! DashMap's shard choice read, are well mixed, and the low bits of an odd
//! multiple spread consecutive descriptors over the LRU's shards.

use std::hash::{BuildHasherDefault, Hasher};

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// A multiply-and-rotate hasher for integer keys.
#[derive(Default, Clone, Copy)]
pub struct IntHasher(u64);

impl IntHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for IntHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.add(b as u64);
        }
    }

    #[inline]
    fn write_u32(&mut self, n: u32) {
        self.add(n as u64);
    }

    #[inline]
    fn write_i32(&mut self, n: i32) {
        self.add(n as u32 as u64);
    }

    #[inline]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
}

/// The `BuildHasher` for [`IntHasher`].
pub type BuildIntHasher = BuildHasherDefault<IntHasher>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::{BuildHasher, Hash};

    fn hash<K: Hash>(k: K) -> u64 {
        BuildIntHasher::default().hash_one(k)
    }

    #[test]
    fn consecutive_descriptors_fill_every_lru_shard_evenly() {
        let mut per_shard = [0usize; crate::lru::N_SHARDS];
        for fd in 10..10 + 16 * 64 {
            per_shard[hash(fd as i32) as usize % crate::lru::N_SHARDS] += 1;
        }
        assert!(per_shard.iter().all(|&n| n == 64), "{per_shard:?}");
    }

    #[test]
    fn distinct_keys_hash_apart_in_the_high_bits() {
        // hashbrown's control byte is the top 7 bits: consecutive keys must
        // not share it all.
        let tops: std::collections::HashSet<u64> = (0..64u64).map(|k| hash(k) >> 57).collect();
        assert!(tops.len() > 32, "{} distinct top-7-bit values", tops.len());
    }
}
