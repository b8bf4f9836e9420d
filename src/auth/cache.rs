//! Bounded cache of validated tokens: (key generation, source, token) → identity.
//! The cache belongs to one authenticator, which a reload (e.g. a rotated secret
//! file) replaces whole, so a removed secret's tokens stop at once.
//!
//! The map is keyed by a fast keyed hash of the token (foldhash, seeded per
//! cache from the OS RNG, so outsiders cannot aim collisions at it); a hit is
//! confirmed by comparing the stored token in constant time, so two tokens whose
//! hashes collide never get each other's identity. Each entry keeps its token
//! (at most the configured token size), which is what makes the check exact.
//!
//! An entry is used only while `now < exp` (never past the token's expiry), so an
//! identity without `exp` is never cached. When full, expired entries are swept
//! (at most once a second), then an arbitrary entry is dropped. Only successes
//! are stored. Time comes in as `now`.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Mutex;

use foldhash::SharedSeed;
use foldhash::quality::SeedableRandomState;

use crate::identity::Identity;

/// Where a token was presented: the same token from elsewhere is another entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Source<'a> {
    Bearer,
    /// The session cookie of this name.
    Cookie(&'a str),
}

/// A token as looked up: borrowed (a lookup copies nothing) plus its hash
/// under this cache's seed. Made by [`TokenCache::key`].
pub(crate) struct CacheKey<'a> {
    hash: u64,
    generation: u64,
    source: Source<'a>,
    token: &'a str,
}

struct Entry {
    generation: u64,
    cookie: Option<Box<str>>,
    token: Box<str>,
    identity: Identity,
}

impl Entry {
    /// Whether this entry is `key`'s: exact, the token compared in constant time.
    fn is_for(&self, key: &CacheKey<'_>) -> bool {
        let source = match &self.cookie {
            Some(name) => Source::Cookie(name),
            None => Source::Bearer,
        };
        self.generation == key.generation
            && source == key.source
            && same_bytes(self.token.as_bytes(), key.token.as_bytes())
    }
}

/// `a == b` in time that depends only on the lengths: no exit at the first
/// differing byte, so response timing does not tell how much of a guess matched.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

struct Inner {
    map: HashMap<u64, Entry>,
    last_sweep: u64,
}

pub(crate) struct TokenCache {
    capacity: usize,
    hasher: SeedableRandomState,
    inner: Mutex<Inner>,
}

impl TokenCache {
    pub(crate) fn new(capacity: usize) -> Self {
        TokenCache {
            capacity,
            hasher: SeedableRandomState::with_seed(rand::random(), SharedSeed::global_random()),
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                last_sweep: 0,
            }),
        }
    }

    /// Key of `token` as seen from `source` under the fetched key set
    /// `generation` (entries of an older key set never match).
    pub(crate) fn key<'a>(
        &self,
        source: Source<'a>,
        token: &'a str,
        generation: u64,
    ) -> CacheKey<'a> {
        CacheKey {
            hash: self.hasher.hash_one((generation, source, token)),
            generation,
            source,
            token,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the map inconsistent.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn get(&self, key: &CacheKey<'_>, now: u64) -> Option<Identity> {
        let mut inner = self.lock();
        let entry = inner.map.get(&key.hash).filter(|e| e.is_for(key))?;
        if entry.identity.expires_at.is_some_and(|exp| now < exp) {
            return Some(entry.identity.clone());
        }
        inner.map.remove(&key.hash);
        None
    }

    pub(crate) fn insert(&self, key: &CacheKey<'_>, identity: &Identity, now: u64) {
        if self.capacity == 0 || identity.expires_at.is_none_or(|exp| now >= exp) {
            return;
        }
        let mut inner = self.lock();
        if inner.map.len() >= self.capacity && !inner.map.contains_key(&key.hash) {
            if inner.last_sweep != now {
                inner.last_sweep = now;
                inner
                    .map
                    .retain(|_, e| e.identity.expires_at.is_some_and(|exp| now < exp));
            }
            if inner.map.len() >= self.capacity
                && let Some(victim) = inner.map.keys().next().copied()
            {
                inner.map.remove(&victim);
            }
        }
        // A colliding entry of another token is replaced (it is only a cache).
        let entry = Entry {
            generation: key.generation,
            cookie: match key.source {
                Source::Cookie(name) => Some(name.into()),
                Source::Bearer => None,
            },
            token: key.token.into(),
            identity: identity.clone(),
        };
        inner.map.insert(key.hash, entry);
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().map.len()
    }
}

#[cfg(test)]
mod tests;
