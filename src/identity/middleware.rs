//! axum middleware for the rust handlers: verified identity headers → `Extension<Identity>`.
//!
//! Use with `axum::middleware::from_fn_with_state(key, require_identity)`. A bad,
//! stale or missing signature is a 401 JSON `{"error":"unauthorized","reason":…}`.
//! Reads the wall clock (this is I/O glue; the decision is `verify_identity_headers`).

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{IdentityError, IdentityKey, verify_identity_headers};

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn unauthorized(reason: &'static str) -> Response {
    let body = serde_json::json!({ "error": "unauthorized", "reason": reason });
    (StatusCode::UNAUTHORIZED, Json(body)).into_response()
}

fn reason(err: &IdentityError) -> &'static str {
    match err {
        IdentityError::Stale => "stale_identity",
        IdentityError::BadSignature => "bad_signature",
        _ => "malformed",
    }
}

/// Requires a verified identity; inserts `Extension<Identity>`.
pub async fn require_identity(
    State(key): State<IdentityKey>,
    mut req: Request,
    next: Next,
) -> Response {
    match verify_identity_headers(req.headers(), &key, now_unix()) {
        Ok(Some(identity)) => {
            req.extensions_mut().insert(identity);
            next.run(req).await
        }
        Ok(None) => unauthorized("missing"),
        Err(e) => {
            tracing::debug!(error = %e, "identity headers rejected");
            unauthorized(reason(&e))
        }
    }
}

/// Like [`require_identity`], but a request without identity headers passes
/// through anonymously (no extension); bad headers are still a 401.
pub async fn optional_identity(
    State(key): State<IdentityKey>,
    mut req: Request,
    next: Next,
) -> Response {
    match verify_identity_headers(req.headers(), &key, now_unix()) {
        Ok(Some(identity)) => {
            req.extensions_mut().insert(identity);
            next.run(req).await
        }
        Ok(None) => next.run(req).await,
        Err(e) => {
            tracing::debug!(error = %e, "identity headers rejected");
            unauthorized(reason(&e))
        }
    }
}
