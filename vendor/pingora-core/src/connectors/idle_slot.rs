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
//! `watch_use` and exits on its next poll. A stream the watcher finds closed
//! leaves the pool (`pop_closed`) and closes with the watcher's `Arc`.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use parking_lot::Mutex;
use tokio::io::{AsyncRead, ReadBuf};

use crate::protocols::Stream;

/// Where a pooled stream waits. `None` once a reuse took it.
pub(crate) type IdleSlot = Arc<Mutex<Option<Stream>>>;

/// Take the stream out of a slot the pool handed back (`None` if another
/// reuse took it).
pub(crate) fn take(slot: &IdleSlot) -> Option<Stream> {
    slot.lock().take()
}

/// The idle watcher's read (`ConnectionPool::idle_watch`): resolves when the
/// pooled stream has a byte, its end or an error, polled through its slot.
pub(crate) fn idle_read(slot: &IdleSlot) -> impl Future<Output = io::Result<usize>> + '_ {
    std::future::poll_fn(move |cx| poll_idle_read(slot, cx))
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
