//! Scheduled messages of a thread (create, list, cancel) and the dispatcher
//! that sends each due one exactly once, even with several processes running,
//! announcing it as `tenant-user-message` on the thread channel and as
//! `scheduled-message-update` on `private-scheduled.{tenantId}.{senderId}`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;

use super::{ThreadScope, member_thread};
use crate::handlers::extract::{Caller, Effects, JsonBody, check_body};
use crate::handlers::pusher::PusherClient;
use crate::handlers::realtime::channels;
use crate::handlers::{AppState, HandlerError};
use crate::store::scheduled::{self, Dispatched, Scheduled};
use crate::store::threads::ThreadRef;
use crate::store::{StoreError, ser_ts};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleRequest {
    pub body: Option<String>,
    pub send_at: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledEnvelope {
    pub scheduled_message: Scheduled,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledList {
    pub scheduled_messages: Vec<Scheduled>,
}

/// RFC 3339, truncated to milliseconds (what JavaScript's Date keeps).
pub fn parse_send_at(s: Option<&str>) -> Result<DateTime<Utc>, HandlerError> {
    let bad = || HandlerError::Validation("invalid_send_at");
    let t = DateTime::parse_from_rfc3339(s.ok_or_else(bad)?).map_err(|_| bad())?;
    t.with_timezone(&Utc)
        .duration_trunc(TimeDelta::milliseconds(1))
        .map_err(|_| bad())
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    effects: Effects,
    Path(thread_id): Path<String>,
    body: Result<JsonBody<ScheduleRequest>, HandlerError>,
) -> Result<(StatusCode, Json<ScheduledEnvelope>), HandlerError> {
    let thread = member_thread(&state, &caller, &thread_id).await?;
    let JsonBody(req) = body?;
    let text = check_body(req.body.as_deref())?;
    let send_at = parse_send_at(req.send_at.as_deref())?;
    let user = caller.session_user()?;
    let mut tx = effects.begin().await?;
    let scheduled_message = scheduled::create(&mut tx, &thread.id, user, text, send_at).await?;
    effects.finish(tx).await?;
    Ok((
        StatusCode::CREATED,
        Json(ScheduledEnvelope { scheduled_message }),
    ))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(thread_id): Path<String>,
) -> Result<Json<ScheduledList>, HandlerError> {
    let thread = member_thread(&state, &caller, &thread_id).await?;
    let user = caller.session_user()?;
    let scheduled_messages = scheduled::list_pending(&state.pool, &thread.id, user).await?;
    Ok(Json(ScheduledList { scheduled_messages }))
}

pub async fn cancel(
    State(state): State<AppState>,
    caller: Caller,
    effects: Effects,
    Path((thread_id, scheduled_id)): Path<(String, String)>,
) -> Result<Json<ScheduledEnvelope>, HandlerError> {
    let thread = member_thread(&state, &caller, &thread_id).await?;
    let user = caller.session_user()?;
    let mut tx = effects.begin().await?;
    let scheduled_message = scheduled::cancel(&mut tx, &thread.id, &scheduled_id, user).await?;
    effects.finish(tx).await?;
    Ok(Json(ScheduledEnvelope { scheduled_message }))
}

/// The legacy `scheduled-message-update` payload (`{scheduledMessageId,
/// contactId, contactKey, …payload}`): the contact is the thread (its other
/// participant in a 1:1 thread, `null` in a group; `contactKey` the
/// `threadKey`); `targetType` is `"user-thread"`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledUpdateEvent<'a> {
    pub scheduled_message_id: &'a str,
    pub contact_id: Option<&'a str>,
    pub contact_key: &'a str,
    pub id: &'a str,
    #[serde(serialize_with = "ser_ts")]
    pub scheduled_at: DateTime<Utc>,
    pub status: &'a str,
    #[serde(serialize_with = "ser_ts")]
    pub sent_at: DateTime<Utc>,
    pub content: &'a str,
    pub target_type: &'a str,
}

/// Run [`dispatch_due`] every `every` until the task is dropped; failures are
/// retried on the next tick and logged when they start and when they stop
/// (not once a tick: a database that is down shows in `/-/backends`).
/// For `cutover serve` / `cutover handlers`.
pub async fn dispatch_forever(pool: PgPool, pusher: PusherClient, every: std::time::Duration) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        tick.tick().await;
        match dispatch_due(&pool, &pusher, Utc::now()).await {
            Ok(n) => {
                if std::mem::take(&mut failing) {
                    tracing::info!("scheduled dispatch works again");
                }
                if n > 0 {
                    tracing::info!(sent = n, "scheduled messages dispatched");
                }
            }
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "scheduled dispatch failed; retrying every tick, logged again when it recovers");
            }
            Err(_) => {}
        }
    }
}

/// Rows claimed per transaction.
const DISPATCH_BATCH: i64 = 100;

/// Send every scheduled message due at `now` (status `pending`, `sendAt <=
/// now`) as a normal message with its events ([`announce`]); returns how
/// many were sent. Safe to run from several processes at once: rows are
/// claimed with `FOR UPDATE SKIP LOCKED` and marked sent in the same
/// transaction, so each is sent exactly once. Events go out after commit.
pub async fn dispatch_due(
    pool: &PgPool,
    pusher: &PusherClient,
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    let mut total = 0;
    loop {
        let mut tx = pool.begin().await?;
        let sent = scheduled::send_due_batch(&mut tx, now, DISPATCH_BATCH).await?;
        tx.commit().await?;
        if sent.is_empty() {
            return Ok(total);
        }
        total += sent.len();
        for d in sent.iter().filter(|d| d.created) {
            if let Err(e) = announce(pool, pusher, d).await {
                tracing::warn!(error = %e, "scheduled message broadcast failed");
            }
        }
    }
}

/// `tenant-user-message` on the thread channel, then
/// `scheduled-message-update` (status `sent`) on the sender's scheduled channel.
async fn announce(pool: &PgPool, pusher: &PusherClient, d: &Dispatched) -> Result<(), String> {
    let thread = ThreadRef {
        id: d.message.thread_id.clone(),
        tenant_id: d.tenant_id.clone(),
    };
    let scope = ThreadScope::load(pool, thread)
        .await
        .map_err(|e| e.to_string())?;
    let message = &d.message;
    let event = scope.message_event(message);
    // The SSE streams get the same JSON text as Soketi.
    if let Ok(text) = serde_json::to_string(&event) {
        crate::handlers::streams::record(pool, &scope.channel(), channels::USER_MESSAGE, &text)
            .await;
    }
    pusher
        .trigger(&scope.channel(), channels::USER_MESSAGE, &event)
        .await
        .map_err(|e| e.to_string())?;
    let update = ScheduledUpdateEvent {
        scheduled_message_id: &d.scheduled_id,
        contact_id: channels::recipient(&scope.participants, &message.sender_id),
        contact_key: &scope.key,
        id: &d.scheduled_id,
        scheduled_at: d.send_at,
        status: "sent",
        sent_at: message.created_at,
        content: &message.body,
        target_type: "user-thread",
    };
    let channel = channels::scheduled_channel(&d.tenant_id, &message.sender_id);
    pusher
        .trigger(&channel, channels::SCHEDULED_UPDATE, &update)
        .await
        .map_err(|e| e.to_string())
}
