//! Shared request extractors: the verified caller, the side-effect gate
//! (shadow dry-run), JSON bodies, and the body / idempotency-key rules, each
//! rejecting with the contract's error shape. Paging parameters are in
//! [`super::paging`].

#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use super::pusher::PusherClient;
use super::streams::Recorder;
use super::{AppState, HandlerError};
use crate::identity::{AuthScheme, Identity};
use crate::store::StoreError;
use crate::store::chatbot::Visitor;

/// Header the proxy sets on a shadow copy that must have no side effects.
pub const SHADOW_HEADER: &str = "x-cutover-shadow";

/// The identity the proxy verified; missing → 401.
#[derive(Debug, Clone)]
pub struct Caller(pub Identity);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = HandlerError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Identity>()
            .cloned()
            .map(Caller)
            .ok_or(HandlerError::Unauthorized("missing_identity"))
    }
}

impl Caller {
    /// The user id of a signed-in user (session); other kinds → 403.
    pub fn session_user(&self) -> Result<&str, HandlerError> {
        match self.0.scheme {
            AuthScheme::Session => Ok(&self.0.user_id),
            _ => Err(HandlerError::Forbidden("wrong_identity_kind")),
        }
    }

    /// The chatbot widget visitor (tenant, issuer, visitor id); other kinds, or
    /// a chatbot identity without tenant or issuer → 403.
    pub fn chatbot_visitor(&self) -> Result<Visitor<'_>, HandlerError> {
        let id = &self.0;
        match (id.scheme, id.tenant_id.as_deref(), id.issuer.as_deref()) {
            (AuthScheme::Chatbot, Some(tenant_id), Some(issuer)) => Ok(Visitor {
                tenant_id,
                issuer,
                visitor_id: &id.user_id,
            }),
            _ => Err(HandlerError::Forbidden("wrong_identity_kind")),
        }
    }
}

/// Gate for every side effect. On a shadow dry-run (`x-cutover-shadow: 1`)
/// transactions roll back instead of committing and broadcasts are skipped,
/// so the handler runs its normal code path and answers normally.
pub struct Effects {
    dry_run: bool,
    pool: PgPool,
    pusher: PusherClient,
    recorder: Arc<Recorder>,
}

impl FromRequestParts<AppState> for Effects {
    type Rejection = HandlerError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let dry_run = parts
            .headers
            .get(SHADOW_HEADER)
            .is_some_and(|v| v.as_bytes() == b"1");
        Ok(Effects {
            dry_run,
            pool: state.pool.clone(),
            pusher: state.pusher.clone(),
            recorder: state.recorder.clone(),
        })
    }
}

impl Effects {
    pub fn is_dry_run(&self) -> bool {
        self.dry_run
    }

    pub async fn begin(&self) -> Result<Transaction<'static, Postgres>, HandlerError> {
        Ok(self.pool.begin().await?)
    }

    /// Commit, or roll back on a dry-run.
    pub async fn finish(&self, tx: Transaction<'static, Postgres>) -> Result<(), HandlerError> {
        Ok(self.end(tx).await?)
    }

    async fn end(&self, tx: Transaction<'static, Postgres>) -> Result<(), sqlx::Error> {
        if self.dry_run {
            tx.rollback().await
        } else {
            tx.commit().await
        }
    }

    /// [`Effects::begin`] → `write` → [`Effects::finish`]: the request's one
    /// transaction around one store call. An error from `write` drops the
    /// transaction (rolled back) and is returned as is.
    pub async fn transact<T>(
        &self,
        write: impl AsyncFnOnce(&mut PgConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut tx = self.pool.begin().await?;
        let value = write(&mut tx).await?;
        self.end(tx).await?;
        Ok(value)
    }

    /// [`Effects::transact`] for a write of one statement (an idempotent
    /// insert, whose second statement only reads): on a real request it runs
    /// in autocommit, which saves the `BEGIN` and `COMMIT` round trips; a
    /// dry-run still runs in a transaction that is rolled back.
    pub async fn write_one<T>(
        &self,
        write: impl AsyncFnOnce(&mut PgConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        if self.dry_run {
            return self.transact(write).await;
        }
        let mut conn = self.pool.acquire().await?;
        write(&mut conn).await
    }

    /// Send one event (skipped on a dry-run). The state change is already
    /// committed, so a failed broadcast is logged, not returned.
    pub async fn broadcast<T: Serialize>(&self, channel: &str, event: &str, payload: &T) {
        self.broadcast_to(&[channel], event, payload).await;
    }

    /// [`Effects::broadcast`] to several channels in one trigger.
    pub async fn broadcast_to<T: Serialize>(&self, channels: &[&str], event: &str, payload: &T) {
        if self.dry_run {
            return;
        }
        // The SSE streams get the same JSON text as Soketi.
        if let Ok(text) = serde_json::to_string(payload) {
            for channel in channels {
                self.recorder.record(channel, event, &text).await;
            }
        }
        if let Err(e) = self.pusher.trigger_many(channels, event, payload).await {
            tracing::warn!(error = %e, ?channels, event, "broadcast failed");
        }
    }
}

/// A JSON request body; unparsable or wrongly typed → 400 `invalid_json`.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = HandlerError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|_| HandlerError::Validation("invalid_json"))?;
        // Only an object is a request body (serde would also accept an array
        // positionally for a struct).
        let value: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|_| HandlerError::Validation("invalid_json"))?;
        if !value.is_object() {
            return Err(HandlerError::Validation("invalid_json"));
        }
        serde_json::from_value(value)
            .map(JsonBody)
            .map_err(|_| HandlerError::Validation("invalid_json"))
    }
}

/// Length as JavaScript's `String.prototype.length` counts it (UTF-16 units),
/// so both backends apply the same limits.
pub fn js_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// Shared rule for message bodies: required, not blank, ≤ 4000.
pub fn check_body(body: Option<&str>) -> Result<&str, HandlerError> {
    match body {
        None => Err(HandlerError::Validation("body_required")),
        Some(b)
            if b.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
                .is_empty() =>
        {
            Err(HandlerError::Validation("body_required"))
        }
        Some(b) if js_len(b) > 4000 => Err(HandlerError::Validation("body_too_long")),
        Some(b) => Ok(b),
    }
}

/// Shared rule for idempotency keys: required, non-empty, ≤ 100.
pub fn check_client_message_id(id: Option<&str>) -> Result<&str, HandlerError> {
    match id {
        None | Some("") => Err(HandlerError::Validation("client_message_id_required")),
        Some(i) if js_len(i) > 100 => Err(HandlerError::Validation("client_message_id_too_long")),
        Some(i) => Ok(i),
    }
}
