//! The `stream_events` table (`migrations/20261202000000_stream_events.sql`):
//! the recorded events of the streamable channels, read by the SSE streams
//! for backfill and by the one listener per process for fan-out.
//!
//! Writers append with [`append`] (the SQL function takes a per-channel lock
//! so ids commit in order within a channel); [`prune`] applies retention and
//! [`pruned_through`] tells a resume whether its id is older than retention.

use sqlx::{PgExecutor, PgPool};

use super::StoreError;

/// The Postgres NOTIFY channel; each payload is `{channel}:{id}`.
pub const NOTIFY_CHANNEL: &str = "stream_events";

/// One recorded event; `payload` is the JSON text exactly as published.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StreamEvent {
    pub id: i64,
    pub event: String,
    pub payload: String,
}

/// Whether events of `channel` are recorded: the chatbot conversation and
/// user thread channels (the two that have a stream).
pub fn is_streamable(channel: &str) -> bool {
    channel.starts_with("private-chatbot-")
        || (channel.starts_with("presence-tenant.") && channel.contains(".thread."))
}

/// Record one event; returns its id.
pub async fn append<'e>(
    db: impl PgExecutor<'e>,
    channel: &str,
    event: &str,
    payload: &str,
) -> Result<i64, StoreError> {
    let (id,): (i64,) = sqlx::query_as("SELECT stream_event_append($1, $2, $3)")
        .bind(channel)
        .bind(event)
        .bind(payload)
        .fetch_one(db)
        .await?;
    Ok(id)
}

/// One event to record (see [`append_all`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub channel: String,
    pub event: String,
    pub payload: String,
}

/// Record several events in one statement, so one commit (one WAL flush)
/// serves them all; the rows are those [`append`] writes, and within a
/// channel their ids follow the order of `events`. Appended grouped by
/// channel name (stable), so every batch takes the channels' advisory locks
/// in the same order and two batching writers never deadlock.
pub async fn append_all(pool: &PgPool, events: &[&NewEvent]) -> Result<(), StoreError> {
    let mut sorted = events.to_vec();
    sorted.sort_by(|a, b| a.channel.cmp(&b.channel));
    let column = |f: fn(&NewEvent) -> &str| sorted.iter().map(|e| f(e)).collect::<Vec<&str>>();
    sqlx::query(
        r#"SELECT stream_event_append(c, e, p)
           FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS x(c, e, p, n)
           ORDER BY n"#,
    )
    .bind(column(|e| &e.channel))
    .bind(column(|e| &e.event))
    .bind(column(|e| &e.payload))
    .execute(pool)
    .await?;
    Ok(())
}

/// Up to `limit` events of `channel` after `after`, oldest first.
pub async fn after(
    pool: &PgPool,
    channel: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<StreamEvent>, StoreError> {
    Ok(sqlx::query_as(
        r#"SELECT "id", "event", "payload" FROM "stream_events"
           WHERE "channel" = $1 AND "id" > $2 ORDER BY "id" LIMIT $3"#,
    )
    .bind(channel)
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// The newest id of `channel` (0 when it has none).
pub async fn head(pool: &PgPool, channel: &str) -> Result<i64, StoreError> {
    let (id,): (Option<i64>,) =
        sqlx::query_as(r#"SELECT max("id") FROM "stream_events" WHERE "channel" = $1"#)
            .bind(channel)
            .fetch_one(pool)
            .await?;
    Ok(id.unwrap_or(0))
}

/// The highest id retention has deleted (0 when none).
pub async fn pruned_through(pool: &PgPool) -> Result<i64, StoreError> {
    let (id,): (i64,) = sqlx::query_as(r#"SELECT "pruned_through" FROM "stream_events_horizon""#)
        .fetch_one(pool)
        .await?;
    Ok(id)
}

/// Delete events older than `keep_secs`; returns how many.
pub async fn prune(pool: &PgPool, keep_secs: u64) -> Result<i64, StoreError> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT stream_events_prune(make_interval(secs => $1::float8))")
            .bind(keep_secs as f64)
            .fetch_one(pool)
            .await?;
    Ok(n)
}
