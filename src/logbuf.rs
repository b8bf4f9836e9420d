//! The serving process's log output, off the request path: the access line
//! of a plain request (one per request) is appended to an in-memory buffer,
//! and a writer thread hands the buffer to stderr in one `write` per batch
//! (at most [`FLUSH_EVERY`] after its first line, or sooner once
//! [`FLUSH_BYTES`] are waiting). A request pays a `memcpy` under an
//! uncontended lock instead of a `write` syscall. `tracing`'s lines (the
//! rare ones: warnings, errors, a failed request) are written at once,
//! after the lines waiting before them, so the order is the order written.
//!
//! Nothing is lost on the way out: [`flush`] writes whatever is waiting, in
//! order with the writer thread; `main` calls it after the server stops,
//! and a panic flushes before its message is printed. When stderr cannot
//! keep up and [`MAX_BYTES`] are waiting, further lines are dropped and
//! counted in [`DROPPED`] (`cutover_log_dropped_lines_total`): the proxy
//! never waits for its log.
//!
//! Before [`install`] (every command but `serve`, and the tests) lines go
//! straight to stderr, as before.

use std::io::Write;
use std::sync::{Condvar, LazyLock, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

/// A batch waits at most this long for more lines.
pub const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// A batch this large is written at once.
pub const FLUSH_BYTES: usize = 64 * 1024;
/// Lines waiting beyond this are dropped (stderr blocked: a full pipe).
pub const MAX_BYTES: usize = 8 << 20;

/// Lines dropped because [`MAX_BYTES`] were already waiting.
pub static DROPPED: LazyLock<prometheus::IntCounter> = LazyLock::new(|| {
    prometheus::IntCounter::new(
        "cutover_log_dropped_lines_total",
        "Log lines dropped because stderr did not keep up (8 MiB were waiting).",
    )
    .expect("valid metric")
});

struct Buffer {
    /// Lines not yet handed to the writer.
    waiting: Mutex<Vec<u8>>,
    /// Signalled when `waiting` gets its first line, or passes FLUSH_BYTES.
    wake: Condvar,
    /// Held while a batch is taken and written: batches go out in order.
    writing: Mutex<Vec<u8>>,
}

static BUFFER: OnceLock<Buffer> = OnceLock::new();

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Start buffering: lines written from now on go through the writer thread.
/// A panic flushes what is waiting before the panic's message.
pub fn install() {
    let mut first = false;
    let buffer = BUFFER.get_or_init(|| {
        first = true;
        Buffer {
            waiting: Mutex::new(Vec::with_capacity(FLUSH_BYTES)),
            wake: Condvar::new(),
            writing: Mutex::new(Vec::with_capacity(FLUSH_BYTES)),
        }
    });
    if !first {
        return;
    }
    let spawned = std::thread::Builder::new()
        .name("cutover-log".into())
        .spawn(move || write_forever(buffer));
    if spawned.is_err() {
        // No thread: lines still go out at the next flush (and at exit).
        eprintln!("warning: log writer thread not started; access lines are written at exit");
    }
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        try_flush(buffer);
        previous(info);
    }));
}

/// Write one or more whole lines: buffered after [`install`], else straight
/// to stderr. A failed write to stderr is dropped, as `tracing`'s is.
pub fn write(bytes: &[u8]) {
    let Some(buffer) = BUFFER.get() else {
        let _ = std::io::stderr().write_all(bytes);
        return;
    };
    let mut waiting = lock(&buffer.waiting);
    if waiting.len() + bytes.len() > MAX_BYTES {
        drop(waiting);
        DROPPED.inc();
        return;
    }
    let was_empty = waiting.is_empty();
    waiting.extend_from_slice(bytes);
    let full = waiting.len() >= FLUSH_BYTES;
    drop(waiting);
    if was_empty || full {
        buffer.wake.notify_one();
    }
}

/// Write everything waiting, now (in order with the writer thread).
pub fn flush() {
    if let Some(buffer) = BUFFER.get() {
        write_batch(buffer, &[]);
    }
}

/// [`flush`] unless a lock is held (a panic while writing must not wait on
/// itself).
fn try_flush(buffer: &Buffer) {
    let Ok(mut batch) = buffer.writing.try_lock() else {
        return;
    };
    if let Ok(mut waiting) = buffer.waiting.try_lock() {
        std::mem::swap(&mut *batch, &mut *waiting);
    }
    write_out(&mut batch);
}

fn write_forever(buffer: &'static Buffer) {
    loop {
        {
            let mut waiting = lock(&buffer.waiting);
            while waiting.is_empty() {
                waiting = buffer
                    .wake
                    .wait(waiting)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            // Let the batch fill for a moment (woken early when it is full).
            if waiting.len() < FLUSH_BYTES {
                waiting = buffer
                    .wake
                    .wait_timeout(waiting, FLUSH_EVERY)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            drop(waiting);
        }
        write_batch(buffer, &[]);
    }
}

/// Take the waiting lines, then `last`, and write them, holding `writing`
/// throughout so that two batches never interleave or swap order.
fn write_batch(buffer: &Buffer, last: &[u8]) {
    let mut batch = lock(&buffer.writing);
    std::mem::swap(&mut *batch, &mut *lock(&buffer.waiting));
    batch.extend_from_slice(last);
    write_out(&mut batch);
}

/// Write `batch` to stderr (a failed write is dropped, as `tracing`'s is)
/// and empty it.
fn write_out(batch: &mut Vec<u8>) {
    if batch.is_empty() {
        return;
    }
    let _ = std::io::stderr().write_all(batch);
    batch.clear();
    if batch.capacity() > 4 * FLUSH_BYTES {
        // After a burst: give the memory back.
        batch.shrink_to(FLUSH_BYTES);
    }
}

/// `tracing`'s writer: each event's line goes out at once, after the lines
/// waiting before it. Those events are the rare ones (warnings, errors,
/// reloads, a request that failed): only the plain access line, one per
/// request, waits for a batch.
#[derive(Clone, Copy, Debug, Default)]
pub struct Writer;

impl Write for Writer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        match BUFFER.get() {
            Some(buffer) => write_batch(buffer, bytes),
            None => write(bytes),
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Writer {
    type Writer = Writer;

    fn make_writer(&'a self) -> Writer {
        Writer
    }
}
