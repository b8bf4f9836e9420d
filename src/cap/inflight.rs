//! `max_inflight` per route: a semaphore with a short queue, and the
//! [`Timer`] the queue waits on (injected so tests move a fake clock).
//!
//! The slot count follows the policy across config reloads: when it changes
//! a fresh semaphore replaces the old one (permits of the old one drain away).
//! May use: tokio sync primitives, `policy`.

use std::future::Future;
use std::num::NonZeroUsize;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A boxed sleep future.
pub type Sleep = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Source of sleeps for queue timeouts.
pub trait Timer: Send + Sync {
    fn sleep(&self, duration: Duration) -> Sleep;
}

/// The real timer (tokio).
#[derive(Debug, Default, Clone, Copy)]
pub struct TokioTimer;

impl Timer for TokioTimer {
    fn sleep(&self, duration: Duration) -> Sleep {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A route's backend slots.
#[derive(Default)]
pub struct Inflight {
    current: Mutex<Option<(NonZeroUsize, Arc<Semaphore>)>>,
}

/// The queue wait ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueTimeout;

impl Inflight {
    /// Takes a slot, waiting at most `queue_timeout` for one to free up.
    pub async fn acquire(
        &self,
        max: NonZeroUsize,
        queue_timeout: Duration,
        timer: &dyn Timer,
    ) -> Result<OwnedSemaphorePermit, QueueTimeout> {
        let semaphore = self.semaphore(max);
        if let Ok(permit) = semaphore.clone().try_acquire_owned() {
            return Ok(permit);
        }
        if queue_timeout.is_zero() {
            return Err(QueueTimeout);
        }
        tokio::select! {
            permit = semaphore.acquire_owned() => permit.map_err(|_closed| QueueTimeout),
            () = timer.sleep(queue_timeout) => Err(QueueTimeout),
        }
    }

    fn semaphore(&self, max: NonZeroUsize) -> Arc<Semaphore> {
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match &*current {
            Some((size, semaphore)) if *size == max => semaphore.clone(),
            _ => {
                let semaphore = Arc::new(Semaphore::new(max.get()));
                *current = Some((max, semaphore.clone()));
                semaphore
            }
        }
    }
}
