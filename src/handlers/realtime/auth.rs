//! `POST /api/chat/realtime/auth`: Pusher channel authorization with the
//! legacy rules, statuses and `{error}` bodies (plus the stricter rules the
//! contract marks as fixes), and user sign-in for session users only.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::channels;
use super::configured;
use super::rules::{self, Channel};
use crate::handlers::extract::Caller;
use crate::handlers::{AppState, HandlerError};
use crate::identity::AuthScheme;
use crate::store::{StoreError, chatbot, directory, threads, whatsapp};

/// Form or JSON body of the auth endpoint.
#[derive(Debug, Deserialize)]
pub struct AuthRequest {
    pub socket_id: Option<String>,
    pub channel_name: Option<String>,
}

#[derive(Serialize)]
struct UserInfo<'a> {
    email: Option<&'a str>,
}

/// The exact JSON text signed for a presence member.
#[derive(Serialize)]
struct ChannelData<'a> {
    user_id: &'a str,
    user_info: UserInfo<'a>,
}

/// The exact JSON text signed for user sign-in.
#[derive(Serialize)]
struct UserData<'a> {
    id: &'a str,
    user_info: UserInfo<'a>,
}

/// The Pusher auth JSON. Key order is the pusher SDK's: `channel_data`
/// before `auth`, `auth` before `user_data`.
#[derive(Debug, Serialize, PartialEq)]
pub struct AuthPayload {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel_data: Option<String>,
    pub auth: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
}

/// The auth route's failures, answered as the legacy app does:
/// `{"error": "<message>"}` with the legacy status.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// 401: no user with a tenant (the only status the client logs out on).
    #[error("Unauthorized")]
    Unauthorized,
    /// 400: body unreadable, `socket_id` missing or malformed.
    #[error("Invalid auth payload")]
    InvalidPayload,
    /// 403: the channel is not one this identity may join.
    #[error("Forbidden channel")]
    Forbidden,
    /// 503: no usable `SystemConfig` row `realtime`.
    #[error("Realtime not configured")]
    NotConfigured,
    /// 500: database failure (logged, never shown).
    #[error("Internal server error")]
    Internal(#[from] StoreError),
}

impl AuthError {
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::Unauthorized => StatusCode::UNAUTHORIZED,
            AuthError::InvalidPayload => StatusCode::BAD_REQUEST,
            AuthError::Forbidden => StatusCode::FORBIDDEN,
            AuthError::NotConfigured => StatusCode::SERVICE_UNAVAILABLE,
            AuthError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        if let AuthError::Internal(e) = &self {
            if let Some(down) = crate::handlers::error::database_down(e) {
                return down;
            }
            tracing::error!(error = %e, "realtime auth failed");
        }
        (self.status(), Json(json!({ "error": self.to_string() }))).into_response()
    }
}

/// Parse the body as JSON when the content type says so, else as a form.
pub fn parse_auth_request(headers: &HeaderMap, body: &[u8]) -> Result<AuthRequest, AuthError> {
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
    parsed.ok_or(AuthError::InvalidPayload)
}

/// Who asks: a session user with their tenants (`Membership`), or a chatbot
/// visitor (tenant and issuer from the token). Anything else is 401.
enum Asker {
    User { tenants: Vec<String> },
    Visitor,
}

async fn asker(state: &AppState, caller: &Caller) -> Result<Asker, AuthError> {
    match caller.0.scheme {
        AuthScheme::Session => {
            let tenants = directory::tenants_of(&state.pool, &caller.0.user_id).await?;
            if tenants.is_empty() {
                return Err(AuthError::Unauthorized);
            }
            Ok(Asker::User { tenants })
        }
        AuthScheme::Chatbot if caller.chatbot_visitor().is_ok() => Ok(Asker::Visitor),
        _ => Err(AuthError::Unauthorized),
    }
}

pub async fn auth(
    State(state): State<AppState>,
    caller: Result<Caller, HandlerError>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<AuthPayload>, AuthError> {
    let caller = caller.map_err(|_| AuthError::Unauthorized)?;
    let asker = asker(&state, &caller).await?;
    let req = parse_auth_request(&headers, &body)?;
    let socket_id = req
        .socket_id
        .as_deref()
        .filter(|s| rules::valid_socket_id(s))
        .ok_or(AuthError::InvalidPayload)?;
    let Some(channel) = req.channel_name.as_deref() else {
        // Sign-in names a user for `sendToUser`: only a session is a user.
        if !matches!(asker, Asker::User { .. }) {
            return Err(AuthError::Forbidden);
        }
        configured(&state).await?;
        return sign_in(&state, &caller, socket_id).await;
    };
    let kind = if rules::valid_channel_name(channel) {
        rules::classify(channel)
    } else {
        Channel::Other
    };
    if !may_join(&state, &caller, &asker, kind).await? {
        return Err(AuthError::Forbidden);
    }
    configured(&state).await?;
    if !kind.is_presence() {
        let auth = state.pusher.authorize_channel(socket_id, channel, None);
        return Ok(Json(AuthPayload {
            auth,
            channel_data: None,
            user_data: None,
        }));
    }
    let email = email(&state, &caller).await?;
    let data = serde_json::to_string(&ChannelData {
        user_id: &caller.0.user_id,
        user_info: UserInfo {
            email: email.as_deref(),
        },
    })
    .map_err(|_| AuthError::InvalidPayload)?;
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
) -> Result<Json<AuthPayload>, AuthError> {
    let email = email(state, caller).await?;
    let data = serde_json::to_string(&UserData {
        id: &caller.0.user_id,
        user_info: UserInfo {
            email: email.as_deref(),
        },
    })
    .map_err(|_| AuthError::InvalidPayload)?;
    let auth = state.pusher.authenticate_user(socket_id, &data);
    Ok(Json(AuthPayload {
        auth,
        channel_data: None,
        user_data: Some(data),
    }))
}

/// The session user's email from `User` (presence `user_info`).
async fn email(state: &AppState, caller: &Caller) -> Result<Option<String>, StoreError> {
    Ok(directory::user(&state.pool, &caller.0.user_id)
        .await?
        .and_then(|u| u.email))
}

/// The channel rules (each listed in the contract as legacy or fix):
/// a session user joins `presence-tenant.T.*` and `private-tenant.T.*` of a
/// tenant T they are a member of (legacy), a thread channel only if they take
/// part in a thread of T with that key (fix), their own
/// `private-scheduled.T.{userId}` (fix: legacy allowed none), the private
/// channel of a WhatsApp session of one of their tenants (fix: legacy allowed
/// any); a chatbot visitor only their own conversation (issuer-bound).
async fn may_join(
    state: &AppState,
    caller: &Caller,
    asker: &Asker,
    channel: Channel<'_>,
) -> Result<bool, StoreError> {
    let id = &caller.0;
    let member = |tenant: &str| match asker {
        Asker::User { tenants } => tenants.iter().any(|t| t == tenant),
        Asker::Visitor => false,
    };
    Ok(match channel {
        Channel::TenantPresence(tenant) | Channel::TenantPrivate(tenant) => member(tenant),
        Channel::Thread { tenant, key } => {
            member(tenant)
                && threads::tenant_threads_of(&state.pool, &id.user_id, tenant)
                    .await?
                    .iter()
                    .any(|(thread, people)| channels::thread_key(thread, people) == key)
        }
        Channel::Scheduled { tenant, sender } => member(tenant) && sender == id.user_id,
        Channel::WhatsApp(session) => {
            matches!(asker, Asker::User { .. })
                && whatsapp::sessions::visible(&state.pool, session, &id.user_id)
                    .await?
                    .is_some()
        }
        // Owned by (tenant, issuer, visitor): another issuer's `v1` is not this `v1`.
        Channel::Chatbot(conversation) => match (asker, caller.chatbot_visitor()) {
            (Asker::Visitor, Ok(visitor)) => {
                chatbot::owned_conversation(&state.pool, conversation, visitor)
                    .await?
                    .is_some()
            }
            _ => false,
        },
        Channel::Other => false,
    })
}
