//! The WhatsApp routes' error type and its mapping to the legacy app's error
//! shape `{"error": "<message>"}` (the admin UI reads `error` as a message,
//! so the other domains' `{error, reason}` shape is not used here; see
//! contracts/whatsapp.md). Internal details never reach the response.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::StoreError;

/// Every way a WhatsApp handler can fail; the status is on each variant and
/// the message is the exact `error` string of the contract.
#[derive(Debug, thiserror::Error)]
pub enum WaError {
    /// 400
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// 401: no verified identity reached the handler.
    #[error("unauthorized")]
    Unauthorized,
    /// 403: identity of the wrong kind, or a tenant the caller is not in.
    #[error("forbidden")]
    Forbidden,
    /// 404
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// 409
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// 503: a dependency is not configured.
    #[error("unavailable: {0}")]
    Unavailable(&'static str),
    /// 503: the database cannot be reached (short cause, no credentials).
    #[error("database unreachable: {0}")]
    DatabaseDown(String),
    /// 500: database or I/O failure (logged, never shown).
    #[error("internal: {0}")]
    Internal(String),
}

/// The one 404 for a session that is missing or of another tenant.
pub const SESSION_NOT_FOUND: WaError = WaError::NotFound("Session not found or access denied");

impl WaError {
    pub fn status(&self) -> StatusCode {
        match self {
            WaError::BadRequest(_) => StatusCode::BAD_REQUEST,
            WaError::Unauthorized => StatusCode::UNAUTHORIZED,
            WaError::Forbidden => StatusCode::FORBIDDEN,
            WaError::NotFound(_) => StatusCode::NOT_FOUND,
            WaError::Conflict(_) => StatusCode::CONFLICT,
            WaError::Unavailable(_) | WaError::DatabaseDown(_) => StatusCode::SERVICE_UNAVAILABLE,
            WaError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The `error` string of the body.
    pub fn message(&self) -> &'static str {
        match self {
            WaError::BadRequest(m)
            | WaError::NotFound(m)
            | WaError::Conflict(m)
            | WaError::Unavailable(m) => m,
            WaError::Unauthorized => "Unauthorized",
            WaError::Forbidden => "Forbidden",
            WaError::DatabaseDown(_) => "rust_backend_unavailable",
            WaError::Internal(_) => "Internal server error",
        }
    }
}

impl From<StoreError> for WaError {
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::Database(db) => WaError::from_sqlx(db),
            StoreError::Migrate(_) => WaError::Internal(e.to_string()),
        }
    }
}

impl From<sqlx::Error> for WaError {
    fn from(e: sqlx::Error) -> Self {
        WaError::from_sqlx(&e)
    }
}

impl WaError {
    fn from_sqlx(e: &sqlx::Error) -> WaError {
        match crate::health::passive::database_cause(e) {
            Some(cause) => WaError::DatabaseDown(cause),
            None => WaError::Internal(e.to_string()),
        }
    }
}

impl From<std::io::Error> for WaError {
    fn from(e: std::io::Error) -> Self {
        WaError::Internal(e.to_string())
    }
}

impl IntoResponse for WaError {
    fn into_response(self) -> Response {
        if let WaError::Internal(e) = &self {
            tracing::error!(error = %e, "whatsapp handler failed");
        }
        if let WaError::DatabaseDown(cause) = self {
            return crate::handlers::error::dependency_down(
                crate::health::Backend::Database,
                cause,
            );
        }
        (self.status(), Json(json!({ "error": self.message() }))).into_response()
    }
}

impl From<crate::handlers::HandlerError> for WaError {
    fn from(e: crate::handlers::HandlerError) -> Self {
        if let crate::handlers::HandlerError::DependencyDown { cause, .. } = e {
            return WaError::DatabaseDown(cause);
        }
        WaError::Internal(e.to_string())
    }
}
