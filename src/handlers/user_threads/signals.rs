//! Read/delivery receipts (stored, broadcast) and typing signals (broadcast
//! only) of a thread.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::{member_thread, thread_channel};
use crate::handlers::extract::{Caller, Effects, JsonBody};
use crate::handlers::{AppState, HandlerError};
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

/// The contract's `ReceiptEventPayload` (`receipt`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptEventPayload<'a> {
    pub thread_id: &'a str,
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub receipt: &'a Receipt,
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
    let thread = member_thread(&state, &caller, &thread_id).await?;
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
    let receipt = threads::record_receipt(&mut tx, &thread.id, &message_id, user, kind == "read")
        .await?
        .ok_or(HandlerError::NotFound("message_not_found"))?;
    effects.finish(tx).await?;
    let event = ReceiptEventPayload {
        thread_id: &thread.id,
        kind,
        receipt: &receipt,
    };
    effects
        .broadcast(&thread_channel(&thread.id), "receipt", &event)
        .await;
    Ok(Json(ReceiptEnvelope { receipt }))
}

pub async fn typing(
    State(state): State<AppState>,
    caller: Caller,
    effects: Effects,
    Path(thread_id): Path<String>,
    body: Result<JsonBody<TypingRequest>, HandlerError>,
) -> Result<StatusCode, HandlerError> {
    let thread = member_thread(&state, &caller, &thread_id).await?;
    let JsonBody(req) = body?;
    let is_typing = req
        .is_typing
        .ok_or(HandlerError::Validation("invalid_is_typing"))?;
    let user = caller.session_user()?;
    let event = TypingEventPayload {
        thread_id: &thread.id,
        user_id: user,
        is_typing,
    };
    effects
        .broadcast(&thread_channel(&thread.id), "typing", &event)
        .await;
    Ok(StatusCode::NO_CONTENT)
}
