//! User threads domain under `/api/chat/user-threads`: thread list, message
//! paging and idempotent sends here; receipts and typing in `signals`;
//! scheduled messages and their dispatcher in `scheduled`.

pub mod scheduled;
pub mod signals;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Serialize;

use super::extract::{Caller, Effects, JsonBody};
use super::paging::{MessagePage, Paging};
use super::send::{Announce, MessageEnvelope, SendRequest, send_once};
use super::{AppState, HandlerError};
use crate::store::threads::{self, Message, ThreadRef, ThreadSummary};

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

/// The contract's `TenantThreadEventPayload` (`message.created`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TenantThreadEventPayload<'a> {
    pub tenant_id: &'a str,
    pub thread_id: &'a str,
    pub message: &'a Message,
}

pub fn thread_channel(thread_id: &str) -> String {
    format!("private-thread-{thread_id}")
}

impl Announce<Message> for ThreadRef {
    fn channel(&self) -> String {
        thread_channel(&self.id)
    }

    fn created<'a>(&'a self, message: &'a Message) -> impl Serialize + Sync + 'a {
        TenantThreadEventPayload {
            tenant_id: &self.tenant_id,
            thread_id: &self.id,
            message,
        }
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
    let thread = member_thread(&state, &caller, &thread_id).await?;
    let paging = paging?;
    let page = threads::page_messages(
        &state.pool,
        &thread.id,
        paging.cursor.as_ref(),
        paging.limit,
    )
    .await?;
    Ok(Json(page.into()))
}

async fn send(
    State(state): State<AppState>,
    caller: Caller,
    effects: Effects,
    Path(thread_id): Path<String>,
    body: Result<JsonBody<SendRequest>, HandlerError>,
) -> Result<(StatusCode, Json<MessageEnvelope<Message>>), HandlerError> {
    let thread = member_thread(&state, &caller, &thread_id).await?;
    let JsonBody(req) = body?;
    let (text, key) = req.checked()?;
    let user = caller.session_user()?;
    send_once(&effects, &thread, async |tx| {
        threads::send_message(tx, &thread.id, user, text, key).await
    })
    .await
}
