//! Open streams per route and side, and which of them must end when.
//!
//! Each open stream holds an [`Entry`]; the proxy checks `due(now)` as bytes
//! are relayed and, once it is due and at a boundary, asks
//! [`Registry::take_turn`] whether it may end now (a migration's ends are
//! gated to the pace: see [`super::waves`]); an idle stream is woken at its
//! deadline ([`Entry::wait_due`]).
//! [`Registry::reconcile`] runs after every config snapshot: it sets
//! `max_age` deadlines for `drain` routes and paces `migrate` routes' streams
//! whose side the flags now decide differently. Time and jitter are passed in.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::watch;

use super::StreamPolicy;
use super::waves::{Turn, Waves};
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
    deadline: watch::Sender<Option<Deadline>>,
}

/// When a stream must end, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Deadline {
    at: Instant,
    reason: Reason,
    /// The migration gate gave it this instant: it ends then without
    /// asking again.
    turn: bool,
}

impl Deadline {
    fn new(at: Instant, reason: Reason) -> Deadline {
        Deadline {
            at,
            reason,
            turn: false,
        }
    }
}

impl Entry {
    /// The reason to end this stream, once its deadline has passed.
    pub fn due(&self, now: Instant) -> Option<Reason> {
        self.get().filter(|d| d.at <= now).map(|d| d.reason)
    }

    /// Resolves once the stream's deadline has passed. `woken`: a wake-up
    /// already fired and the stream could not end there (mid-event,
    /// mid-frame: its next bytes will), so a deadline that has passed by now
    /// is not waited for again — but one the gate moved later is.
    /// Pending forever without a deadline.
    pub fn wait_due(&self, woken: bool) -> impl Future<Output = ()> + Send + 'static {
        let mut rx = self.deadline.subscribe();
        let now = Instant::now();
        let skip = self.get().filter(|d| woken && d.at <= now);
        async move {
            loop {
                let deadline = *rx.borrow_and_update();
                let changed = match deadline {
                    Some(d) if Some(d) != skip => tokio::select! {
                        () = tokio::time::sleep_until(d.at.into()) => return,
                        changed = rx.changed() => changed,
                    },
                    _ => rx.changed().await,
                };
                if changed.is_err() {
                    return std::future::pending().await;
                }
            }
        }
    }

    fn set(&self, d: Option<Deadline>) {
        self.deadline.send_if_modified(|current| {
            let modified = *current != d;
            *current = d;
            modified
        });
    }

    fn get(&self) -> Option<Deadline> {
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
            StreamPolicy::Drain { max_age } => Some(Deadline::new(now + max_age, Reason::MaxAge)),
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

    /// A due stream `e`, at a boundary where it could end, asks to end at
    /// `now`: the reason to end it now, or `None` (not due, or the gate
    /// gave it a later instant: its deadline moves there).
    pub fn take_turn(
        &mut self,
        e: &Entry,
        now: Instant,
        jitter: &mut impl FnMut() -> f64,
    ) -> Option<Reason> {
        let d = e.get().filter(|d| d.at <= now)?;
        if d.reason != Reason::Migrate || d.turn {
            return Some(d.reason);
        }
        let Some(waves) = self.waves.get_mut(&e.route) else {
            return Some(d.reason);
        };
        match waves.take_turn(now, jitter) {
            Turn::Now => Some(d.reason),
            Turn::At(at) => {
                e.set(Some(Deadline {
                    at,
                    reason: d.reason,
                    turn: true,
                }));
                None
            }
        }
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
                    e.set(Some(Deadline::new(e.opened + max_age, Reason::MaxAge)));
                }
                (StreamPolicy::Migrate { .. }, current) => {
                    let moved = !e.keys.pinned && decide(e) != e.side;
                    match current {
                        Some(Deadline {
                            reason: Reason::Migrate,
                            ..
                        }) if moved => {}
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
                e.set(Some(Deadline::new(at, Reason::Migrate)));
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
