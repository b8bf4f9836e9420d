//! Slow request bodies: a deadline for the whole body, not just each read.
//!
//! Pingora times each body read (60 s), so a client trickling one byte every
//! few seconds would hold its connection, and an upstream connection, for
//! ever. A body must be complete within `[server]
//! client_body_deadline_seconds` of its head, plus one second for every
//! `client_body_min_bytes_per_second` bytes received (so an upload that keeps
//! that average rate is never cut). Each read is armed with the time left
//! ([`arm`], then after every chunk in [`check`]), so a silent client is cut
//! at the deadline too. Past it, the request fails with `408`: written when
//! no response has started, the upstream connection is dropped mid-body (it
//! never receives a complete request) and the client connection closed.
//! A stall is the client's `408` wherever it shows ([`client_stalled`]),
//! never evidence against the side. Upgrades are exempt (their "body" is the
//! tunnel). Bodies stay streamed: nothing here buffers. May use `config` and
//! Pingora's session.

use std::time::{Duration, Instant};

use pingora::proxy::Session;
use pingora::{Error, ErrorSource, ErrorType, Result};

use super::respond::{self, Failure};
use crate::config::LiveSettings;

/// Pingora's own per-read timeout for a client body (its default), kept as
/// the longest single read.
const PER_READ: Duration = Duration::from_secs(60);

/// When a body whose head ended at `start` must be complete, having sent
/// `bytes` so far: `grace` later, plus a second per `min_rate` bytes (none
/// when `min_rate` is 0).
pub fn deadline(start: Instant, grace: Duration, min_rate: u64, bytes: u64) -> Instant {
    let earned = match min_rate {
        0 => Duration::ZERO,
        rate => Duration::from_secs_f64(bytes as f64 / rate as f64),
    };
    start + grace + earned
}

/// One request's body deadline, for the bodies cutover reads itself (a
/// capped route's form, the fallback prefetch, an embedded handler's body):
/// the same bound as a proxied body gets in `request_body_filter`.
#[derive(Debug, Clone, Copy)]
pub struct BodyClock {
    start: Instant,
    grace: Duration,
    min_rate: u64,
}

impl BodyClock {
    pub fn new(live: &LiveSettings, start: Instant) -> BodyClock {
        BodyClock {
            start,
            grace: live.client_body_deadline,
            min_rate: live.client_body_min_rate,
        }
    }
}

/// The next body chunk, read under the whole-body deadline: `Err(408)` once
/// it has passed before the body's end.
pub async fn read_chunk(session: &mut Session, clock: BodyClock) -> Result<Option<bytes::Bytes>> {
    let chunk = session.read_request_body().await?;
    let end = chunk.is_none() || session.is_body_done();
    rearm(session, clock, end, Instant::now())?;
    Ok(chunk)
}

/// Whether `e` is [`read_chunk`]'s deadline (a `408` to answer as such).
pub fn is_deadline(e: &Error) -> bool {
    matches!(e.etype(), ErrorType::HTTPStatus(408))
}

/// Before anything reads the body: its first read may take at most the
/// deadline (an upgrade keeps Pingora's timeout). Only body reads use this
/// timeout (the wait for a keep-alive connection's next head has its own).
pub(super) fn arm(session: &mut Session, live: &LiveSettings) {
    let first_read = if session.is_upgrade_req() {
        PER_READ
    } else {
        PER_READ.min(live.client_body_deadline)
    };
    session.set_read_timeout(Some(first_read));
}

/// After each body chunk (`request_body_filter`, [`read_chunk`]): `Err(408)`
/// once the deadline has passed before the body's end, else the next read is
/// armed with the time left.
pub(super) fn rearm(
    session: &mut Session,
    clock: BodyClock,
    end_of_stream: bool,
    now: Instant,
) -> Result<()> {
    if session.is_upgrade_req() {
        return Ok(());
    }
    if end_of_stream {
        session.set_read_timeout(Some(PER_READ));
        return Ok(());
    }
    let bytes = session.body_bytes_read() as u64;
    let due = deadline(clock.start, clock.grace, clock.min_rate, bytes);
    match due
        .checked_duration_since(now)
        .filter(|left| !left.is_zero())
    {
        Some(left) => {
            session.set_read_timeout(Some(left.min(PER_READ)));
            Ok(())
        }
        None => Err(Error::explain(
            ErrorType::HTTPStatus(408),
            "request body not complete before client_body_deadline_seconds",
        )
        .into_down()),
    }
}

/// Whether `e` is the client stalling its body rather than a failure of the
/// side: a client body read that timed out (per read or at the deadline;
/// `Unset` for a body cutover reads itself), or a proxied upstream's read
/// that timed out before the client finished its body. That upstream was
/// waiting for the body: its read timer restarts with every body chunk, so
/// the client sent nothing for the upstream's whole read timeout. Such a
/// stall is the client's `408`: no upstream error, no health or judge
/// evidence against the side, no fallback.
pub(super) fn client_stalled(e: &Error, proxied: bool, body_done: bool) -> bool {
    if !matches!(e.etype(), ErrorType::ReadTimedout) {
        return false;
    }
    match e.esource() {
        ErrorSource::Downstream | ErrorSource::Unset => true,
        ErrorSource::Upstream => proxied && !body_done,
        ErrorSource::Internal => false,
    }
}

/// [`respond::classify`], except that a client stall ([`client_stalled`])
/// is the client's `408`, not a `400`, a `500` or the side's `504`.
pub(super) fn classify(e: &Error, proxied: bool, body_done: bool) -> Failure {
    if client_stalled(e, proxied, body_done) {
        Failure::Downstream { status: 408 }
    } else {
        respond::classify(e)
    }
}

#[cfg(test)]
mod tests;
