//! Scheduled messages (table `ScheduledMessage`): create, list, cancel, and
//! claiming due rows for the dispatcher with `FOR UPDATE SKIP LOCKED`, so two
//! dispatchers never claim the same row.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use super::threads::{self, Message};
use super::{StoreError, ser_ts};

/// One row of `ScheduledMessage`, serialized as the contract's `ScheduledMessage`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
#[sqlx(rename_all = "camelCase")]
pub struct Scheduled {
    pub id: String,
    pub thread_id: String,
    pub sender_id: String,
    pub body: String,
    #[serde(serialize_with = "ser_ts")]
    pub send_at: DateTime<Utc>,
    pub status: String,
    pub message_id: Option<String>,
    #[serde(serialize_with = "ser_ts")]
    pub created_at: DateTime<Utc>,
}

/// Why a cancel did not happen.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    #[error("no such scheduled message for this sender")]
    NotFound,
    #[error("scheduled message is not pending")]
    NotPending,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A message the dispatcher sent: the new row and its thread's tenant.
#[derive(Debug, Clone)]
pub struct Dispatched {
    pub tenant_id: String,
    /// The `ScheduledMessage` row's id and `sendAt`.
    pub scheduled_id: String,
    pub send_at: DateTime<Utc>,
    pub message: Message,
    pub created: bool,
}

pub async fn create(
    conn: &mut PgConnection,
    thread_id: &str,
    sender_id: &str,
    body: &str,
    send_at: DateTime<Utc>,
) -> Result<Scheduled, StoreError> {
    Ok(sqlx::query_as::<_, Scheduled>(
        r#"INSERT INTO "ScheduledMessage" ("threadId", "senderId", "body", "sendAt")
           VALUES ($1, $2, $3, $4)
           RETURNING "id", "threadId", "senderId", "body", "sendAt", "status", "messageId", "createdAt""#,
    )
    .bind(thread_id)
    .bind(sender_id)
    .bind(body)
    .bind(send_at)
    .fetch_one(conn)
    .await?)
}

/// The sender's pending scheduled messages in a thread, by (`sendAt`, `id`).
pub async fn list_pending(
    pool: &PgPool,
    thread_id: &str,
    sender_id: &str,
) -> Result<Vec<Scheduled>, StoreError> {
    Ok(sqlx::query_as::<_, Scheduled>(
        r#"SELECT "id", "threadId", "senderId", "body", "sendAt", "status", "messageId", "createdAt"
           FROM "ScheduledMessage"
           WHERE "threadId" = $1 AND "senderId" = $2 AND "status" = 'pending'
           ORDER BY "sendAt", "id""#,
    )
    .bind(thread_id)
    .bind(sender_id)
    .fetch_all(pool)
    .await?)
}

pub async fn cancel(
    conn: &mut PgConnection,
    thread_id: &str,
    id: &str,
    sender_id: &str,
) -> Result<Scheduled, CancelError> {
    let done = sqlx::query_as::<_, Scheduled>(
        r#"UPDATE "ScheduledMessage" SET "status" = 'cancelled'
           WHERE "id" = $1 AND "threadId" = $2 AND "senderId" = $3 AND "status" = 'pending'
           RETURNING "id", "threadId", "senderId", "body", "sendAt", "status", "messageId", "createdAt""#,
    )
    .bind(id)
    .bind(thread_id)
    .bind(sender_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(StoreError::from)?;
    if let Some(s) = done {
        return Ok(s);
    }
    let exists: Option<(String,)> = sqlx::query_as(
        r#"SELECT "status" FROM "ScheduledMessage"
           WHERE "id" = $1 AND "threadId" = $2 AND "senderId" = $3"#,
    )
    .bind(id)
    .bind(thread_id)
    .bind(sender_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(StoreError::from)?;
    Err(match exists {
        Some(_) => CancelError::NotPending,
        None => CancelError::NotFound,
    })
}

#[derive(sqlx::FromRow)]
struct DueRow {
    id: String,
    #[sqlx(rename = "threadId")]
    thread_id: String,
    #[sqlx(rename = "senderId")]
    sender_id: String,
    body: String,
    #[sqlx(rename = "sendAt")]
    send_at: DateTime<Utc>,
    #[sqlx(rename = "tenantId")]
    tenant_id: String,
}

/// Claim up to `batch` due pending rows (skipping rows another dispatcher
/// holds), send each as a message and mark it sent, all in the caller's
/// transaction. Commit to publish; the rows stay locked until then.
pub async fn send_due_batch(
    conn: &mut PgConnection,
    now: DateTime<Utc>,
    batch: i64,
) -> Result<Vec<Dispatched>, StoreError> {
    let due = sqlx::query_as::<_, DueRow>(
        r#"SELECT s."id", s."threadId", s."senderId", s."body", s."sendAt", t."tenantId"
           FROM "ScheduledMessage" s JOIN "Thread" t ON t."id" = s."threadId"
           WHERE s."status" = 'pending' AND s."sendAt" <= $1
           ORDER BY s."sendAt", s."id"
           LIMIT $2
           FOR UPDATE OF s SKIP LOCKED"#,
    )
    .bind(now)
    .bind(batch)
    .fetch_all(&mut *conn)
    .await?;
    let mut out = Vec::with_capacity(due.len());
    for row in due {
        let key = format!("scheduled:{}", row.id);
        let sent =
            threads::send_message(conn, &row.thread_id, &row.sender_id, &row.body, &key).await?;
        sqlx::query(
            r#"UPDATE "ScheduledMessage" SET "status" = 'sent', "messageId" = $2 WHERE "id" = $1"#,
        )
        .bind(&row.id)
        .bind(&sent.row.id)
        .execute(&mut *conn)
        .await?;
        out.push(Dispatched {
            tenant_id: row.tenant_id,
            scheduled_id: row.id,
            send_at: row.send_at,
            message: sent.row,
            created: sent.created,
        });
    }
    Ok(out)
}
