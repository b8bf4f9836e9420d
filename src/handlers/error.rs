//! The one error type of the handlers and its mapping to the contract's
//! `Error` shape `{"error": <class>, "reason": <code>}`. Client errors are not
//! logged as errors; internal details never reach the response. A database
//! that cannot be reached (connect refused, pool timeout, …) is not a 500:
//! it is a `503 rust_backend_unavailable` naming the cause (no credentials),
//! with `Retry-After`, and it is reported to `crate::health` through a
//! response extension.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::health::Backend;
use crate::health::passive::{DependencyDown, database_cause};
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
    /// 503: a dependency (the database) cannot be reached; `cause` is short
    /// and has no credentials.
    #[error("{} unreachable: {cause}", dependency.as_str())]
    DependencyDown { dependency: Backend, cause: String },
    /// 500: database failure (logged, never shown).
    #[error("internal: {0}")]
    Internal(StoreError),
}

/// Seconds a client is told to wait when a dependency is down.
pub const DEPENDENCY_RETRY_AFTER_SECS: u32 = 5;

impl HandlerError {
    pub fn status(&self) -> StatusCode {
        match self {
            HandlerError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            HandlerError::Forbidden(_) => StatusCode::FORBIDDEN,
            HandlerError::Validation(_) => StatusCode::BAD_REQUEST,
            HandlerError::NotFound(_) => StatusCode::NOT_FOUND,
            HandlerError::Conflict(_) => StatusCode::CONFLICT,
            HandlerError::Unavailable(_) | HandlerError::DependencyDown { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
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
            HandlerError::DependencyDown { .. } => ("rust_backend_unavailable", "dependency_down"),
            HandlerError::Internal(_) => ("internal", "internal_error"),
        }
    }
}

impl From<sqlx::Error> for HandlerError {
    fn from(e: sqlx::Error) -> Self {
        HandlerError::from(StoreError::Database(e))
    }
}

impl From<StoreError> for HandlerError {
    /// Connection and pool failures are the database being unreachable;
    /// everything else is a failed query.
    fn from(e: StoreError) -> Self {
        match &e {
            StoreError::Database(db) => match database_cause(db) {
                Some(cause) => HandlerError::DependencyDown {
                    dependency: Backend::Database,
                    cause,
                },
                None => HandlerError::Internal(e),
            },
            StoreError::Migrate(_) => HandlerError::Internal(e),
        }
    }
}

impl From<CancelError> for HandlerError {
    fn from(e: CancelError) -> Self {
        match e {
            CancelError::NotFound => HandlerError::NotFound("scheduled_not_found"),
            CancelError::NotPending => HandlerError::Conflict("scheduled_not_pending"),
            CancelError::Store(s) => HandlerError::from(s),
        }
    }
}

impl IntoResponse for HandlerError {
    fn into_response(self) -> Response {
        if let HandlerError::Internal(e) = &self {
            tracing::error!(error = %e, "handler failed");
        }
        if let HandlerError::DependencyDown { dependency, cause } = self {
            return dependency_down(dependency, cause);
        }
        let (error, reason) = self.codes();
        (
            self.status(),
            Json(json!({ "error": error, "reason": reason })),
        )
            .into_response()
    }
}

/// `503 {"error":"rust_backend_unavailable","reason":"database unreachable: …"}`
/// with `Retry-After`, carrying a [`DependencyDown`] for `crate::health`.
/// Not logged here: the health state logs the change once.
pub fn dependency_down(dependency: Backend, cause: String) -> Response {
    let body = json!({
        "error": "rust_backend_unavailable",
        "reason": format!("{} unreachable: {cause}", dependency.as_str()),
        "dependency": dependency.as_str(),
        "retry_after": DEPENDENCY_RETRY_AFTER_SECS,
    });
    let mut r = (
        StatusCode::SERVICE_UNAVAILABLE,
        [(
            http::header::RETRY_AFTER,
            DEPENDENCY_RETRY_AFTER_SECS.to_string(),
        )],
        Json(body),
    )
        .into_response();
    r.extensions_mut().insert(DependencyDown {
        backend: dependency,
        cause,
    });
    r
}

/// [`dependency_down`] for a store error that means the database is
/// unreachable; `None` for a failed query.
pub fn database_down(e: &StoreError) -> Option<Response> {
    match e {
        StoreError::Database(db) => {
            database_cause(db).map(|cause| dependency_down(Backend::Database, cause))
        }
        StoreError::Migrate(_) => None,
    }
}

#[cfg(test)]
mod tests;
