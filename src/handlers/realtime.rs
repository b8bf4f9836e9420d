//! Realtime domain: `GET /api/chat/realtime/config` (Soketi settings from the
//! `SystemConfig` row `realtime`, TTL-cached; admin-only cache clear) and
//! `POST /api/chat/realtime/auth` (Pusher channel authorization with the app's
//! channel rules, and user sign-in for session users only).

pub mod cache;
pub mod rules;

#[cfg(test)]
mod tests;

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::extract::Caller;
use super::{AppState, HandlerError};
use crate::identity::AuthScheme;
use crate::store::{chatbot, directory, whatsapp};
use rules::Channel;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/chat/realtime/config", get(config))
        .route("/api/chat/realtime/config/cache", delete(clear_cache))
        .route("/api/chat/realtime/auth", post(auth))
}

pub const AUTH_ENDPOINT: &str = "/api/chat/realtime/auth";

/// The contract's `RealtimeConfigPayload`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RealtimeConfigPayload {
    pub key: String,
    pub host: String,
    pub port: u16,
    #[serde(rename = "useTLS")]
    pub use_tls: bool,
    pub cluster: String,
    pub auth_endpoint: &'static str,
    pub user_auth_endpoint: &'static str,
}

/// The `SystemConfig` row `realtime` as stored by the legacy app.
#[derive(Deserialize)]
struct StoredRealtimeConfig {
    key: String,
    host: String,
    port: u16,
    #[serde(rename = "useTLS")]
    use_tls: bool,
    cluster: String,
}

/// Form or JSON body of the auth endpoint.
#[derive(Debug, Deserialize)]
pub struct AuthRequest {
    pub socket_id: Option<String>,
    pub channel_name: Option<String>,
}

#[derive(Serialize)]
struct UserInfo {
    name: Option<String>,
}

/// The exact JSON text signed for a presence member.
#[derive(Serialize)]
struct ChannelData<'a> {
    user_id: &'a str,
    user_info: UserInfo,
}

/// The exact JSON text signed for user sign-in.
#[derive(Serialize)]
struct UserData<'a> {
    id: &'a str,
    user_info: UserInfo,
}

/// The contract's `RealtimeAuthPayload`. Key order is the pusher SDK's:
/// `channel_data` before `auth`, `auth` before `user_data`.
#[derive(Debug, Serialize, PartialEq)]
pub struct AuthPayload {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_data: Option<String>,
    pub auth: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
}

async fn config(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<Json<RealtimeConfigPayload>, HandlerError> {
    let now = Instant::now();
    if let Some(cached) = state.realtime_cache.get(now) {
        return Ok(Json(cached));
    }
    let stored = directory::system_config(&state.pool, "realtime")
        .await?
        .and_then(|v| serde_json::from_value::<StoredRealtimeConfig>(v).ok())
        .ok_or(HandlerError::Unavailable("realtime_not_configured"))?;
    let payload = RealtimeConfigPayload {
        key: stored.key,
        host: stored.host,
        port: stored.port,
        use_tls: stored.use_tls,
        cluster: stored.cluster,
        auth_endpoint: AUTH_ENDPOINT,
        user_auth_endpoint: AUTH_ENDPOINT,
    };
    state.realtime_cache.put(now, payload.clone());
    Ok(Json(payload))
}

async fn clear_cache(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<StatusCode, HandlerError> {
    let user_id = caller
        .session_user()
        .map_err(|_| HandlerError::Forbidden("admin_only"))?;
    let admin = directory::user(&state.pool, user_id)
        .await?
        .is_some_and(|u| u.is_admin());
    if !admin {
        return Err(HandlerError::Forbidden("admin_only"));
    }
    state.realtime_cache.clear();
    Ok(StatusCode::NO_CONTENT)
}

/// Parse the body as JSON when the content type says so, else as a form.
pub fn parse_auth_request(headers: &HeaderMap, body: &[u8]) -> Result<AuthRequest, HandlerError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    let parsed = if is_json {
        // Only an object (serde would also read a struct from an array).
        serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .filter(|v| v.is_object())
            .and_then(|v| serde_json::from_value(v).ok())
    } else {
        serde_urlencoded::from_bytes(body).ok()
    };
    parsed.ok_or(HandlerError::Validation("invalid_body"))
}

async fn auth(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<AuthPayload>, HandlerError> {
    let req = parse_auth_request(&headers, &body)?;
    let socket_id = req
        .socket_id
        .as_deref()
        .filter(|s| rules::valid_socket_id(s))
        .ok_or(HandlerError::Validation("invalid_socket_id"))?;
    let Some(channel) = req.channel_name.as_deref() else {
        // Sign-in names a user for `sendToUser`: only a session is a user.
        if caller.0.scheme != AuthScheme::Session {
            return Err(HandlerError::Forbidden("channel_forbidden"));
        }
        return sign_in(&state, &caller, socket_id).await;
    };
    if !rules::valid_channel_name(channel) {
        return Err(HandlerError::Validation("invalid_channel_name"));
    }
    let kind = rules::classify(channel);
    if !may_join(&state, &caller, kind).await? {
        return Err(HandlerError::Forbidden("channel_forbidden"));
    }
    if !kind.is_presence() {
        let auth = state.pusher.authorize_channel(socket_id, channel, None);
        return Ok(Json(AuthPayload {
            auth,
            channel_data: None,
            user_data: None,
        }));
    }
    let name = display_name(&state, &caller).await?;
    let data = serde_json::to_string(&ChannelData {
        user_id: &caller.0.user_id,
        user_info: UserInfo { name },
    })
    .map_err(|_| HandlerError::Validation("invalid_body"))?;
    let auth = state
        .pusher
        .authorize_channel(socket_id, channel, Some(&data));
    Ok(Json(AuthPayload {
        auth,
        channel_data: Some(data),
        user_data: None,
    }))
}

async fn sign_in(
    state: &AppState,
    caller: &Caller,
    socket_id: &str,
) -> Result<Json<AuthPayload>, HandlerError> {
    let name = display_name(state, caller).await?;
    let data = serde_json::to_string(&UserData {
        id: &caller.0.user_id,
        user_info: UserInfo { name },
    })
    .map_err(|_| HandlerError::Validation("invalid_body"))?;
    let auth = state.pusher.authenticate_user(socket_id, &data);
    Ok(Json(AuthPayload {
        auth,
        channel_data: None,
        user_data: Some(data),
    }))
}

async fn display_name(state: &AppState, caller: &Caller) -> Result<Option<String>, HandlerError> {
    if caller.0.scheme != AuthScheme::Session {
        return Ok(None);
    }
    Ok(directory::user(&state.pool, &caller.0.user_id)
        .await?
        .and_then(|u| u.name))
}

/// The channel rules: own user channel, threads one participates in, one's
/// tenant presence channel, the private channel of a WhatsApp session of
/// one's tenant; a chatbot visitor only their own conversation.
async fn may_join(
    state: &AppState,
    caller: &Caller,
    channel: Channel<'_>,
) -> Result<bool, HandlerError> {
    let id = &caller.0;
    Ok(match (id.scheme, channel) {
        (AuthScheme::Session, Channel::User(user)) => user == id.user_id,
        (AuthScheme::Session, Channel::Thread(thread)) => {
            directory::is_participant(&state.pool, &id.user_id, thread).await?
        }
        (AuthScheme::Session, Channel::TenantPresence(tenant)) => {
            directory::is_member(&state.pool, &id.user_id, tenant).await?
        }
        (AuthScheme::Session, Channel::WhatsApp(session)) => {
            whatsapp::sessions::visible(&state.pool, session, &id.user_id)
                .await?
                .is_some()
        }
        // Owned by (tenant, issuer, visitor): another issuer's `v1` is not this `v1`.
        (AuthScheme::Chatbot, Channel::Chatbot(conversation)) => match caller.chatbot_visitor() {
            Ok(visitor) => chatbot::owned_conversation(&state.pool, conversation, visitor)
                .await?
                .is_some(),
            Err(_) => false,
        },
        _ => false,
    })
}
