//! `SIGTERM` that exits as soon as the open proxy connections are done.
//!
//! Pingora handles `SIGTERM` by telling the services to stop and then
//! sleeping the whole `grace_period_seconds`, even with nothing in flight.
//! Here `SIGTERM` is cutover's: the listeners stop accepting (idle keep-alive
//! connections close; a connection with a request in flight closes after its
//! response), and the process exits once no proxy connection is open, or when
//! the grace period is over, whichever comes first. `SIGQUIT` (graceful
//! upgrade) and `SIGINT` (fast shutdown) keep Pingora's handling.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use pingora::apps::ServerApp;
use pingora::protocols::Stream;
use pingora::server::{ShutdownSignal, ShutdownSignalWatch, ShutdownWatch};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

/// Open proxy connections, and cutover's own "stop accepting" signal.
#[derive(Clone)]
pub struct Drain {
    open: Arc<AtomicUsize>,
    stop: Arc<watch::Sender<bool>>,
    grace: Duration,
}

impl Drain {
    pub fn new(grace: Duration) -> Drain {
        Drain {
            open: Arc::default(),
            stop: Arc::new(watch::channel(false).0),
            grace,
        }
    }

    /// Open proxy connections right now.
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }

    /// Wrap a service's app so that its connections are counted.
    pub fn count<A>(&self, inner: A) -> Counted<A> {
        Counted {
            inner: Arc::new(inner),
            open: self.open.clone(),
        }
    }

    /// Pingora's shutdown watch for a service, fired also by cutover's stop.
    pub fn merge(&self, pingora: ShutdownWatch) -> ShutdownWatch {
        let (tx, rx) = watch::channel(false);
        let mine = self.stop.subscribe();
        tokio::spawn(async move {
            tokio::select! {
                () = became_true(pingora) => {}
                () = became_true(mine) => {}
            }
            let _ = tx.send(true);
            // Keep the sender: a dropped one reads as a shutdown error.
            tx.closed().await;
        });
        rx
    }

    /// Stop accepting, then wait until no proxy connection is open (or the
    /// grace period is over).
    async fn drain(&self) {
        let started = Instant::now();
        let _ = self.stop.send(true);
        tracing::info!(
            open_connections = self.open(),
            grace_period_s = self.grace.as_secs(),
            "SIGTERM: stopped accepting; exiting once the open connections are done"
        );
        while self.open() > 0 && started.elapsed() < self.grace {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let left = self.open();
        if left > 0 {
            tracing::warn!(
                open_connections = left,
                "SIGTERM: grace period over; closing the connections still open"
            );
        } else {
            tracing::info!(
                after_ms = started.elapsed().as_millis() as u64,
                "SIGTERM: every connection done; exiting"
            );
        }
    }
}

async fn became_true(mut w: watch::Receiver<bool>) {
    if w.wait_for(|v| *v).await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// The signals a `cutover serve` process obeys (pass as `RunArgs::shutdown_signal`).
pub struct Signals(pub Drain);

#[async_trait]
impl ShutdownSignalWatch for Signals {
    async fn recv(&self) -> ShutdownSignal {
        let (Ok(mut quit), Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::quit()),
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::error!("cannot install signal handlers; exiting");
            return ShutdownSignal::FastShutdown;
        };
        tokio::select! {
            _ = quit.recv() => ShutdownSignal::GracefulUpgrade,
            _ = int.recv() => ShutdownSignal::FastShutdown,
            _ = term.recv() => {
                self.0.drain().await;
                // Drained already: nothing is left for Pingora's grace period
                // (it logs this as "SIGINT received").
                ShutdownSignal::FastShutdown
            }
        }
    }
}

/// How long a connection accepted before a shutdown may still take to send
/// its first request.
const FIRST_REQUEST_WAIT: Duration = Duration::from_secs(2);

/// Wait (at most [`FIRST_REQUEST_WAIT`]) for a new connection's first bytes
/// before Pingora reads it; false if the client left first.
///
/// Pingora drops a connection whose request has not arrived when the shutdown
/// starts (right for an idle keep-alive connection). A fresh connection
/// accepted just before — its client is sending the request right now — got
/// closed with no answer (seen as one failed request in ~10,000 across a
/// graceful upgrade). When the shutdown comes during this wait, the request is
/// still waited for, [`FIRST_REQUEST_WAIT`] more at most; once bytes are
/// buffered, Pingora reads the request before it looks at the shutdown. A
/// connection silent for longer is idle: Pingora takes it as is.
async fn first_bytes(session: &mut Stream, shutdown: &ShutdownWatch) -> bool {
    let mut byte = [0u8; 1];
    let peek = session.try_peek(&mut byte);
    tokio::pin!(peek);
    let arrived = tokio::select! {
        r = &mut peek => r,
        // Quiet for a while: an idle connection like any other, Pingora's
        // own timeouts apply from here.
        () = tokio::time::sleep(FIRST_REQUEST_WAIT) => return true,
        () = became_true(shutdown.clone()) => {
            match tokio::time::timeout(FIRST_REQUEST_WAIT, &mut peek).await {
                Ok(r) => r,
                Err(_) => return false,
            }
        }
    };
    // An error: the client closed before sending anything; nothing to answer.
    // `Ok(false)` is a stream that cannot peek: nothing to wait for.
    arrived.is_ok()
}

/// A service app whose connections are counted while they are open.
pub struct Counted<A> {
    inner: Arc<A>,
    open: Arc<AtomicUsize>,
}

struct Open(Arc<AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[async_trait]
impl<A: ServerApp + Send + Sync + 'static> ServerApp for Counted<A> {
    async fn process_new(
        self: &Arc<Self>,
        session: Stream,
        shutdown: &ShutdownWatch,
    ) -> Option<Stream> {
        self.open.fetch_add(1, Ordering::AcqRel);
        let _open = Open(self.open.clone());
        let mut session = session;
        if !first_bytes(&mut session, shutdown).await {
            return None;
        }
        self.inner.process_new(session, shutdown).await
    }

    async fn cleanup(&self) {
        self.inner.cleanup().await;
    }
}
