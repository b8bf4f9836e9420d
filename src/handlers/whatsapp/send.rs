//! `POST /api/whatsapp/chat-messages`: queue a send in the outbox, once per
//! (`sessionId`, `clientMessageId`) whichever backend takes the POST (a
//! retry, a shadow copy, a fallback retry or a flip all land on the same row).

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error::WaError;
use super::params::{Admin, Body};
use super::sessions::visible;
use crate::handlers::AppState;
use crate::handlers::extract::{Effects, js_len};
use crate::store::whatsapp::outbox;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/whatsapp/chat-messages", post(send))
}

pub const MAX_CONTENT: usize = 4096;

/// `<5..20 digits>@s.whatsapp.net` or `<5..40 digits and dashes>@g.us`.
pub fn valid_jid(jid: &str) -> bool {
    let all = |s: &str, extra: u8| s.bytes().all(|b| b.is_ascii_digit() || b == extra);
    if let Some(user) = jid.strip_suffix("@s.whatsapp.net") {
        (5..=20).contains(&user.len()) && user.bytes().all(|b| b.is_ascii_digit())
    } else if let Some(group) = jid.strip_suffix("@g.us") {
        (5..=40).contains(&group.len()) && all(group, b'-')
    } else {
        false
    }
}

/// The WhatsApp message id the worker sends with: deterministic per key,
/// so a resend after a lost ack is the same message to WhatsApp.
pub fn wa_message_id(session_id: &str, client_message_id: &str) -> String {
    let digest = Sha256::digest(format!("{session_id}\n{client_message_id}").as_bytes());
    format!("3EB0{}", hex::encode_upper(&digest[..8]))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Queued {
    success: bool,
    message: &'static str,
    outbox_id: String,
    client_message_id: String,
    status: String,
}

async fn send(
    State(state): State<AppState>,
    Admin(user): Admin,
    effects: Effects,
    body: Result<Body, WaError>,
) -> Result<Json<Queued>, WaError> {
    let body = body?;
    let session = visible(&state, &user, body.session_id()?).await?;
    let to = body
        .text("toJid")
        .ok_or(WaError::BadRequest("toJid is required"))?;
    if !valid_jid(to) {
        return Err(WaError::BadRequest("Invalid toJid"));
    }
    let content = body
        .text("content")
        .filter(|c| !c.trim().is_empty())
        .ok_or(WaError::BadRequest("content is required"))?;
    if js_len(content) > MAX_CONTENT {
        return Err(WaError::BadRequest("Content too long"));
    }
    let key = match body.0.get("clientMessageId") {
        None | Some(serde_json::Value::Null) => uuid::Uuid::new_v4().to_string(),
        Some(serde_json::Value::String(k)) if (1..=100).contains(&js_len(k)) => k.clone(),
        Some(_) => return Err(WaError::BadRequest("Invalid clientMessageId")),
    };
    let wa_id = wa_message_id(&session.session_id, &key);
    // A retry gets the first row back with the same answer as a new send:
    // nothing is announced at queue time (the worker's result is).
    let row = effects
        .transact(async |tx| {
            outbox::enqueue(tx, &session.session_id, &key, &wa_id, to, content, &user).await
        })
        .await?
        .row;
    Ok(Json(Queued {
        success: true,
        message: "Message queued",
        outbox_id: row.id,
        client_message_id: row.client_message_id,
        status: row.status,
    }))
}
