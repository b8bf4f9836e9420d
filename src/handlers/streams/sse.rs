//! One open SSE stream: backfill from `stream_events` after the resume id,
//! then live events from the hub, deduplicated by id (the subscription is
//! taken before the backfill is read, so nothing falls between the two), and
//! a `: hb` comment every `StreamConfig::heartbeat`.
//!
//! Framing: `id: <n>` / `event: <name>` / `data: <payload>` per event. The
//! first frame is `id: <position>` with no data (it moves the client's
//! last-event id without dispatching an event, so a reconnect before any
//! event resumes exactly). A resume older than retention gets
//! `event: reset` (data `{}`) at the channel's head instead of a backfill. A
//! subscriber that lags behind the bounded buffer, or a failed read, ends the
//! stream with `retry: <ms>`; the client resumes from its last id.

use std::collections::VecDeque;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use futures::stream;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::time::{Instant, Interval, MissedTickBehavior};

use super::hub::{Hub, Slot};
use crate::handlers::HandlerError;
use crate::store::stream_events::{self, StreamEvent};

/// Rows read per backfill query.
const BACKFILL_BATCH: i64 = 200;

struct Open {
    hub: Arc<Hub>,
    channel: String,
    rx: broadcast::Receiver<Arc<StreamEvent>>,
    /// The id of the last event sent (or the starting point).
    position: i64,
    backfilling: bool,
    pending: VecDeque<StreamEvent>,
    heartbeat: Interval,
    done: bool,
    _slot: Slot,
}

/// One event as SSE; a payload line break (never in JSON text) gets its own `data:`.
pub fn frame(e: &StreamEvent) -> String {
    let mut out = format!("id: {}\nevent: {}\n", e.id, e.event);
    for line in e.payload.split('\n') {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}

/// Open the stream of `channel` resuming after `last_event_id`.
pub async fn open(
    hub: Arc<Hub>,
    slot: Slot,
    channel: String,
    last_event_id: Option<i64>,
) -> Result<Response, HandlerError> {
    let rx = hub.subscribe(&channel).await?;
    let (position, backfilling, first) = match last_event_id {
        Some(last) if last >= stream_events::pruned_through(hub.pool()).await? => {
            (last, true, format!("id: {last}\n\n"))
        }
        Some(_) => {
            let head = stream_events::head(hub.pool(), &channel).await?;
            (
                head,
                false,
                format!("id: {head}\nevent: reset\ndata: {{}}\n\n"),
            )
        }
        None => {
            let head = stream_events::head(hub.pool(), &channel).await?;
            (head, false, format!("id: {head}\n\n"))
        }
    };
    let every = hub.config.heartbeat;
    let mut heartbeat = tokio::time::interval_at(Instant::now() + every, every);
    heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let state = Open {
        hub,
        channel,
        rx,
        position,
        backfilling,
        pending: VecDeque::new(),
        heartbeat,
        done: false,
        _slot: slot,
    };
    let head = stream::once(async move { Ok::<Bytes, std::io::Error>(Bytes::from(first)) });
    let body = stream::unfold(state, |mut s| async move {
        let text = next(&mut s).await?;
        Some((Ok(Bytes::from(text)), s))
    });
    let mut response = Body::from_stream(futures::StreamExt::chain(head, body)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// The next chunk of the stream; `None` once it ended.
async fn next(s: &mut Open) -> Option<String> {
    if s.done {
        return None;
    }
    loop {
        if let Some(e) = s.pending.pop_front() {
            s.position = e.id;
            return Some(frame(&e));
        }
        if s.backfilling {
            match stream_events::after(s.hub.pool(), &s.channel, s.position, BACKFILL_BATCH).await {
                Ok(rows) => {
                    s.backfilling = rows.len() as i64 == BACKFILL_BATCH;
                    s.pending.extend(rows);
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "stream backfill failed");
                    return Some(end(s));
                }
            }
        }
        tokio::select! {
            biased;
            r = s.rx.recv() => match r {
                Ok(e) if e.id > s.position => {
                    s.position = e.id;
                    return Some(frame(&e));
                }
                Ok(_) => continue,
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return Some(end(s)),
            },
            _ = s.heartbeat.tick() => return Some(": hb\n\n".to_string()),
        }
    }
}

/// The last chunk: reconnect after `retry_ms`, resuming from the last id.
fn end(s: &mut Open) -> String {
    s.done = true;
    format!("retry: {}\n\n", s.hub.config.retry_ms)
}
