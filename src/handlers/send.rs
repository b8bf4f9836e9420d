//! Idempotent message sends, shared by the tenant chatbot and user threads:
//! the `{body, clientMessageId}` request, the `{message}` answer, and the one
//! place that runs a send ([`send_once`]).
//!
//! The store writes with `crate::store::idempotent`; the WhatsApp outbox
//! uses the same insert and [`Effects::transact`] but answers in its own
//! legacy shape and announces nothing at queue time.

use axum::Json;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;

use super::HandlerError;
use super::extract::{Effects, check_body, check_client_message_id};
use crate::store::StoreError;
use crate::store::idempotent::Inserted;

/// The contract's send request body.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendRequest {
    pub body: Option<String>,
    pub client_message_id: Option<String>,
}

impl SendRequest {
    /// (body, idempotency key) after the shared rules, body judged first.
    pub fn checked(&self) -> Result<(&str, &str), HandlerError> {
        let body = check_body(self.body.as_deref())?;
        let key = check_client_message_id(self.client_message_id.as_deref())?;
        Ok((body, key))
    }
}

/// `{"message": ...}`.
#[derive(Serialize)]
pub struct MessageEnvelope<T> {
    pub message: T,
}

/// Where a message created in this scope (a conversation, a thread) is
/// announced, under which event name, and with what payload (the contract's
/// event payload type).
pub trait Announce<T> {
    /// The channel the event goes to.
    fn channel(&self) -> String;
    /// The event name: `message.created` unless the scope says otherwise
    /// (a user thread: the legacy `tenant-user-message`).
    fn event(&self) -> &'static str {
        "message.created"
    }
    /// The event payload for `message`.
    fn created<'a>(&'a self, message: &'a T) -> impl Serialize + Sync + 'a;
}

/// Run one idempotent send: `insert` (one write statement, so autocommit;
/// in a rolled-back transaction on a shadow dry-run, see
/// [`Effects::write_one`]) → `scope`'s event on `scope`'s channel only when
/// this request created the row. Answers 201 with the new row, or 200 with
/// the first row stored under the key (a retry: no second row, no event).
pub async fn send_once<T, A>(
    effects: &Effects,
    scope: &A,
    insert: impl AsyncFnOnce(&mut PgConnection) -> Result<Inserted<T>, StoreError>,
) -> Result<(StatusCode, Json<MessageEnvelope<T>>), HandlerError>
where
    T: Serialize,
    A: Announce<T>,
{
    let sent = effects.write_one(insert).await?;
    let status = if sent.created {
        let event = scope.created(&sent.row);
        effects
            .broadcast(&scope.channel(), scope.event(), &event)
            .await;
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(MessageEnvelope { message: sent.row })))
}
