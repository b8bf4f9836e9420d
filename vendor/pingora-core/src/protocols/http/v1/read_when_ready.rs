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

//! cutover patch: reads that hold no buffer while the peer is silent.
//!
//! An HTTP/1 connection spends most of its life waiting: a keep-alive client
//! between requests, an SSE or WebSocket stream between events. A read that
//! reserves its buffer before awaiting holds that buffer for the whole wait
//! (4 KiB for a request head, 64 KiB for a body), for every idle connection.
//! [`read_when_ready`] allocates the room when it polls the stream and frees
//! it again if the stream has nothing to give, so an idle connection holds
//! no read buffer. Once bytes flow, polls return data and nothing changes:
//! the cost is one allocation per poll that finds the socket empty — none
//! for a head-sized read (≤ 4 KiB), which goes through a stack buffer first
//! and allocates only when it has bytes (`poll_probe`).

use bytes::{BufMut, BytesMut};
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use tokio::io::{AsyncRead, ReadBuf};

/// Read at most `limit` bytes from `stream`, appended to `buf`; returns how
/// many (0 at the end of the stream). Like `stream.take(limit).read_buf(buf)`,
/// except while `buf` is empty: then `room` bytes are reserved for each poll
/// and released when the poll finds nothing to read, so an idle wait holds
/// no buffer (`buf` is left as `BytesMut::new()`). Bytes already in `buf`
/// are kept as they are.
pub(crate) async fn read_when_ready<S>(
    stream: &mut S,
    buf: &mut BytesMut,
    room: usize,
    limit: usize,
) -> io::Result<usize>
where
    S: AsyncRead + Unpin + ?Sized,
{
    poll_fn(|cx| {
        let waiting = buf.is_empty();
        if waiting && room <= PROBE_SIZE {
            return poll_probe(Pin::new(&mut *stream), cx, buf, room.min(limit));
        }
        if waiting {
            buf.reserve(room);
        }
        let polled = poll_read_buf(Pin::new(&mut *stream), cx, buf, limit);
        if waiting && polled.is_pending() {
            *buf = BytesMut::new();
        }
        polled
    })
    .await
}

/// The largest `room` read through a stack buffer first (a request head's).
const PROBE_SIZE: usize = 4096;

/// A read into an empty `buf` of at most `len` (≤ [`PROBE_SIZE`]) bytes
/// through a stack buffer: a poll that finds nothing allocates nothing (a
/// kept-alive connection is polled with nothing to read once per request),
/// and bytes read are copied into `buf`, allocated then. The same reads as
/// reserving `len` first: at most `len` bytes each.
fn poll_probe<S>(
    stream: Pin<&mut S>,
    cx: &mut Context<'_>,
    buf: &mut BytesMut,
    len: usize,
) -> Poll<io::Result<usize>>
where
    S: AsyncRead + ?Sized,
{
    let mut probe = [std::mem::MaybeUninit::<u8>::uninit(); PROBE_SIZE];
    let mut read_buf = ReadBuf::uninit(&mut probe[..len]);
    match stream.poll_read(cx, &mut read_buf) {
        Poll::Pending => {
            if buf.capacity() > 0 {
                *buf = BytesMut::new(); // nothing held while waiting
            }
            Poll::Pending
        }
        Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
        Poll::Ready(Ok(())) => {
            let read = read_buf.filled();
            buf.reserve(len); // room for the rest of a head, as before
            buf.put_slice(read);
            Poll::Ready(Ok(read.len()))
        }
    }
}

/// One `poll_read` into the spare capacity of `buf` (at most `limit` bytes),
/// as `tokio_util::io::poll_read_buf` does.
fn poll_read_buf<S>(
    stream: Pin<&mut S>,
    cx: &mut Context<'_>,
    buf: &mut BytesMut,
    limit: usize,
) -> Poll<io::Result<usize>>
where
    S: AsyncRead + ?Sized,
{
    if buf.len() == buf.capacity() {
        buf.reserve(64); // what `read_buf` gets from `BytesMut::chunk_mut`
    }
    let spare = buf.spare_capacity_mut();
    let len = spare.len().min(limit);
    let mut read_buf = ReadBuf::uninit(&mut spare[..len]);
    let start = read_buf.filled().as_ptr();
    ready!(stream.poll_read(cx, &mut read_buf))?;
    // A reader may not swap the buffer it was given.
    assert_eq!(
        start,
        read_buf.filled().as_ptr(),
        "poll_read swapped the buffer"
    );
    let n = read_buf.filled().len();
    // SAFETY: `ReadBuf` guarantees its first `n` (filled) bytes are
    // initialised, and they are the `n` bytes after `buf.len()` (checked above).
    unsafe { buf.advance_mut(n) };
    Poll::Ready(Ok(n))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test]
    async fn an_idle_read_holds_no_buffer_and_a_ready_one_reads() {
        let (mut client, mut server) = tokio::io::duplex(1024);
        let mut buf = BytesMut::new();
        {
            let read = read_when_ready(&mut server, &mut buf, 4096, 4096);
            let mut read = std::pin::pin!(read);
            // Nothing sent yet: the read pends.
            assert!(futures::poll!(read.as_mut()).is_pending());
            client.write_all(b"hello").await.unwrap();
            assert_eq!(read.await.unwrap(), 5);
        }
        assert_eq!(&buf[..], b"hello");
        assert!(buf.capacity() >= 4096);
    }

    #[tokio::test]
    async fn the_buffer_is_released_while_waiting() {
        let (_client, mut server) = tokio::io::duplex(1024);
        let mut buf = BytesMut::with_capacity(65536);
        {
            let read = read_when_ready(&mut server, &mut buf, 65536, 65536);
            let mut read = std::pin::pin!(read);
            assert!(futures::poll!(read.as_mut()).is_pending());
        }
        assert_eq!(buf.capacity(), 0);
    }

    #[tokio::test]
    async fn a_head_read_that_finds_nothing_holds_nothing_then_reads_with_room() {
        let (mut client, mut server) = tokio::io::duplex(1024);
        let mut buf = BytesMut::with_capacity(4096);
        {
            let read = read_when_ready(&mut server, &mut buf, 4096, usize::MAX);
            let mut read = std::pin::pin!(read);
            assert!(futures::poll!(read.as_mut()).is_pending());
        }
        assert_eq!(buf.capacity(), 0);
        client.write_all(b"GET / HTTP/1.1\r\n").await.unwrap();
        let n = read_when_ready(&mut server, &mut buf, 4096, usize::MAX)
            .await
            .unwrap();
        assert_eq!((n, &buf[..]), (16, &b"GET / HTTP/1.1\r\n"[..]));
        assert!(buf.capacity() >= 4096, "room for the rest of the head");
    }

    #[tokio::test]
    async fn a_head_read_takes_at_most_its_room() {
        let (mut client, mut server) = tokio::io::duplex(16384);
        client.write_all(&[b'a'; 6000]).await.unwrap();
        let mut buf = BytesMut::new();
        let n = read_when_ready(&mut server, &mut buf, 4096, usize::MAX)
            .await
            .unwrap();
        assert_eq!((n, buf.len()), (4096, 4096));
        let n = read_when_ready(&mut server, &mut buf, 4096, usize::MAX)
            .await
            .unwrap();
        assert_eq!((n, buf.len()), (1904, 6000));
    }

    #[tokio::test]
    async fn bytes_already_buffered_are_kept_and_appended_to() {
        let (mut client, mut server) = tokio::io::duplex(1024);
        let mut buf = BytesMut::from(&b"GET / HT"[..]);
        {
            let read = read_when_ready(&mut server, &mut buf, 4096, usize::MAX);
            let mut read = std::pin::pin!(read);
            assert!(futures::poll!(read.as_mut()).is_pending());
        }
        assert_eq!(&buf[..], b"GET / HT");
        client.write_all(b"TP/1.1\r\n").await.unwrap();
        let n = read_when_ready(&mut server, &mut buf, 4096, usize::MAX)
            .await
            .unwrap();
        assert_eq!(n, 8);
        assert_eq!(&buf[..], b"GET / HTTP/1.1\r\n");
    }

    #[tokio::test]
    async fn a_read_takes_at_most_limit_bytes() {
        let (mut client, mut server) = tokio::io::duplex(1024);
        client.write_all(b"0123456789").await.unwrap();
        let mut buf = BytesMut::new();
        let n = read_when_ready(&mut server, &mut buf, 4, 4).await.unwrap();
        assert_eq!((n, &buf[..]), (4, &b"0123"[..]));
        drop(client);
        buf.clear();
        let n = read_when_ready(&mut server, &mut buf, 64, 64)
            .await
            .unwrap();
        assert_eq!((n, &buf[..]), (6, &b"456789"[..]));
        buf.clear();
        let n = read_when_ready(&mut server, &mut buf, 64, 64)
            .await
            .unwrap();
        assert_eq!(n, 0, "end of stream");
    }
}
