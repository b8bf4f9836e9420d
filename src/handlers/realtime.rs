//! Realtime domain, in the legacy app's contract (what its `RealtimeProvider`
//! reads): `GET /api/chat/realtime/config` (the `{success, config}` envelope
//! built from the `SystemConfig` row `realtime`, TTL-cached; admin-only cache
//! clear) here; `POST /api/chat/realtime/auth` (Pusher channel authorization
//! with the legacy rules, statuses and `{error}` bodies, plus the stricter
//! rules listed in `contracts/legacy-api.yaml`; user sign-in for session
//! users only) in [`auth`]. Channel names are built in [`channels`].

pub mod auth;
pub mod cache;
pub mod channels;
pub mod rules;

#[cfg(test)]
mod tests;

use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::extract::Caller;
use super::{AppState, HandlerError};
use crate::store::{StoreError, directory};
pub use auth::{AuthError, AuthPayload, AuthRequest, parse_auth_request};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/chat/realtime/config", get(config))
        .route("/api/chat/realtime/config/cache", delete(clear_cache))
        .route("/api/chat/realtime/auth", post(auth::auth))
}

/// The `message` of the disabled config answer (both sides say the same).
pub const DISABLED_MESSAGE: &str =
    "Realtime features are disabled. Configure the realtime settings to enable them.";

/// The legacy `config` object of a successful config answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RealtimeConfigPayload {
    pub key: String,
    pub host: String,
    pub port: u16,
    #[serde(rename = "useTLS")]
    pub use_tls: bool,
    pub app_id: String,
    pub cluster: &'static str,
}

/// The config route's answers, keys in the legacy order (structs, not
/// `json!`, which would sort them).
#[derive(Serialize)]
#[serde(untagged)]
enum ConfigAnswer {
    #[serde(rename_all = "camelCase")]
    Enabled {
        success: bool,
        config: RealtimeConfigPayload,
    },
    #[serde(rename_all = "camelCase")]
    Disabled {
        success: bool,
        has_config: bool,
        message: &'static str,
        config: Option<()>,
    },
    Failed {
        success: bool,
        message: &'static str,
        config: Option<()>,
    },
}

/// The `SystemConfig` row `realtime` as stored by the legacy app.
#[derive(Deserialize)]
struct StoredRealtimeConfig {
    key: String,
    host: String,
    port: u16,
    #[serde(rename = "useTLS")]
    use_tls: bool,
}

/// The config if realtime is configured (cached for the TTL; a missing or
/// unusable row is not cached).
async fn load_config(state: &AppState) -> Result<Option<RealtimeConfigPayload>, StoreError> {
    let now = Instant::now();
    if let Some(cached) = state.realtime_cache.get(now) {
        return Ok(Some(cached));
    }
    let Some(stored) = directory::system_config(&state.pool, "realtime")
        .await?
        .and_then(|v| serde_json::from_value::<StoredRealtimeConfig>(v).ok())
    else {
        return Ok(None);
    };
    let payload = RealtimeConfigPayload {
        key: stored.key,
        host: stored.host.trim().to_owned(),
        port: stored.port,
        use_tls: stored.use_tls,
        app_id: state.pusher.app_id().to_owned(),
        cluster: "mt1",
    };
    state.realtime_cache.put(now, payload.clone());
    Ok(Some(payload))
}

async fn config(State(state): State<AppState>, _caller: Caller) -> Response {
    match load_config(&state).await {
        Ok(Some(config)) => Json(ConfigAnswer::Enabled {
            success: true,
            config,
        })
        .into_response(),
        Ok(None) => Json(ConfigAnswer::Disabled {
            success: false,
            has_config: false,
            message: DISABLED_MESSAGE,
            config: None,
        })
        .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "realtime config failed");
            let failed = ConfigAnswer::Failed {
                success: false,
                message: "Failed to fetch realtime configuration",
                config: None,
            };
            (StatusCode::INTERNAL_SERVER_ERROR, Json(failed)).into_response()
        }
    }
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

/// 503 `Realtime not configured` for the auth route when there is no config.
async fn configured(state: &AppState) -> Result<(), AuthError> {
    load_config(state)
        .await?
        .map(|_| ())
        .ok_or(AuthError::NotConfigured)
}
