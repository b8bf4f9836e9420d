//! Open streams per route and side, and which of them must end when.
//!
//! Each open stream holds an [`Entry`]; the proxy checks `due(now)` as bytes
//! are relayed and ends the stream at the next boundary once it is due, and
//! an idle stream is woken at its deadline ([`Entry::wait_due`]).
//! [`Registry::reconcile`] runs after every config snapshot: it sets
//! `max_age` deadlines for `drain` routes and paces `migrate` routes' streams
//! whose side the flags now decide differently. Time and jitter are passed in.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;

use super::StreamPolicy;
use super::waves::Waves;
use crate::flags::Side;
use crate::route::RouteId;

/// Why a stream was ended (the `reason` label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    Migrate,
    MaxAge,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Migrate => "migrate",
            Reason::MaxAge => "max_age",
        }
    }
}

/// What the flags need to decide a stream's side again (its sticky keys).
#[derive(Debug, Clone, Default)]
pub struct StickyKeys {
    pub user: Option<String>,
    pub ip: String,
    /// Cookie and header values the route's flag was sticky on, by name.
    pub named: Vec<(String, String)>,
    /// A tester override or a fallback chose the side, not the flag: the
    /// stream is never migrated (its next request would land there again).
    pub pinned: bool,
}

/// One open stream.
#[derive(Debug)]
pub struct Entry {
    pub route: RouteId,
    pub side: Side,
    pub opened: Instant,
    pub keys: StickyKeys,
    /// When and why it must end; watched so an idle stream can be woken
    /// at its deadline instead of at its next bytes.
    deadline: watch::Sender<Option<(Instant, Reason)>>,
}

impl Entry {
    /// The reason to end this stream, once its deadline has passed.
    pub fn due(&self, now: Instant) -> Option<Reason> {
        self.get().filter(|(at, _)| *at <= now).map(|(_, r)| r)
    }

    /// Resolves once the stream's deadline has passed. `after_change`: wait
    /// for the deadline to change first (the last one already woke the
    /// stream, and it could not end there). Pending forever without one.
    pub fn wait_due(&self, after_change: bool) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.deadline.subscribe();
        async move {
            if after_change && rx.changed().await.is_err() {
                return std::future::pending().await;
            }
            loop {
                let deadline = *rx.borrow_and_update();
                let changed = match deadline {
                    Some((at, _)) => tokio::select! {
                        () = tokio::time::sleep_until(at.into()) => return,
                        changed = rx.changed() => changed,
                    },
                    None => rx.changed().await,
                };
                if changed.is_err() {
                    return std::future::pending().await;
                }
            }
        }
    }

    fn set(&self, d: Option<(Instant, Reason)>) {
        self.deadline.send_if_modified(|current| {
            let modified = *current != d;
            *current = d;
            modified
        });
    }

    fn get(&self) -> Option<(Instant, Reason)> {
        *self.deadline.borrow()
    }
}

/// Every open stream of this process.
#[derive(Debug, Default)]
pub struct Registry {
    next_id: u64,
    open: HashMap<u64, Arc<Entry>>,
    waves: HashMap<RouteId, Waves>,
}

impl Registry {
    /// Track a stream that just opened; `drain` sets its deadline now.
    pub fn open(
        &mut self,
        route: RouteId,
        side: Side,
        keys: StickyKeys,
        policy: StreamPolicy,
        now: Instant,
    ) -> (u64, Arc<Entry>) {
        let deadline = match policy {
            StreamPolicy::Drain { max_age } => Some((now + max_age, Reason::MaxAge)),
            _ => None,
        };
        let entry = Arc::new(Entry {
            route,
            side,
            opened: now,
            keys,
            deadline: watch::Sender::new(deadline),
        });
        self.next_id += 1;
        self.open.insert(self.next_id, entry.clone());
        (self.next_id, entry)
    }

    pub fn close(&mut self, id: u64) {
        self.open.remove(&id);
    }

    /// Open streams per (route, side).
    pub fn counts(&self) -> HashMap<(RouteId, Side), usize> {
        let mut out = HashMap::new();
        for e in self.open.values() {
            *out.entry((e.route.clone(), e.side)).or_insert(0) += 1;
        }
        out
    }

    /// Apply a new snapshot: `policy` of a route, `decide` the side a stream
    /// would get now. Returns how many streams were newly scheduled.
    pub fn reconcile(
        &mut self,
        policy: impl Fn(&RouteId) -> StreamPolicy,
        decide: impl Fn(&Entry) -> Side,
        now: Instant,
        jitter: &mut impl FnMut() -> f64,
    ) -> usize {
        let mut to_migrate: HashMap<RouteId, Vec<Arc<Entry>>> = HashMap::new();
        for e in self.open.values() {
            match (policy(&e.route), e.get()) {
                (StreamPolicy::Keep, Some(_)) => e.set(None),
                (StreamPolicy::Keep, None) => {}
                (StreamPolicy::Drain { max_age }, _) => {
                    e.set(Some((e.opened + max_age, Reason::MaxAge)));
                }
                (StreamPolicy::Migrate { .. }, current) => {
                    let moved = !e.keys.pinned && decide(e) != e.side;
                    match current {
                        Some((_, Reason::Migrate)) if moved => {}
                        // Flipped back before its turn: it stays.
                        Some(_) if !moved => e.set(None),
                        _ if moved => to_migrate
                            .entry(e.route.clone())
                            .or_default()
                            .push(e.clone()),
                        _ => {}
                    }
                }
            }
        }
        let mut scheduled = 0;
        for (route, mut entries) in to_migrate {
            let StreamPolicy::Migrate { pace } = policy(&route) else {
                continue;
            };
            entries.sort_by_key(|e| e.opened);
            let waves = self.waves.entry(route).or_insert_with(|| Waves::new(pace));
            waves.set_pace(pace);
            for (e, at) in entries
                .iter()
                .zip(waves.schedule(entries.len(), now, jitter))
            {
                e.set(Some((at, Reason::Migrate)));
            }
            scheduled += entries.len();
        }
        self.waves
            .retain(|r, _| matches!(policy(r), StreamPolicy::Migrate { .. }));
        scheduled
    }
}

#[cfg(test)]
mod tests;
