//! The send outbox: one row per (`sessionId`, `clientMessageId`), claimed
//! by the worker with a lease (`FOR UPDATE SKIP LOCKED`); an expired lease is
//! claimable again, a `sent` row never changes back.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgConnection;

use crate::store::StoreError;
use crate::store::idempotent::{Inserted, insert_or_first};

/// Attempts after which a failing send is given up (`failed`).
pub const MAX_ATTEMPTS: i32 = 5;

/// The queue-time view of an outbox row.
#[derive(Debug, Clone, sqlx::FromRow)]
#[sqlx(rename_all = "camelCase")]
pub struct Queued {
    pub id: String,
    pub client_message_id: String,
    pub status: String,
}

/// Queue a send unless (`sessionId`, `clientMessageId`) exists
/// ([`insert_or_first`]).
#[allow(clippy::too_many_arguments)]
pub async fn enqueue(
    conn: &mut PgConnection,
    session_id: &str,
    client_message_id: &str,
    wa_message_id: &str,
    to_jid: &str,
    content: &str,
    sender_id: &str,
) -> Result<Inserted<Queued>, StoreError> {
    let insert = sqlx::query_as(
        r#"INSERT INTO whatsapp_outbox
             ("sessionId", "clientMessageId", "waMessageId", "toJid", "content", "senderId")
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT ("sessionId", "clientMessageId") DO NOTHING
           RETURNING "id", "clientMessageId", "status""#,
    )
    .bind(session_id)
    .bind(client_message_id)
    .bind(wa_message_id)
    .bind(to_jid)
    .bind(content)
    .bind(sender_id);
    let first = sqlx::query_as(
        r#"SELECT "id", "clientMessageId", "status" FROM whatsapp_outbox
           WHERE "sessionId" = $1 AND "clientMessageId" = $2"#,
    )
    .bind(session_id)
    .bind(client_message_id);
    insert_or_first(conn, insert, first).await
}

/// One claimed send, as the worker gets it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
#[sqlx(rename_all = "camelCase")]
pub struct Claimed {
    #[sqlx(rename = "id")]
    pub outbox_id: String,
    pub session_id: String,
    pub client_message_id: String,
    pub wa_message_id: String,
    pub to_jid: String,
    pub content: String,
    pub attempts: i32,
    #[serde(skip)]
    pub created_at: DateTime<Utc>,
}

/// Claim up to `limit` sends of connected sessions for `lease_secs`.
pub async fn claim(
    conn: &mut PgConnection,
    worker_id: &str,
    limit: i64,
    lease_secs: i64,
) -> Result<Vec<Claimed>, StoreError> {
    let mut items = sqlx::query_as::<_, Claimed>(
        r#"WITH picked AS (
             SELECT o."id" FROM whatsapp_outbox o
             JOIN whatsapp_sessions s ON s."sessionId" = o."sessionId"
             WHERE s."status" = 'CONNECTED'
               AND (o."status" = 'queued'
                    OR (o."status" = 'claimed' AND o."leaseUntil" < clock_timestamp()))
             ORDER BY o."createdAt", o."id"
             LIMIT $1
             FOR UPDATE OF o SKIP LOCKED)
           UPDATE whatsapp_outbox o SET
             "status" = 'claimed', "leaseOwner" = $2,
             "leaseUntil" = clock_timestamp() + make_interval(secs => $3::double precision),
             "attempts" = o."attempts" + 1, "updatedAt" = clock_timestamp()
           FROM picked WHERE o."id" = picked."id"
           RETURNING o."id", o."sessionId", o."clientMessageId", o."waMessageId", o."toJid",
                     o."content", o."attempts", o."createdAt""#,
    )
    .bind(limit)
    .bind(worker_id)
    .bind(lease_secs)
    .fetch_all(conn)
    .await?;
    items.sort_by(|a, b| (a.created_at, &a.outbox_id).cmp(&(b.created_at, &b.outbox_id)));
    Ok(items)
}

/// An outbox row locked for reporting its result.
#[derive(Debug, Clone, sqlx::FromRow)]
#[sqlx(rename_all = "camelCase")]
pub struct Pending {
    pub session_id: String,
    /// The session's tenant (for the events), read with the row.
    pub tenant_id: String,
    pub client_message_id: String,
    pub wa_message_id: String,
    pub to_jid: String,
    pub content: String,
    pub sender_id: Option<String>,
    pub status: String,
    pub attempts: i32,
}

pub async fn lock(conn: &mut PgConnection, outbox_id: &str) -> Result<Option<Pending>, StoreError> {
    Ok(sqlx::query_as::<_, Pending>(
        r#"SELECT o."sessionId", s."tenantId", o."clientMessageId", o."waMessageId", o."toJid",
                  o."content", o."senderId", o."status", o."attempts"
           FROM whatsapp_outbox o JOIN whatsapp_sessions s ON s."sessionId" = o."sessionId"
           WHERE o."id" = $1 FOR UPDATE OF o"#,
    )
    .bind(outbox_id)
    .fetch_optional(conn)
    .await?)
}

/// Set the row's final or retry status; clears the lease.
pub async fn settle(
    conn: &mut PgConnection,
    outbox_id: &str,
    status: &str,
    error: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        r#"UPDATE whatsapp_outbox SET "status" = $2, "errorMessage" = $3,
             "leaseOwner" = NULL, "leaseUntil" = NULL, "updatedAt" = clock_timestamp()
           WHERE "id" = $1"#,
    )
    .bind(outbox_id)
    .bind(status)
    .bind(error)
    .execute(conn)
    .await?;
    Ok(())
}
