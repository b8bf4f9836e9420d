//! Group commit for the request path's stream event appends: every event the
//! handlers record goes to one writer task, which appends all the events
//! waiting at that moment in one statement (one transaction, one WAL flush).
//!
//! Why: `stream_event_append` holds its channel's advisory lock until commit,
//! so appends to one channel (every send to one busy thread) commit one after
//! another, each waiting for its own WAL flush. Measured with
//! `bench/messages.sh` on a POST per request to one thread: most of the
//! handlers' PostgreSQL connections sat in `stream_event_append` waiting on
//! `Lock:advisory` while the holder waited on `IO:WALSync`, which capped
//! sends at one per flush. Batched, the flush is paid once per batch.
//!
//! Nothing else changes: each caller still waits for its own event's commit
//! (recorded before the Pusher trigger and before the response, as the Next
//! app does it, so nothing is pending at shutdown), events are appended in
//! the order they were handed over, and the rows are the ones
//! [`stream_events::append`] writes.

use std::sync::OnceLock;

use sqlx::PgPool;
use tokio::sync::{mpsc, oneshot};

use crate::store::StoreError;
use crate::store::stream_events::{self, NewEvent};

/// Events appended in one statement at most.
const MAX_BATCH: usize = 64;

/// One event handed to the writer, and where to say it is committed.
struct Pending {
    event: NewEvent,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// The handlers' stream event writer (one per [`crate::handlers::AppState`]);
/// its task starts with the first event, on the runtime that records it.
pub struct Recorder {
    pool: PgPool,
    queue: OnceLock<mpsc::UnboundedSender<Pending>>,
}

impl Recorder {
    pub fn new(pool: PgPool) -> Recorder {
        Recorder {
            pool,
            queue: OnceLock::new(),
        }
    }

    /// [`super::record`] through the writer: when `channel` has a stream,
    /// append the event and wait for its commit; a failure is logged (the
    /// state change is committed and Soketi gets the event).
    pub async fn record(&self, channel: &str, event: &str, payload: &str) {
        if !stream_events::is_streamable(channel) {
            return;
        }
        if let Err(e) = self.append(channel, event, payload).await {
            tracing::warn!(error = %e, event, "stream event not recorded");
        }
    }

    /// Append one event and wait for its commit (in a batch with whatever
    /// other events are waiting).
    async fn append(&self, channel: &str, event: &str, payload: &str) -> Result<(), StoreError> {
        let event = NewEvent {
            channel: channel.to_owned(),
            event: event.to_owned(),
            payload: payload.to_owned(),
        };
        let (done, committed) = oneshot::channel();
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel();
            tokio::spawn(write(self.pool.clone(), rx));
            tx
        });
        match queue.send(Pending { event, done }) {
            Ok(()) => committed.await.unwrap_or_else(|_| Err(writer_gone())),
            // The writer's runtime is gone (shutdown): append directly.
            Err(mpsc::error::SendError(p)) => append_one(&self.pool, &p.event).await,
        }
    }
}

fn writer_gone() -> StoreError {
    StoreError::Database(sqlx::Error::WorkerCrashed)
}

/// The writer task: take every waiting event (up to [`MAX_BATCH`]), append
/// them in one statement, answer each; until every sender is dropped.
async fn write(pool: PgPool, mut queue: mpsc::UnboundedReceiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        commit(&pool, &mut batch).await;
    }
}

/// Append `batch` (emptied) in one statement; when that fails for a batch of
/// several, each event alone, so one bad event fails only its own caller.
async fn commit(pool: &PgPool, batch: &mut Vec<Pending>) {
    let together = {
        let events: Vec<&NewEvent> = batch.iter().map(|p| &p.event).collect();
        stream_events::append_all(pool, &events).await
    };
    match together {
        Ok(()) => {
            for pending in batch.drain(..) {
                let _ = pending.done.send(Ok(()));
            }
        }
        Err(e) if batch.len() == 1 => {
            if let Some(pending) = batch.pop() {
                let _ = pending.done.send(Err(e));
            }
        }
        Err(_) => {
            for pending in batch.drain(..) {
                let alone = append_one(pool, &pending.event).await;
                let _ = pending.done.send(alone);
            }
        }
    }
}

async fn append_one(pool: &PgPool, e: &NewEvent) -> Result<(), StoreError> {
    stream_events::append(pool, &e.channel, &e.event, &e.payload)
        .await
        .map(drop)
}
