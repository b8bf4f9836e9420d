//! The Baileys worker's routes (service identity): the sessions it must
//! hold, batched event ingest (replay-safe), outbox claim and result.

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;

use super::baileys;
use super::error::{SESSION_NOT_FOUND, WaError};
use super::events::{WaEvent, emit};
use super::ingest::{self, Applied};
use super::params::{Body, Worker};
use crate::handlers::AppState;
use crate::handlers::extract::Effects;
use crate::store::whatsapp::ingest::{NewMessage, claim_batch, upsert_message};
use crate::store::whatsapp::outbox::{self, Claimed, MAX_ATTEMPTS};
use crate::store::whatsapp::sessions::{self, HeldSession};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/whatsapp/worker/sessions", get(held))
        .route("/api/whatsapp/worker/events", post(events))
        .route("/api/whatsapp/worker/outbox/claim", post(claim))
        .route(
            "/api/whatsapp/worker/outbox/{outbox_id}/result",
            post(result),
        )
}

#[derive(Serialize)]
struct HeldList {
    sessions: Vec<HeldSession>,
}

async fn held(State(state): State<AppState>, _: Worker) -> Result<Json<HeldList>, WaError> {
    let sessions = sessions::held(&state.pool).await?;
    Ok(Json(HeldList { sessions }))
}

#[derive(Serialize)]
struct Ingested {
    success: bool,
    duplicate: bool,
    applied: Applied,
}

async fn events(
    State(state): State<AppState>,
    _: Worker,
    effects: Effects,
    body: Result<Body, WaError>,
) -> Result<Json<Ingested>, WaError> {
    let body = body?;
    let session = sessions::by_id(&state.pool, body.session_id()?)
        .await?
        .ok_or(SESSION_NOT_FOUND)?;
    let batch = baileys::parse_batch(&body.0).map_err(|_| WaError::BadRequest("Invalid batch"))?;
    let id = &session.session_id;
    // The batch id is recorded in the batch's own transaction: a replay on
    // either backend finds it and applies nothing.
    let outcome = effects
        .transact(
            async |tx| match claim_batch(tx, id, &batch.batch_id).await? {
                true => ingest::apply(tx, id, &batch.events).await.map(Some),
                false => Ok(None),
            },
        )
        .await?;
    let Some(outcome) = outcome else {
        return Ok(Json(Ingested {
            success: true,
            duplicate: true,
            applied: Applied::default(),
        }));
    };
    emit(&effects, id, &session.tenant_id, &outcome.events).await;
    Ok(Json(Ingested {
        success: true,
        duplicate: false,
        applied: outcome.applied,
    }))
}

#[derive(Serialize)]
struct ClaimedList {
    items: Vec<Claimed>,
}

/// An integer field within `range`, else the default; any other type or an
/// out-of-range value is a 400 with `error`.
fn int_in(
    body: &Body,
    key: &str,
    range: std::ops::RangeInclusive<i64>,
    default: i64,
    error: &'static str,
) -> Result<i64, WaError> {
    match body.0.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_i64()
            .filter(|n| range.contains(n))
            .ok_or(WaError::BadRequest(error)),
    }
}

async fn claim(
    _: Worker,
    effects: Effects,
    body: Result<Body, WaError>,
) -> Result<Json<ClaimedList>, WaError> {
    let body = body?;
    let worker = body
        .text("workerId")
        .ok_or(WaError::BadRequest("workerId is required"))?;
    let limit = int_in(&body, "limit", 1..=100, 10, "Invalid limit")?;
    let lease = int_in(&body, "leaseSeconds", 5..=600, 60, "Invalid leaseSeconds")?;
    let items = effects
        .transact(async |tx| outbox::claim(tx, worker, limit, lease).await)
        .await?;
    Ok(Json(ClaimedList { items }))
}

#[derive(Serialize)]
struct Settled {
    success: bool,
    duplicate: bool,
    status: &'static str,
}

async fn result(
    _: Worker,
    effects: Effects,
    Path(outbox_id): Path<String>,
    body: Result<Body, WaError>,
) -> Result<Json<Settled>, WaError> {
    let body = body?;
    let mut tx = effects.begin().await?;
    let row = outbox::lock(&mut tx, &outbox_id)
        .await?
        .ok_or(WaError::NotFound("Outbox item not found"))?;
    body.text("workerId")
        .ok_or(WaError::BadRequest("workerId is required"))?;
    const INVALID: WaError = WaError::BadRequest("Invalid result");
    let Some(Value::Bool(ok)) = body.0.get("ok") else {
        return Err(INVALID);
    };
    let ok = *ok;
    let optional = |key| match body.0.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str()).filter(|s| !s.is_empty())),
        Some(_) => Err(INVALID),
    };
    let message_id = optional("messageId")?;
    let error = optional("error")?;
    if row.status == "sent" {
        effects.finish(tx).await?;
        return Ok(Json(Settled {
            success: true,
            duplicate: true,
            status: "sent",
        }));
    }
    if !ok {
        let status = if row.attempts < MAX_ATTEMPTS {
            "queued"
        } else {
            "failed"
        };
        outbox::settle(&mut tx, &outbox_id, status, error).await?;
        effects.finish(tx).await?;
        return Ok(Json(Settled {
            success: true,
            duplicate: false,
            status,
        }));
    }
    outbox::settle(&mut tx, &outbox_id, "sent", None).await?;
    let message_id = message_id.unwrap_or(&row.wa_message_id);
    let now = chrono::Utc::now();
    let sent = NewMessage {
        message_id,
        remote_jid: &row.to_jid,
        from_me: true,
        content: Some(&row.content),
        message_type: "TEXT",
        status: "SENT",
        media_url: None,
        media_mime_type: None,
        media_size: None,
        quoted_message_id: None,
        timestamp: now,
        metadata: None,
        sender_id: row.sender_id.as_deref(),
    };
    let stored = upsert_message(&mut tx, &row.session_id, &sent).await?;
    effects.finish(tx).await?;
    let mut events = vec![WaEvent::MessageSent {
        message: stored.row.clone(),
        client_message_id: row.client_message_id.clone(),
    }];
    if stored.created {
        events.push(WaEvent::MessageReceived(stored.row));
    }
    emit(&effects, &row.session_id, &row.tenant_id, &events).await;
    Ok(Json(Settled {
        success: true,
        duplicate: false,
        status: "sent",
    }))
}
