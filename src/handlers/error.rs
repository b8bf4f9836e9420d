//! The one error type of the handlers and its mapping to the contract's
//! `Error` shape `{"error": <class>, "reason": <code>}`. Client errors are not
//! logged as errors; internal details never reach the response.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::store::StoreError;
use crate::store::scheduled::CancelError;

/// Every way a handler can fail; the status is on each variant.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// 401: no verified identity reached the handler.
    #[error("unauthorized: {0}")]
    Unauthorized(&'static str),
    /// 403: identity known but not allowed.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// 400: the request is malformed.
    #[error("validation failed: {0}")]
    Validation(&'static str),
    /// 404: no such resource, or not the caller's.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// 409: the resource is not in a state that allows this.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// 503: a dependency is not configured.
    #[error("unavailable: {0}")]
    Unavailable(&'static str),
    /// 500: database failure (logged, never shown).
    #[error("internal: {0}")]
    Internal(#[from] StoreError),
}

impl HandlerError {
    pub fn status(&self) -> StatusCode {
        match self {
            HandlerError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            HandlerError::Forbidden(_) => StatusCode::FORBIDDEN,
            HandlerError::Validation(_) => StatusCode::BAD_REQUEST,
            HandlerError::NotFound(_) => StatusCode::NOT_FOUND,
            HandlerError::Conflict(_) => StatusCode::CONFLICT,
            HandlerError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            HandlerError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// (`error`, `reason`) of the JSON body.
    pub fn codes(&self) -> (&'static str, &'static str) {
        match self {
            HandlerError::Unauthorized(r) => ("unauthorized", r),
            HandlerError::Forbidden(r) => ("forbidden", r),
            HandlerError::Validation(r) => ("validation_failed", r),
            HandlerError::NotFound(r) => ("not_found", r),
            HandlerError::Conflict(r) => ("conflict", r),
            HandlerError::Unavailable(r) => ("unavailable", r),
            HandlerError::Internal(_) => ("internal", "internal_error"),
        }
    }
}

impl From<sqlx::Error> for HandlerError {
    fn from(e: sqlx::Error) -> Self {
        HandlerError::Internal(StoreError::Database(e))
    }
}

impl From<CancelError> for HandlerError {
    fn from(e: CancelError) -> Self {
        match e {
            CancelError::NotFound => HandlerError::NotFound("scheduled_not_found"),
            CancelError::NotPending => HandlerError::Conflict("scheduled_not_pending"),
            CancelError::Store(s) => HandlerError::Internal(s),
        }
    }
}

impl IntoResponse for HandlerError {
    fn into_response(self) -> Response {
        if let HandlerError::Internal(e) = &self {
            tracing::error!(error = %e, "handler failed");
        }
        let (error, reason) = self.codes();
        (
            self.status(),
            Json(json!({ "error": error, "reason": reason })),
        )
            .into_response()
    }
}
