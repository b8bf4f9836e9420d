//! The fan-out hub: one `PgListener` per process on the `stream_events`
//! NOTIFY channel, one broadcast channel per stream channel with live
//! subscribers, and the per-identity count of open streams.
//!
//! The listener task is the only dispatcher. For a notification of a channel
//! with subscribers it reads every row after that channel's cursor (so a lost
//! or coalesced notification only delays events, never drops them) and sends
//! them in id order. A channel's cursor starts at its newest id when its first
//! subscriber arrives; the map lock is held across that read, so the listener
//! never skips an event committed between the read and the insert. The
//! broadcast buffer is bounded (`StreamConfig::buffer`): a subscriber that
//! falls that far behind lags and is ended (see `super::sse`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::{OnceCell, broadcast};

use super::StreamConfig;
use crate::store::StoreError;
use crate::store::stream_events::{self, NOTIFY_CHANNEL, StreamEvent};

/// Rows read per query when catching a channel up.
const BATCH: i64 = 500;

pub struct Hub {
    pool: PgPool,
    pub config: StreamConfig,
    channels: tokio::sync::Mutex<HashMap<String, Arc<Channel>>>,
    started: OnceCell<()>,
    open: Mutex<HashMap<String, usize>>,
}

struct Channel {
    tx: broadcast::Sender<Arc<StreamEvent>>,
    cursor: tokio::sync::Mutex<i64>,
}

/// One open stream of an identity; dropping it frees the slot.
pub struct Slot {
    hub: Arc<Hub>,
    identity: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.hub.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.identity) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.identity);
            }
        }
    }
}

impl Hub {
    pub fn new(pool: PgPool, config: StreamConfig) -> Hub {
        Hub {
            pool,
            config,
            channels: tokio::sync::Mutex::new(HashMap::new()),
            started: OnceCell::new(),
            open: Mutex::new(HashMap::new()),
        }
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Take one of `identity`'s stream slots; `None` at the cap.
    pub fn acquire(self: &Arc<Self>, identity: String) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(identity.clone()).or_insert(0);
        if *n >= self.config.per_identity {
            return None;
        }
        *n += 1;
        Some(Slot {
            hub: self.clone(),
            identity,
        })
    }

    /// Live events of `channel` from now on (starts the listener on first use).
    pub async fn subscribe(
        self: &Arc<Self>,
        channel: &str,
    ) -> Result<broadcast::Receiver<Arc<StreamEvent>>, StoreError> {
        self.started
            .get_or_try_init(|| async {
                let mut listener = PgListener::connect_with(&self.pool).await?;
                listener.listen(NOTIFY_CHANNEL).await?;
                tokio::spawn(listen(Arc::downgrade(self), listener));
                tokio::spawn(retain(Arc::downgrade(self)));
                Ok::<(), StoreError>(())
            })
            .await?;
        let mut channels = self.channels.lock().await;
        if let Some(c) = channels.get(channel) {
            return Ok(c.tx.subscribe());
        }
        let head = stream_events::head(&self.pool, channel).await?;
        let (tx, rx) = broadcast::channel(self.config.buffer);
        channels.insert(
            channel.to_string(),
            Arc::new(Channel {
                tx,
                cursor: tokio::sync::Mutex::new(head),
            }),
        );
        Ok(rx)
    }

    /// The newest id sent to `channel`'s subscribers; `None` when it has none
    /// (for status and tests).
    pub async fn dispatched_through(&self, channel: &str) -> Option<i64> {
        let entry = self.channels.lock().await.get(channel).cloned()?;
        let cursor = *entry.cursor.lock().await;
        Some(cursor)
    }

    /// Send `channel`'s new rows to its subscribers; forget it when it has none.
    async fn dispatch(&self, channel: &str) -> Result<(), StoreError> {
        let entry = {
            let mut channels = self.channels.lock().await;
            match channels.get(channel) {
                Some(c) if c.tx.receiver_count() == 0 => {
                    channels.remove(channel);
                    return Ok(());
                }
                Some(c) => c.clone(),
                None => return Ok(()),
            }
        };
        let mut cursor = entry.cursor.lock().await;
        loop {
            let rows = stream_events::after(&self.pool, channel, *cursor, BATCH).await?;
            let full = rows.len() as i64 == BATCH;
            for row in rows {
                *cursor = row.id;
                // No receiver left is not an error: the next dispatch forgets it.
                let _ = entry.tx.send(Arc::new(row));
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Catch every channel up (after the listener reconnected).
    async fn dispatch_all(&self) {
        let names: Vec<String> = self.channels.lock().await.keys().cloned().collect();
        for name in names {
            if let Err(e) = self.dispatch(&name).await {
                tracing::warn!(error = %e, "stream dispatch failed");
            }
        }
    }
}

/// The listener loop; ends when the hub is dropped.
async fn listen(hub: Weak<Hub>, mut listener: PgListener) {
    loop {
        let next = listener.try_recv().await;
        let Some(hub) = hub.upgrade() else { return };
        match next {
            Ok(Some(n)) => {
                let channel = n.payload().rsplit_once(':').map_or("", |(c, _)| c);
                if let Err(e) = hub.dispatch(channel).await {
                    tracing::warn!(error = %e, "stream dispatch failed");
                }
            }
            Ok(None) => hub.dispatch_all().await,
            Err(e) => {
                tracing::warn!(error = %e, "stream listener failed; retrying in 1 s");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                hub.dispatch_all().await;
            }
        }
    }
}

/// Retention: prune old rows once a minute; ends when the hub is dropped.
async fn retain(hub: Weak<Hub>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        let Some(hub) = hub.upgrade() else { return };
        if let Err(e) = stream_events::prune(&hub.pool, hub.config.retention.as_secs()).await {
            tracing::warn!(error = %e, "stream retention failed");
        }
    }
}
