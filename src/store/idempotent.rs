//! Idempotent inserts on a client key (a message's `clientMessageId`, an
//! outbox row's `(sessionId, clientMessageId)`): the first request stores the
//! row, every retry gets that first row back, never a second one.
//!
//! One statement pair serves every domain ([`insert_or_first`]); the result
//! says whether this call created the row ([`Inserted`]): the message
//! handlers answer 201 vs 200 and broadcast on it.

use sqlx::PgConnection;
use sqlx::postgres::PgRow;

use super::{RowQuery, StoreError};

/// A row stored under a key, and whether this call created it (`false`: the
/// key existed and `row` is the first row stored under it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inserted<T> {
    pub row: T,
    pub created: bool,
}

/// Run `insert`, and when it stored nothing run `first`.
///
/// Contract: `insert` is `INSERT … ON CONFLICT (<unique key>) DO NOTHING
/// RETURNING <columns>`; `first` is `SELECT <the same columns> … WHERE <the
/// same key>`, with the same values bound. Both run on the caller's
/// connection (its transaction decides commit or dry-run rollback). A
/// concurrent insert of the same key waits on the unique index; once it
/// commits, `insert` returns no row and `first` (a new statement, so a new
/// snapshot under READ COMMITTED) reads the winner's row; if it rolls back,
/// `insert` stores this row.
pub async fn insert_or_first<'q, T>(
    conn: &mut PgConnection,
    insert: RowQuery<'q, T>,
    first: RowQuery<'q, T>,
) -> Result<Inserted<T>, StoreError>
where
    T: for<'r> sqlx::FromRow<'r, PgRow> + Send + Unpin,
{
    if let Some(row) = insert.fetch_optional(&mut *conn).await? {
        return Ok(Inserted { row, created: true });
    }
    let row = first.fetch_one(&mut *conn).await?;
    Ok(Inserted {
        row,
        created: false,
    })
}
