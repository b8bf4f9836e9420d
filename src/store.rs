//! Database access for the handlers: the legacy app's PostgreSQL schema
//! (`migrations/`), one submodule per domain, plus the shapes the message
//! domains share: `cursor` + `keyset` (newest-first pages) and `idempotent`
//! (one row per client key).
//!
//! Owns every SQL statement the handlers run (static text, bound parameters,
//! no string-built SQL). May use `sqlx`, `chrono`, `serde` (rows are
//! serialized as the contract's JSON shapes). Knows nothing of HTTP, axum,
//! Pusher or the proxy.

pub mod chatbot;
pub mod cursor;
pub mod demo;
pub mod directory;
pub mod idempotent;
pub mod keyset;
pub mod scheduled;
pub mod stream_events;
pub mod threads;
pub mod whatsapp;

#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use serde::Serializer;
use sqlx::postgres::PgArguments;
use sqlx::query::QueryAs;
use sqlx::{PgPool, Postgres};

/// Errors of the store boundary.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// A statement returning rows of `T`, with its parameters bound so far.
pub type RowQuery<'q, T> = QueryAs<'q, Postgres, T, PgArguments>;

/// Apply `migrations/` (idempotent; used by `cutover migrate` and the tests).
pub async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    sqlx::migrate!("./migrations").run(pool).await?;
    Ok(())
}

/// A timestamp as JavaScript's `Date.prototype.toISOString()` prints it.
pub fn js_iso(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `serialize_with` helper: [`js_iso`].
pub fn ser_ts<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&js_iso(t))
}

/// `serialize_with` helper: [`js_iso`] or `null`.
pub fn ser_opt_ts<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&js_iso(t)),
        None => s.serialize_none(),
    }
}
