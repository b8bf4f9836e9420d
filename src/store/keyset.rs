//! Newest-first keyset pages: the one query shape every message list runs
//! (tenant chatbot, user threads, WhatsApp history).
//!
//! A page statement is a list's own `SELECT … WHERE <scope>` followed by the
//! tail [`newest_first!`] writes, and is run by [`fetch_page`]. The contract
//! between the two:
//!
//! - `$1` is the cursor's timestamp (`NULL` on the first page), `$2` its id,
//!   `$3` how many rows to fetch (`limit + 1`); the list's own parameters
//!   start at `$4` and are bound by the caller's `scope` closure.
//! - Rows come strictly older than the cursor on (key column, `"id"`), newest
//!   first, so rows inserted while a client pages never shift older pages.
//! - The row type names its cursor position with [`Keyed`].
//!
//! Uses [`super::cursor`] for the token; knows nothing of HTTP.

use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgPool};

use super::cursor::{self, Cursor};
use super::{RowQuery, StoreError};

/// `$select` (ending in a `WHERE` clause) + the keyset tail on the
/// timestamp column `$key`: a [`Page`] of two static statements,
/// parameters as in the module contract.
macro_rules! newest_first {
    ($select:expr, $key:literal $(,)?) => {
        $crate::store::keyset::Page {
            first: concat!(
                $select,
                "\n AND $1::timestamptz IS NULL AND $2::text IS NULL",
                "\n ORDER BY \"",
                $key,
                "\" DESC, \"id\" DESC",
                "\n LIMIT $3"
            ),
            after: concat!(
                $select,
                "\n AND (\"",
                $key,
                "\", \"id\") < ($1, $2)",
                "\n ORDER BY \"",
                $key,
                "\" DESC, \"id\" DESC",
                "\n LIMIT $3"
            ),
        }
    };
}
pub(crate) use newest_first;

/// A list's page statements: the first page, and the pages after a cursor.
///
/// Two statements, not one with `$1 IS NULL OR (key, id) < ($1, $2)`: the
/// handlers' connections run generic plans (`app::prefer_generic_plans`),
/// and a generic plan cannot seek the index to an optional cursor: it would
/// read every row newer than the cursor to find a later page. Each
/// statement here seeks (`Index Cond`), whatever the parameters.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub first: &'static str,
    pub after: &'static str,
}

/// A row of a newest-first list: where the next page starts after it.
pub trait Keyed {
    fn key(&self) -> Cursor;
}

/// Run a page statement built with [`newest_first!`]: bind the cursor and
/// `limit + 1`, let `scope` bind the list's own parameters (`$4`…), and split
/// the rows into the page and the next cursor ([`cursor::page`]).
pub async fn fetch_page<'q, T>(
    pool: &PgPool,
    page: Page,
    after: Option<&'q Cursor>,
    limit: usize,
    scope: impl FnOnce(RowQuery<'q, T>) -> RowQuery<'q, T>,
) -> Result<(Vec<T>, Option<String>), StoreError>
where
    T: Keyed + for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    let sql = if after.is_some() {
        page.after
    } else {
        page.first
    };
    let query = sqlx::query_as::<_, T>(sql)
        .bind(after.map(|c| c.created_at))
        .bind(after.map(|c| c.id.as_str()))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1));
    let rows = scope(query).fetch_all(pool).await?;
    Ok(cursor::page(rows, limit, T::key))
}
