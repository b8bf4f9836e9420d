//! User threads domain under `/api/chat/user-threads`: thread list, message
//! paging and idempotent sends here; receipts and typing in `signals`;
//! scheduled messages and their dispatcher in `scheduled`. Events go to the
//! legacy thread channel `presence-tenant.{tenantId}.thread.{threadKey}`
//! (names in [`crate::handlers::realtime::channels`]).

pub mod scheduled;
pub mod signals;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgExecutor;

use super::extract::{Caller, Effects, JsonBody};
use super::paging::{MessagePage, Paging};
use super::realtime::channels;
use super::send::{Announce, MessageEnvelope, SendRequest, send_once};
use super::{AppState, HandlerError};
use crate::store::threads::{self, Message, ThreadRef, ThreadSummary};
use crate::store::{StoreError, ser_ts};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/chat/user-threads", get(list))
        .route(
            "/api/chat/user-threads/{thread_id}/messages",
            get(page).post(send),
        )
        .route(
            "/api/chat/user-threads/{thread_id}/receipts",
            post(signals::receipt),
        )
        .route(
            "/api/chat/user-threads/{thread_id}/typing",
            post(signals::typing),
        )
        .route(
            "/api/chat/user-threads/{thread_id}/scheduled",
            get(scheduled::list).post(scheduled::create),
        )
        .route(
            "/api/chat/user-threads/{thread_id}/scheduled/{scheduled_id}",
            delete(scheduled::cancel),
        )
}

#[derive(Serialize)]
pub struct ThreadList {
    pub threads: Vec<ThreadSummary>,
}

/// A thread with what its events need: its tenant, participants and key.
pub struct ThreadScope {
    pub thread: ThreadRef,
    pub participants: Vec<String>,
    pub key: String,
}

impl ThreadScope {
    /// The scope of a thread the session caller participates in, else 404
    /// ([`member_thread`] and [`ThreadScope::load`] in one query).
    pub async fn of_member(
        state: &AppState,
        caller: &Caller,
        thread_id: &str,
    ) -> Result<Self, HandlerError> {
        let user = caller.session_user()?;
        let (thread, participants) =
            threads::participant_thread_with_participants(&state.pool, thread_id, user)
                .await?
                .ok_or(HandlerError::NotFound("thread_not_found"))?;
        let key = channels::thread_key(&thread.id, &participants);
        Ok(ThreadScope {
            thread,
            participants,
            key,
        })
    }

    pub async fn load<'e>(db: impl PgExecutor<'e>, thread: ThreadRef) -> Result<Self, StoreError> {
        let participants = threads::participants(db, &thread.id).await?;
        let key = channels::thread_key(&thread.id, &participants);
        Ok(ThreadScope {
            thread,
            participants,
            key,
        })
    }

    /// `presence-tenant.{tenantId}.thread.{threadKey}`.
    pub fn channel(&self) -> String {
        channels::thread_channel(&self.thread.tenant_id, &self.key)
    }

    /// The legacy `tenant-user-message` payload of `message`.
    pub fn message_event<'a>(&'a self, message: &'a Message) -> UserMessageEvent<'a> {
        UserMessageEvent {
            id: &message.id,
            tenant_id: &self.thread.tenant_id,
            thread_key: &self.key,
            sender_id: &message.sender_id,
            recipient_id: channels::recipient(&self.participants, &message.sender_id),
            content: &message.body,
            created_at: message.created_at,
        }
    }
}

/// The legacy `tenant-user-message` payload. `recipientId` is the other
/// participant of a 1:1 thread, `null` in a group; no `attachments` (the
/// thread model has none).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserMessageEvent<'a> {
    pub id: &'a str,
    pub tenant_id: &'a str,
    pub thread_key: &'a str,
    pub sender_id: &'a str,
    pub recipient_id: Option<&'a str>,
    pub content: &'a str,
    #[serde(serialize_with = "ser_ts")]
    pub created_at: DateTime<Utc>,
}

impl Announce<Message> for ThreadScope {
    fn channel(&self) -> String {
        ThreadScope::channel(self)
    }

    fn event(&self) -> &'static str {
        channels::USER_MESSAGE
    }

    fn created<'a>(&'a self, message: &'a Message) -> impl Serialize + Sync + 'a {
        self.message_event(message)
    }
}

/// The thread if the session caller participates in it, else 404.
pub async fn member_thread(
    state: &AppState,
    caller: &Caller,
    thread_id: &str,
) -> Result<ThreadRef, HandlerError> {
    let user = caller.session_user()?;
    threads::participant_thread(&state.pool, thread_id, user)
        .await?
        .ok_or(HandlerError::NotFound("thread_not_found"))
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<ThreadList>, HandlerError> {
    let user = caller.session_user()?;
    Ok(Json(ThreadList {
        threads: threads::list_threads(&state.pool, user).await?,
    }))
}

async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Path(thread_id): Path<String>,
    paging: Result<Paging, HandlerError>,
) -> Result<Json<MessagePage<Message>>, HandlerError> {
    let user = caller.session_user()?;
    let paging = match paging {
        Ok(paging) => paging,
        Err(bad) => {
            // Not a participant is a 404 before a bad parameter is a 400.
            member_thread(&state, &caller, &thread_id).await?;
            return Err(bad);
        }
    };
    let page = threads::page_messages(
        &state.pool,
        &thread_id,
        user,
        paging.cursor.as_ref(),
        paging.limit,
    )
    .await?;
    if page.0.is_empty() {
        // No rows: an empty page, or not a participant (the one query
        // answers both the same way).
        member_thread(&state, &caller, &thread_id).await?;
    }
    Ok(Json(page.into()))
}

async fn send(
    State(state): State<AppState>,
    caller: Caller,
    effects: Effects,
    Path(thread_id): Path<String>,
    body: Result<JsonBody<SendRequest>, HandlerError>,
) -> Result<(StatusCode, Json<MessageEnvelope<Message>>), HandlerError> {
    let scope = ThreadScope::of_member(&state, &caller, &thread_id).await?;
    let JsonBody(req) = body?;
    let (text, key) = req.checked()?;
    let user = caller.session_user()?;
    let thread = &scope.thread;
    send_once(&effects, &scope, async |tx| {
        threads::send_message(tx, &thread.id, user, text, key).await
    })
    .await
}
