//! Session lifecycle for the admin UI: list, create (retry-safe), delete,
//! connect, disconnect (which really disconnects: the legacy one did not
//! change the status), status.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde_json::Value;

use super::error::{SESSION_NOT_FOUND, WaError};
use super::events::{WaEvent, emit};
use super::params::{Admin, Body, Query};
use crate::handlers::AppState;
use crate::handlers::extract::{Effects, js_len};
use crate::store::whatsapp::SessionRef;
use crate::store::whatsapp::sessions::{self, Created, Session};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/whatsapp/sessions",
            get(list).post(create).delete(remove),
        )
        .route("/api/whatsapp/connect", post(connect))
        .route("/api/whatsapp/disconnect", post(disconnect))
        .route("/api/whatsapp/status", get(status))
}

/// The session named by the caller, if visible to them (else the one 404).
pub async fn visible(
    state: &AppState,
    user: &str,
    session_id: &str,
) -> Result<SessionRef, WaError> {
    sessions::visible(&state.pool, session_id, user)
        .await?
        .ok_or(SESSION_NOT_FOUND)
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    total: usize,
    connected: usize,
    qr_required: usize,
    connecting: usize,
}

#[derive(Serialize)]
struct SessionList {
    sessions: Vec<Session>,
    summary: Summary,
}

async fn list(
    State(state): State<AppState>,
    Admin(user): Admin,
) -> Result<Json<SessionList>, WaError> {
    let all = sessions::list_for_user(&state.pool, &user).await?;
    let count = |s: &str| all.iter().filter(|x| x.status == s).count();
    let summary = Summary {
        total: all.len(),
        connected: count("CONNECTED"),
        qr_required: count("QR_REQUIRED"),
        connecting: count("CONNECTING"),
    };
    Ok(Json(SessionList {
        sessions: all,
        summary,
    }))
}

#[derive(Serialize)]
struct CreatedBody {
    success: bool,
    session: Session,
}

fn valid_session_id(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

async fn create(
    State(state): State<AppState>,
    Admin(user): Admin,
    effects: Effects,
    body: Result<Body, WaError>,
) -> Result<(StatusCode, Json<CreatedBody>), WaError> {
    let body = body?;
    let name = body
        .text("name")
        .filter(|n| !n.trim().is_empty() && js_len(n) <= 100)
        .ok_or(WaError::BadRequest("name is required"))?;
    let session_id = match body.0.get("sessionId") {
        None | Some(Value::Null) => format!("wa_{}", uuid::Uuid::new_v4()),
        Some(Value::String(s)) if valid_session_id(s) => s.clone(),
        Some(_) => return Err(WaError::BadRequest("Invalid sessionId")),
    };
    let tenants = sessions::memberships(&state.pool, &user).await?;
    let tenant = match (body.text("tenantId"), tenants.as_slice()) {
        (Some(t), _) if tenants.iter().any(|m| m == t) => t.to_owned(),
        (Some(_), _) | (None, []) => return Err(WaError::Forbidden),
        (None, [only]) => only.clone(),
        (None, _) => return Err(WaError::BadRequest("tenantId is required")),
    };
    let created = effects
        .transact(async |tx| sessions::create(tx, &session_id, &tenant, name).await)
        .await?;
    match created {
        Created::New(session) => Ok((
            StatusCode::CREATED,
            Json(CreatedBody {
                success: true,
                session,
            }),
        )),
        Created::Existing(session) => Ok((
            StatusCode::OK,
            Json(CreatedBody {
                success: true,
                session,
            }),
        )),
        Created::Taken => Err(WaError::Conflict("Session already exists")),
    }
}

/// `{success: true, message}`.
#[derive(Serialize)]
pub struct Done {
    success: bool,
    message: &'static str,
}

pub fn done(message: &'static str) -> Json<Done> {
    Json(Done {
        success: true,
        message,
    })
}

async fn remove(
    State(state): State<AppState>,
    Admin(user): Admin,
    effects: Effects,
    query: Query,
) -> Result<Json<Done>, WaError> {
    let session = visible(&state, &user, query.session_id()?).await?;
    let id = &session.session_id;
    if !effects
        .transact(async |tx| sessions::delete(tx, id).await)
        .await?
    {
        return Err(SESSION_NOT_FOUND);
    }
    announce_disconnected(&effects, &session).await;
    Ok(done("Session deleted"))
}

async fn connect(
    State(state): State<AppState>,
    Admin(user): Admin,
    effects: Effects,
    body: Result<Body, WaError>,
) -> Result<Json<Done>, WaError> {
    let body = body?;
    let session = visible(&state, &user, body.session_id()?).await?;
    let name = body.text("name").filter(|n| !n.trim().is_empty());
    let id = &session.session_id;
    effects
        .transact(async |tx| sessions::mark_connecting(tx, id, name).await)
        .await?;
    Ok(done("Connection initiated"))
}

async fn disconnect(
    State(state): State<AppState>,
    Admin(user): Admin,
    effects: Effects,
    body: Result<Body, WaError>,
) -> Result<Json<Done>, WaError> {
    let body = body?;
    let session = visible(&state, &user, body.session_id()?).await?;
    let id = &session.session_id;
    effects
        .transact(async |tx| sessions::mark_disconnected(tx, id).await)
        .await?;
    announce_disconnected(&effects, &session).await;
    Ok(done("Disconnected"))
}

/// `connection.update {status: "disconnected"}` after a delete or disconnect.
async fn announce_disconnected(effects: &Effects, session: &SessionRef) {
    let events = [WaEvent::Connection("disconnected")];
    emit(effects, &session.session_id, &session.tenant_id, &events).await;
}

/// The UI's socket status word for a session status.
pub fn socket_status(status: &str) -> &'static str {
    match status {
        "CONNECTED" => "connected",
        "QR_REQUIRED" => "qr_required",
        "CONNECTING" => "connecting",
        _ => "disconnected",
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusBody {
    status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    qr: Option<String>,
    socket_status: &'static str,
}

async fn status(
    State(state): State<AppState>,
    Admin(user): Admin,
    query: Query,
) -> Result<Json<StatusBody>, WaError> {
    let s = visible(&state, &user, query.session_id()?).await?;
    let socket_status = socket_status(&s.status);
    let qr = s.qr.filter(|_| s.status == "QR_REQUIRED");
    Ok(Json(StatusBody {
        status: s.status,
        qr,
        socket_status,
    }))
}
