//! A sliding window of `BUCKETS` time buckets, each holding a `T`. A bucket
//! is reused (reset) once it is `BUCKETS` widths old, so `live` only ever
//! sees the last `window` of data. Time is passed in. Shared by the judge
//! and the fallback budget.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

/// Buckets per window: the window slides in steps of a tenth of its length.
pub(crate) const BUCKETS: usize = 10;

pub(crate) struct Ring<T> {
    window: Duration,
    width_nanos: u128,
    /// The instant of the first sample: bucket 0 starts there.
    origin: Option<Instant>,
    /// (absolute bucket index, data); index `u64::MAX` = never used.
    slots: Vec<(u64, T)>,
}

impl<T: Default> Ring<T> {
    pub(crate) fn new(window: Duration) -> Self {
        let width = (window / BUCKETS as u32).max(Duration::from_millis(1));
        Ring {
            window,
            width_nanos: width.as_nanos(),
            origin: None,
            slots: (0..BUCKETS).map(|_| (u64::MAX, T::default())).collect(),
        }
    }

    pub(crate) fn window(&self) -> Duration {
        self.window
    }

    /// Empties the ring, possibly with a new window.
    pub(crate) fn restart(&mut self, window: Duration) {
        *self = Ring::new(window);
    }

    fn index_at(&self, origin: Instant, now: Instant) -> u64 {
        let elapsed = now.saturating_duration_since(origin).as_nanos();
        u64::try_from(elapsed / self.width_nanos).unwrap_or(u64::MAX - 1)
    }

    /// The bucket for `now`, emptied first if it held older data.
    pub(crate) fn current(&mut self, now: Instant) -> &mut T {
        let origin = *self.origin.get_or_insert(now);
        let idx = self.index_at(origin, now);
        let slot = &mut self.slots[(idx % BUCKETS as u64) as usize];
        if slot.0 != idx {
            *slot = (idx, T::default());
        }
        &mut slot.1
    }

    /// The buckets still inside the window at `now`.
    pub(crate) fn live(&self, now: Instant) -> impl Iterator<Item = &T> {
        let cur = self.origin.map(|o| self.index_at(o, now));
        self.slots.iter().filter_map(move |(idx, data)| {
            let cur = cur?;
            (*idx <= cur && cur - *idx < BUCKETS as u64).then_some(data)
        })
    }
}

/// One [`Ring`] per configured route, each behind its own lock.
pub(crate) struct RouteRings<T> {
    routes: RwLock<HashMap<String, Arc<Mutex<Ring<T>>>>>,
}

impl<T> Default for RouteRings<T> {
    fn default() -> Self {
        RouteRings {
            routes: RwLock::new(HashMap::new()),
        }
    }
}

impl<T: Default> RouteRings<T> {
    /// Replaces the route set; a route whose window is unchanged keeps its data.
    pub(crate) fn configure<'a>(&self, routes: impl IntoIterator<Item = (&'a str, Duration)>) {
        let mut map = self.routes.write().unwrap_or_else(|p| p.into_inner());
        let mut fresh = HashMap::new();
        for (route, window) in routes {
            let kept = map.remove(route).filter(|r| lock(r).window() == window);
            let ring = kept.unwrap_or_else(|| Arc::new(Mutex::new(Ring::new(window))));
            fresh.insert(route.to_string(), ring);
        }
        *map = fresh;
    }

    /// Runs `f` on the route's ring under its lock; None for unknown routes.
    pub(crate) fn with<R>(&self, route: &str, f: impl FnOnce(&mut Ring<T>) -> R) -> Option<R> {
        let ring = {
            let map = self.routes.read().unwrap_or_else(|p| p.into_inner());
            map.get(route).cloned()
        }?;
        let mut guard = lock(&ring);
        Some(f(&mut guard))
    }
}

/// A poisoned lock only means another thread panicked mid-update of plain
/// counters: the data is still usable.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
