// Copyright 2026 Cloudflare, Inc.
//
// Licensed under the Apache License, Version 2.0 (the "License");
// you may not use this file except in compliance with the License.
// You may obtain a copy of the License at
//
// http://www.apache.org/licenses/LICENSE-2.0
//
// Unless required by applicable law or agreed to in writing, software
// distributed under the License is distributed on an "AS IS" BASIS,
// WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
// See the License for the specific language governing permissions and
// limitations under the License.

//! cutover patch 7: a pooled stream waits in a slot that its idle watcher
//! polls through and that a reuse takes the stream out of.
//!
//! Upstream, the watcher held the stream in a `tokio::sync::Mutex` for the
//! whole idle time, so a reuse had to wake the watcher, wait for it to run
//! and release the lock, then unwrap the `Arc`: every reused connection put
//! the request's task back through the scheduler once (a `Pending` and a
//! second poll of the whole proxy future) and could race the `Arc`'s last
//! clone (cutover patch 1). Here the watcher locks the slot (a plain mutex)
//! only while it polls the socket, never across an `await`, so a reuse
//! takes the stream at once; the watcher learns of it from the pool's
//! `watch_use` and exits on its next poll.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::FutureExt;
use log::{debug, warn};
use parking_lot::Mutex;
use pingora_pool::{ConnectionMeta, ConnectionPool};
use tokio::io::{AsyncRead, ReadBuf};
use tokio::sync::{oneshot, Notify};

use crate::protocols::Stream;

/// Where a pooled stream waits. `None` once a reuse or the watcher took it.
pub(crate) type IdleSlot = Arc<Mutex<Option<Stream>>>;

/// Take the stream out of a slot the pool handed back, if the watcher has
/// not closed it first.
pub(crate) fn take(slot: &IdleSlot) -> Option<Stream> {
    slot.lock().take()
}

/// Watch an idle pooled stream until it is reused, evicted, closed by the
/// peer, sends data, or reaches `idle_timeout`. In the last three cases it
/// leaves the pool and is closed. Returns `true` if it was evicted, as
/// `ConnectionPool::idle_poll` does.
pub(crate) async fn watch(
    pool: &ConnectionPool<IdleSlot>,
    slot: IdleSlot,
    meta: &ConnectionMeta,
    idle_timeout: Option<Duration>,
    notify_evicted: Arc<Notify>,
    watch_use: oneshot::Receiver<bool>,
) -> bool {
    // One `Notified`, kept across the branches: see `ConnectionPool::idle_poll`.
    let evicted = notify_evicted.notified();
    tokio::pin!(evicted);
    let readable = std::future::poll_fn(|cx| poll_idle_read(&slot, cx));
    let ended = async {
        match idle_timeout {
            Some(d) => pingora_timeout::timeout(d, readable)
                .await
                .unwrap_or_else(|_| {
                    debug!("keepalive timeout {d:?} reached");
                    Ok(0)
                }),
            None => readable.await,
        }
    };
    let read = tokio::select! {
        biased;
        event = watch_use => {
            return match event {
                Ok(_) => {
                    debug!("idle connection is being picked up");
                    false
                }
                // The sender is also dropped on eviction, after the notify.
                Err(_) => evicted.now_or_never().is_some(),
            };
        },
        _ = &mut evicted => {
            debug!("idle connection is being evicted");
            return true;
        },
        read = ended => read,
    };
    match read {
        Ok(0) => debug!("Peer closed the idle connection or timeout"),
        Ok(_) => warn!("Data received on idle client connection, close it"),
        Err(e) => debug!("error with the idle connection, close it {e:?}"),
    }
    pool.pop_closed(meta);
    drop(take(&slot)); // closes it, unless a reuse took it a moment ago
    false
}

/// One poll of the idle stream for a byte or its end. A slot already
/// emptied by a reuse is `Pending`: the reuse has sent on `watch_use`,
/// which wakes the watcher to exit.
fn poll_idle_read(slot: &Mutex<Option<Stream>>, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
    let mut slot = slot.lock();
    let Some(stream) = slot.as_mut() else {
        return Poll::Pending;
    };
    let mut byte = [0u8; 1];
    let mut buf = ReadBuf::new(&mut byte);
    Pin::new(stream)
        .poll_read(cx, &mut buf)
        .map_ok(|()| buf.filled().len())
}
