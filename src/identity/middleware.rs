//! axum middleware for the rust handlers: verified identity headers → `Extension<Identity>`.
//!
//! Use with `axum::middleware::from_fn_with_state(key, require_identity)`. A bad,
//! stale or missing signature, or one made for another audience, method, path or
//! query, is a 401 JSON `{"error":"unauthorized","reason":…}`. The request is
//! checked as received (audience `rust`), before any routing.
//! Reads the wall clock (this is I/O glue; the decision is `verify_identity_headers`).

use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{
    Audience, Identity, IdentityError, IdentityKey, SignedRequest, verify_identity_headers,
};

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

/// The identity headers of `req`, checked against `req` itself.
fn verify(req: &Request, key: &IdentityKey) -> Result<Option<Identity>, IdentityError> {
    let target = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let signed = SignedRequest {
        audience: Audience::Rust,
        method: req.method().as_str(),
        target,
    };
    verify_identity_headers(req.headers(), key, &signed, now_unix())
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
    match verify(&req, &key) {
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
    match verify(&req, &key) {
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
