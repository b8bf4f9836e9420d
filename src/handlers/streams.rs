//! SSE streams (issue 15): the events of one chatbot conversation or one user
//! thread, with the same names and JSON payloads as its Soketi channel.
//!
//! - `GET /api/tenant-chatbot/conversations/{conversationId}/stream`: the
//!   chatbot visitor who owns the conversation (as the messages route);
//!   channel `private-chatbot-{conversationId}`.
//! - `GET /api/chat/user-threads/{threadId}/stream`: a session user who
//!   participates in the thread (as the messages route); channel
//!   `presence-tenant.{tenantId}.thread.{threadKey}`.
//!
//! Access is checked before the stream opens, so a refusal is the messages
//! route's JSON error. Resume with `Last-Event-ID` (or `?lastEventId=` for
//! clients that cannot set headers). At most `StreamConfig::per_identity`
//! open streams per identity: the next is `429` with `Retry-After`.
//! Events come from `stream_events` (recorded by both backends' writers, see
//! [`record`]) through the process's one listener in [`hub`]; the framing is
//! in [`sse`].

pub mod hub;
pub mod recorder;
pub mod sse;

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use super::extract::Caller;
use super::tenant_chatbot::chatbot_channel;
use super::user_threads::{ThreadScope, member_thread};
use super::{AppState, HandlerError};
use crate::identity::Identity;
use crate::store::chatbot;
use crate::store::stream_events;

pub use hub::Hub;
pub use recorder::Recorder;

/// Stream limits and timings.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// A `: hb` comment after this much silence (15 s).
    pub heartbeat: Duration,
    /// Events a subscriber may fall behind before it is ended (256).
    pub buffer: usize,
    /// Open streams per identity (5).
    pub per_identity: usize,
    /// The `retry:` hint sent when a stream is ended (ms).
    pub retry_ms: u64,
    /// `Retry-After` of the 429 at the cap (s).
    pub retry_after_secs: u64,
    /// Events older than this are pruned (1 h); an older resume gets `reset`.
    pub retention: Duration,
}

impl Default for StreamConfig {
    fn default() -> StreamConfig {
        StreamConfig {
            heartbeat: Duration::from_secs(15),
            buffer: 256,
            per_identity: 5,
            retry_ms: 1000,
            retry_after_secs: 5,
            retention: Duration::from_secs(3600),
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/tenant-chatbot/conversations/{conversation_id}/stream",
            get(chatbot_stream),
        )
        .route(
            "/api/chat/user-threads/{thread_id}/stream",
            get(thread_stream),
        )
}

/// `?lastEventId=` (the `token` query parameter is removed by the proxy).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamQuery {
    pub last_event_id: Option<String>,
}

/// Record one published event when its channel has a stream (called by the
/// writers right after they publish it, with the same JSON text). The
/// request path records through [`Recorder`] instead (batched commits). A failure
/// is logged: the state change is committed and Soketi has the event.
pub async fn record(pool: &sqlx::PgPool, channel: &str, event: &str, payload: &str) {
    if !stream_events::is_streamable(channel) {
        return;
    }
    if let Err(e) = stream_events::append(pool, channel, event, payload).await {
        tracing::warn!(error = %e, event, "stream event not recorded");
    }
}

async fn chatbot_stream(
    State(state): State<AppState>,
    caller: Caller,
    Path(conversation_id): Path<String>,
    Query(query): Query<StreamQuery>,
    headers: HeaderMap,
) -> Result<Response, HandlerError> {
    let visitor = caller.chatbot_visitor()?;
    let conversation = chatbot::owned_conversation(&state.pool, &conversation_id, visitor)
        .await?
        .ok_or(HandlerError::NotFound("conversation_not_found"))?;
    let channel = chatbot_channel(&conversation.id);
    serve(&state.streams, &caller.0, channel, &headers, &query).await
}

async fn thread_stream(
    State(state): State<AppState>,
    caller: Caller,
    Path(thread_id): Path<String>,
    Query(query): Query<StreamQuery>,
    headers: HeaderMap,
) -> Result<Response, HandlerError> {
    let thread = member_thread(&state, &caller, &thread_id).await?;
    let scope = ThreadScope::load(&state.pool, thread).await?;
    serve(&state.streams, &caller.0, scope.channel(), &headers, &query).await
}

async fn serve(
    hub: &Arc<Hub>,
    who: &Identity,
    channel: String,
    headers: &HeaderMap,
    query: &StreamQuery,
) -> Result<Response, HandlerError> {
    let last = last_event_id(headers, query)?;
    let Some(slot) = hub.acquire(identity_key(who)) else {
        return Ok(too_many(&hub.config));
    };
    sse::open(hub.clone(), slot, channel, last).await
}

/// The resume id: the `Last-Event-ID` header, else `?lastEventId=`; empty is
/// none; anything but a non-negative integer → 400 `invalid_last_event_id`.
pub fn last_event_id(
    headers: &HeaderMap,
    query: &StreamQuery,
) -> Result<Option<i64>, HandlerError> {
    let raw = match headers.get("last-event-id") {
        Some(v) => v.to_str().ok().map(str::to_string),
        None => query.last_event_id.clone(),
    };
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => s
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or(HandlerError::Validation("invalid_last_event_id")),
    }
}

/// Whose streams count together: the user, or the chatbot visitor of one
/// tenant and issuer.
fn identity_key(id: &Identity) -> String {
    format!(
        "{:?}:{}:{}:{}",
        id.scheme,
        id.issuer.as_deref().unwrap_or(""),
        id.tenant_id.as_deref().unwrap_or(""),
        id.user_id
    )
}

/// `429 {"error":"rate_limited","reason":"too_many_streams",…}` + `Retry-After`.
fn too_many(config: &StreamConfig) -> Response {
    let body = json!({
        "error": "rate_limited",
        "reason": "too_many_streams",
        "limit": config.per_identity,
        "retry_after": config.retry_after_secs,
    });
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, config.retry_after_secs.to_string())],
        Json(body),
    )
        .into_response()
}
