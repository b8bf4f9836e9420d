//! TTL cache of the realtime client config read from `SystemConfig`. Time is
//! passed in, so expiry is tested by moving a fake clock.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::RealtimeConfigPayload;

#[derive(Debug)]
pub struct RealtimeConfigCache {
    ttl: Duration,
    slot: Mutex<Option<(Instant, RealtimeConfigPayload)>>,
}

impl RealtimeConfigCache {
    pub fn new(ttl: Duration) -> RealtimeConfigCache {
        RealtimeConfigCache {
            ttl,
            slot: Mutex::new(None),
        }
    }

    /// The cached value if it was stored less than `ttl` before `now`.
    pub fn get(&self, now: Instant) -> Option<RealtimeConfigPayload> {
        let slot = self.slot.lock().unwrap_or_else(|p| p.into_inner());
        match &*slot {
            Some((at, value)) if now.saturating_duration_since(*at) < self.ttl => {
                Some(value.clone())
            }
            _ => None,
        }
    }

    pub fn put(&self, now: Instant, value: RealtimeConfigPayload) {
        *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = Some((now, value));
    }

    pub fn clear(&self) {
        *self.slot.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }
}
