//! Unit tests of the cap engine: a fake clock (`Instant` values moved by
//! hand) and a fake [`Timer`] for queue timeouts; no sleeps, no sockets.

mod bounded;
mod breaker;
mod collapse;
mod engine;
mod gcra;
mod inflight;
mod key;
mod properties;
mod storm;

use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::watch;

use super::{BreakerPolicy, CapPolicy, ClientRate, Rate, Sleep, Timer};

pub(super) fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).expect("test values are non-zero")
}

pub(super) fn nzu(n: usize) -> NonZeroUsize {
    NonZeroUsize::new(n).expect("test values are non-zero")
}

pub(super) fn rate(count: u32, per: Duration) -> Rate {
    Rate::new(nz(count), per).expect("test rates are valid")
}

/// `count/per` with `burst`.
pub(super) fn client_rate(count: u32, per: Duration, burst: u32) -> ClientRate {
    ClientRate {
        rate: rate(count, per),
        burst: nz(burst),
    }
}

pub(super) fn breaker_policy() -> BreakerPolicy {
    BreakerPolicy {
        error_ratio: 0.5,
        min_requests: nz(4),
        window: Duration::from_secs(10),
        cooldown: Duration::from_secs(5),
        probes: nz(2),
    }
}

pub(super) fn policy() -> CapPolicy {
    CapPolicy::default()
}

/// A timer whose sleeps end only when the test advances it.
#[derive(Default)]
pub(super) struct FakeTimer {
    elapsed: Arc<watch::Sender<Duration>>,
    sleepers: Arc<AtomicUsize>,
}

impl FakeTimer {
    pub(super) fn advance(&self, by: Duration) {
        self.elapsed.send_modify(|elapsed| *elapsed += by);
    }

    /// Sleeps started so far.
    pub(super) fn sleepers(&self) -> usize {
        self.sleepers.load(Ordering::SeqCst)
    }
}

impl Timer for FakeTimer {
    fn sleep(&self, duration: Duration) -> Sleep {
        let mut elapsed = self.elapsed.subscribe();
        let until = *elapsed.borrow() + duration;
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            let _ = elapsed.wait_for(|now| *now >= until).await;
        })
    }
}
