//! Bounded cache of validated tokens: SHA-256(key generation ‖ source ‖ token) → identity.
//! The cache belongs to one authenticator, which a reload (e.g. a rotated secret
//! file) replaces whole, so a removed secret's tokens stop at once.
//!
//! An entry is used only while `now < exp` (never past the token's expiry), so an
//! identity without `exp` is never cached. When full, expired entries are swept
//! (at most once a second), then an arbitrary entry is dropped. Only successes
//! are stored. Uses `sha2`; time comes in as `now`.

use std::collections::HashMap;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::identity::Identity;

pub(crate) type CacheKey = [u8; 32];

/// Key of `token` as seen from `source` (e.g. `cookie:<name>` or `bearer`) under
/// the fetched key set `generation` (entries of an older key set never match).
pub(crate) fn key(source: &str, token: &str, generation: u64) -> CacheKey {
    let mut h = Sha256::new();
    h.update(generation.to_le_bytes());
    h.update(source.as_bytes());
    h.update([0u8]);
    h.update(token.as_bytes());
    h.finalize().into()
}

struct Inner {
    map: HashMap<CacheKey, Identity>,
    last_sweep: u64,
}

pub(crate) struct TokenCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

impl TokenCache {
    pub(crate) fn new(capacity: usize) -> Self {
        TokenCache {
            capacity,
            inner: Mutex::new(Inner {
                map: HashMap::new(),
                last_sweep: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the map inconsistent.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn get(&self, key: &CacheKey, now: u64) -> Option<Identity> {
        let mut inner = self.lock();
        match inner.map.get(key) {
            Some(id) if id.expires_at.is_some_and(|exp| now < exp) => Some(id.clone()),
            Some(_) => {
                inner.map.remove(key);
                None
            }
            None => None,
        }
    }

    pub(crate) fn insert(&self, key: CacheKey, identity: &Identity, now: u64) {
        if self.capacity == 0 || identity.expires_at.is_none_or(|exp| now >= exp) {
            return;
        }
        let mut inner = self.lock();
        if inner.map.len() >= self.capacity && !inner.map.contains_key(&key) {
            if inner.last_sweep != now {
                inner.last_sweep = now;
                inner
                    .map
                    .retain(|_, id| id.expires_at.is_some_and(|exp| now < exp));
            }
            if inner.map.len() >= self.capacity
                && let Some(victim) = inner.map.keys().next().copied()
            {
                inner.map.remove(&victim);
            }
        }
        inner.map.insert(key, identity.clone());
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.lock().map.len()
    }
}

#[cfg(test)]
mod tests;
