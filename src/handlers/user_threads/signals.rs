//! Read/delivery receipts (stored, broadcast as the legacy
//! `tenant-user-message-read` / `-delivered`) and typing signals (broadcast
//! only) of a thread, on the thread's legacy channel.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ThreadScope;
use crate::handlers::extract::{Caller, Effects, JsonBody};
use crate::handlers::realtime::channels;
use crate::handlers::{AppState, HandlerError};
use crate::store::ser_ts;
use crate::store::threads::{self, Receipt};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptRequest {
    pub message_id: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Serialize)]
pub struct ReceiptEnvelope {
    pub receipt: Receipt,
}

/// The legacy `tenant-user-message-read` payload.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadEvent<'a> {
    pub tenant_id: &'a str,
    pub thread_key: &'a str,
    pub reader_id: &'a str,
    pub message_ids: [&'a str; 1],
    #[serde(serialize_with = "ser_ts")]
    pub read_at: DateTime<Utc>,
}

/// The legacy `tenant-user-message-delivered` payload.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveredEvent<'a> {
    pub tenant_id: &'a str,
    pub thread_key: &'a str,
    pub recipient_id: &'a str,
    pub message_ids: [&'a str; 1],
    #[serde(serialize_with = "ser_ts")]
    pub delivered_at: DateTime<Utc>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypingRequest {
    pub is_typing: Option<bool>,
}

/// The contract's `TypingEventPayload` (`typing`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TypingEventPayload<'a> {
    pub thread_id: &'a str,
    pub user_id: &'a str,
    pub is_typing: bool,
}

pub async fn receipt(
    State(state): State<AppState>,
    caller: Caller,
    effects: Effects,
    Path(thread_id): Path<String>,
    body: Result<JsonBody<ReceiptRequest>, HandlerError>,
) -> Result<Json<ReceiptEnvelope>, HandlerError> {
    let scope = ThreadScope::of_member(&state, &caller, &thread_id).await?;
    let JsonBody(req) = body?;
    let message_id = req
        .message_id
        .filter(|m| !m.is_empty())
        .ok_or(HandlerError::Validation("message_id_required"))?;
    let kind = match req.kind.as_deref() {
        Some("read") => "read",
        Some("delivered") => "delivered",
        _ => return Err(HandlerError::Validation("invalid_receipt_type")),
    };
    let user = caller.session_user()?;
    let mut tx = effects.begin().await?;
    let receipt =
        threads::record_receipt(&mut tx, &scope.thread.id, &message_id, user, kind == "read")
            .await?
            .ok_or(HandlerError::NotFound("message_not_found"))?;
    effects.finish(tx).await?;
    let (tenant_id, thread_key) = (scope.thread.tenant_id.as_str(), scope.key.as_str());
    let message_ids = [receipt.message_id.as_str()];
    match receipt.read_at.filter(|_| kind == "read") {
        Some(read_at) => {
            let event = ReadEvent {
                tenant_id,
                thread_key,
                reader_id: &receipt.user_id,
                message_ids,
                read_at,
            };
            effects
                .broadcast(&scope.channel(), channels::USER_MESSAGE_READ, &event)
                .await;
        }
        None => {
            let event = DeliveredEvent {
                tenant_id,
                thread_key,
                recipient_id: &receipt.user_id,
                message_ids,
                delivered_at: receipt.delivered_at,
            };
            effects
                .broadcast(&scope.channel(), channels::USER_MESSAGE_DELIVERED, &event)
                .await;
        }
    }
    Ok(Json(ReceiptEnvelope { receipt }))
}

pub async fn typing(
    State(state): State<AppState>,
    caller: Caller,
    effects: Effects,
    Path(thread_id): Path<String>,
    body: Result<JsonBody<TypingRequest>, HandlerError>,
) -> Result<StatusCode, HandlerError> {
    let scope = ThreadScope::of_member(&state, &caller, &thread_id).await?;
    let JsonBody(req) = body?;
    let is_typing = req
        .is_typing
        .ok_or(HandlerError::Validation("invalid_is_typing"))?;
    let user = caller.session_user()?;
    let event = TypingEventPayload {
        thread_id: &scope.thread.id,
        user_id: user,
        is_typing,
    };
    effects.broadcast(&scope.channel(), "typing", &event).await;
    Ok(StatusCode::NO_CONTENT)
}
