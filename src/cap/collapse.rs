//! Collapsing of identical in-flight requests plus a short positive cache.
//!
//! The first caller with a [`CollapseKey`] runs the backend call (Leader);
//! callers arriving while it runs wait and share its result (Follower); a
//! successful (`Ok`) result is then served for `ttl` without calling the
//! backend (CacheHit). `Err` results are shared with the waiting followers but
//! never cached. If a leader is cancelled, its followers elect a new leader.
//! The cache is bounded; in-flight entries are bounded by concurrency.
//! May use: tokio `watch`, `sha2`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::key::ClientKey;

/// Identity of a request for collapsing: a SHA-256 over its parts, so the map
/// holds 32 bytes per key whatever the clients send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CollapseKey([u8; 32]);

impl CollapseKey {
    /// The key the realtime auth routes use: `(route, client, socket_id, channel_name)`.
    pub fn new(route: &str, client: &ClientKey, socket_id: &str, channel: &str) -> Self {
        let client = client.storage_key();
        Self::from_parts(&[
            route.as_bytes(),
            client.as_bytes(),
            socket_id.as_bytes(),
            channel.as_bytes(),
        ])
    }

    /// Any list of parts (length-prefixed, so `["ab","c"] != ["a","bc"]`).
    pub fn from_parts(parts: &[&[u8]]) -> Self {
        let mut hash = Sha256::new();
        for part in parts {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        CollapseKey(hash.finalize().into())
    }
}

/// How a caller got its answer; Follower and CacheHit are the
/// `cutover_cap_collapsed_total` and `cutover_cap_cache_hits_total` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CollapseRole {
    Leader,
    Follower,
    CacheHit,
}

type Shared<V, E> = Option<Result<V, E>>;

enum Slot<V, E> {
    InFlight {
        id: u64,
        result: watch::Receiver<Shared<V, E>>,
    },
    Cached {
        value: V,
        expires: Instant,
    },
}

struct Inner<V, E> {
    slots: HashMap<CollapseKey, Slot<V, E>>,
    next_id: u64,
}

/// Collapses calls per key. `V` is the successful answer, `E` the failed one.
pub struct Collapser<V, E = V> {
    inner: Mutex<Inner<V, E>>,
    max_entries: usize,
}

enum Join<V, E> {
    Cached(V),
    Follow(watch::Receiver<Shared<V, E>>),
    Lead(watch::Sender<Shared<V, E>>, u64),
}

impl<V: Clone + Send + Sync, E: Clone + Send + Sync> Collapser<V, E> {
    /// A collapser caching at most about `max_entries` answers.
    pub fn new(max_entries: usize) -> Self {
        Collapser {
            inner: Mutex::new(Inner {
                slots: HashMap::new(),
                next_id: 0,
            }),
            max_entries: max_entries.max(1),
        }
    }

    /// Waits for an in-flight call with this key, or returns a fresh cached
    /// `Ok` answer, or runs `f` and shares its result. `ttl` zero = no cache.
    pub async fn run<F, Fut>(
        &self,
        key: CollapseKey,
        ttl: Duration,
        now: Instant,
        f: F,
    ) -> (Result<V, E>, CollapseRole)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let (sender, id) = loop {
            match self.join(key, now) {
                Join::Cached(value) => return (Ok(value), CollapseRole::CacheHit),
                Join::Lead(sender, id) => break (sender, id),
                Join::Follow(mut result) => {
                    if let Ok(shared) = result.wait_for(Option::is_some).await
                        && let Some(answer) = shared.clone()
                    {
                        return (answer, CollapseRole::Follower);
                    }
                    // The leader was cancelled: try again (maybe as leader).
                }
            }
        };
        let mut guard = LeaderGuard {
            collapser: self,
            key,
            id,
            sender: Some(sender),
        };
        let result = f().await;
        guard.complete(&result, ttl, now);
        (result, CollapseRole::Leader)
    }

    /// Entries held (in flight + cached, including expired ones not yet swept).
    pub fn len(&self) -> usize {
        self.lock().slots.len()
    }

    /// True when nothing is in flight or cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn join(&self, key: CollapseKey, now: Instant) -> Join<V, E> {
        let mut inner = self.lock();
        match inner.slots.get(&key) {
            Some(Slot::Cached { value, expires }) if now < *expires => {
                return Join::Cached(value.clone());
            }
            Some(Slot::InFlight { result, .. }) => return Join::Follow(result.clone()),
            _ => {}
        }
        let (sender, result) = watch::channel(None);
        inner.next_id += 1;
        let id = inner.next_id;
        inner.slots.insert(key, Slot::InFlight { id, result });
        Join::Lead(sender, id)
    }

    fn lock(&self) -> MutexGuard<'_, Inner<V, E>> {
        // Slots are replaced whole, so a poisoned lock holds consistent data.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Owned by the leader; removes its in-flight slot if the leader is dropped
/// before completing, which wakes the followers to elect a new leader.
struct LeaderGuard<'a, V, E> {
    collapser: &'a Collapser<V, E>,
    key: CollapseKey,
    id: u64,
    sender: Option<watch::Sender<Shared<V, E>>>,
}

impl<V: Clone + Send + Sync, E: Clone + Send + Sync> LeaderGuard<'_, V, E> {
    fn complete(&mut self, result: &Result<V, E>, ttl: Duration, now: Instant) {
        {
            let max = self.collapser.max_entries;
            let mut inner = self.collapser.lock();
            let ours = matches!(inner.slots.get(&self.key), Some(Slot::InFlight { id, .. }) if *id == self.id);
            if ours {
                inner.slots.remove(&self.key);
                if let (Ok(value), false) = (result, ttl.is_zero()) {
                    make_room(&mut inner.slots, max, now);
                    if inner.slots.len() < max {
                        let expires = now + ttl;
                        let value = value.clone();
                        inner
                            .slots
                            .insert(self.key, Slot::Cached { value, expires });
                    }
                }
            }
        }
        if let Some(sender) = self.sender.take() {
            sender.send_replace(Some(result.clone()));
        }
    }
}

impl<V, E> Drop for LeaderGuard<'_, V, E> {
    fn drop(&mut self) {
        if self.sender.is_some() {
            let mut inner = self
                .collapser
                .inner
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if matches!(inner.slots.get(&self.key), Some(Slot::InFlight { id, .. }) if *id == self.id)
            {
                inner.slots.remove(&self.key);
            }
        }
        // `sender` drops after the slot is gone: followers retry cleanly.
    }
}

/// Sweeps expired answers once the map is full; if still above 90 %, drops
/// arbitrary cached answers (never in-flight slots). O(1) amortized.
fn make_room<V, E>(slots: &mut HashMap<CollapseKey, Slot<V, E>>, max: usize, now: Instant) {
    if slots.len() < max {
        return;
    }
    slots.retain(|_, slot| !matches!(slot, Slot::Cached { expires, .. } if *expires <= now));
    let target = max - max / 10;
    if slots.len() >= target {
        let excess = slots.len() + 1 - target;
        let victims: Vec<CollapseKey> = slots
            .iter()
            .filter(|(_, slot)| matches!(slot, Slot::Cached { .. }))
            .map(|(key, _)| *key)
            .take(excess)
            .collect();
        for key in victims {
            slots.remove(&key);
        }
    }
}
