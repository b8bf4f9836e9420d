//! User threads: membership checks, thread list, message paging, idempotent
//! sends and receipts (tables `Thread`, `ThreadParticipant`, `Message`,
//! `MessageReceipt`).
//!
//! Writes take a `&mut PgConnection` so the caller decides whether the
//! transaction commits (a shadow dry-run rolls back).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use super::cursor::Cursor;
use super::idempotent::{Inserted, insert_or_first};
use super::keyset::{self, Keyed, newest_first};
use super::{StoreError, ser_opt_ts, ser_ts};

/// A thread the caller participates in.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ThreadRef {
    pub id: String,
    #[sqlx(rename = "tenantId")]
    pub tenant_id: String,
}

/// One row of `Message`, serialized as the contract's `Message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
#[sqlx(rename_all = "camelCase")]
pub struct Message {
    pub id: String,
    pub thread_id: String,
    pub sender_id: String,
    pub body: String,
    pub client_message_id: Option<String>,
    #[serde(serialize_with = "ser_ts")]
    pub created_at: DateTime<Utc>,
}

impl Keyed for Message {
    fn key(&self) -> Cursor {
        Cursor::at(self.created_at, &self.id)
    }
}

/// The contract's `ThreadSummary`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ThreadSummary {
    pub id: String,
    pub tenant_id: String,
    pub title: Option<String>,
    #[serde(serialize_with = "ser_ts")]
    pub created_at: DateTime<Utc>,
    pub last_message: Option<Message>,
    pub unread_count: i64,
}

/// One row of `MessageReceipt`, serialized as the contract's `Receipt`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
#[sqlx(rename_all = "camelCase")]
pub struct Receipt {
    pub message_id: String,
    pub user_id: String,
    #[serde(serialize_with = "ser_ts")]
    pub delivered_at: DateTime<Utc>,
    #[serde(serialize_with = "ser_opt_ts")]
    pub read_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: String,
    #[sqlx(rename = "tenantId")]
    tenant_id: String,
    title: Option<String>,
    #[sqlx(rename = "createdAt")]
    created_at: DateTime<Utc>,
    #[sqlx(rename = "unreadCount")]
    unread_count: i64,
    #[sqlx(rename = "mId")]
    m_id: Option<String>,
    #[sqlx(rename = "mSenderId")]
    m_sender_id: Option<String>,
    #[sqlx(rename = "mBody")]
    m_body: Option<String>,
    #[sqlx(rename = "mClientMessageId")]
    m_client_message_id: Option<String>,
    #[sqlx(rename = "mCreatedAt")]
    m_created_at: Option<DateTime<Utc>>,
}

/// The thread if `user_id` participates in it.
pub async fn participant_thread(
    pool: &PgPool,
    thread_id: &str,
    user_id: &str,
) -> Result<Option<ThreadRef>, StoreError> {
    Ok(sqlx::query_as::<_, ThreadRef>(
        r#"SELECT t."id", t."tenantId" FROM "Thread" t
           JOIN "ThreadParticipant" p ON p."threadId" = t."id"
           WHERE t."id" = $1 AND p."userId" = $2"#,
    )
    .bind(thread_id)
    .bind(user_id)
    .fetch_optional(pool)
    .await?)
}

/// [`participant_thread`] and that thread's [`participants`] in one
/// statement (a send needs both: one round trip instead of two).
pub async fn participant_thread_with_participants(
    pool: &PgPool,
    thread_id: &str,
    user_id: &str,
) -> Result<Option<(ThreadRef, Vec<String>)>, StoreError> {
    let row: Option<(String, String, Vec<String>)> = sqlx::query_as(
        r#"SELECT t."id", t."tenantId", array_agg(o."userId" ORDER BY o."userId")
           FROM "Thread" t
           JOIN "ThreadParticipant" p ON p."threadId" = t."id" AND p."userId" = $2
           JOIN "ThreadParticipant" o ON o."threadId" = t."id"
           WHERE t."id" = $1
           GROUP BY t."id", t."tenantId""#,
    )
    .bind(thread_id)
    .bind(user_id)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(|(id, tenant_id, participants)| (ThreadRef { id, tenant_id }, participants)))
}

/// The user ids taking part in a thread, sorted.
pub async fn participants<'e>(
    db: impl sqlx::PgExecutor<'e>,
    thread_id: &str,
) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        r#"SELECT "userId" FROM "ThreadParticipant" WHERE "threadId" = $1 ORDER BY "userId""#,
    )
    .bind(thread_id)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(u,)| u).collect())
}

/// The threads of `tenant_id` that `user_id` takes part in, each with all its
/// participants: (thread id, participants).
pub async fn tenant_threads_of(
    pool: &PgPool,
    user_id: &str,
    tenant_id: &str,
) -> Result<Vec<(String, Vec<String>)>, StoreError> {
    Ok(sqlx::query_as(
        r#"SELECT t."id", array_agg(o."userId" ORDER BY o."userId")
           FROM "Thread" t
           JOIN "ThreadParticipant" p ON p."threadId" = t."id" AND p."userId" = $1
           JOIN "ThreadParticipant" o ON o."threadId" = t."id"
           WHERE t."tenantId" = $2
           GROUP BY t."id""#,
    )
    .bind(user_id)
    .bind(tenant_id)
    .fetch_all(pool)
    .await?)
}

/// The user's threads, most recent activity first.
pub async fn list_threads(pool: &PgPool, user_id: &str) -> Result<Vec<ThreadSummary>, StoreError> {
    let rows = sqlx::query_as::<_, SummaryRow>(
        r#"SELECT t."id", t."tenantId", t."title", t."createdAt",
             (SELECT count(*) FROM "Message" u
               WHERE u."threadId" = t."id" AND u."senderId" <> $1
                 AND (p."lastReadAt" IS NULL OR u."createdAt" > p."lastReadAt")) AS "unreadCount",
             m."id" AS "mId", m."senderId" AS "mSenderId", m."body" AS "mBody",
             m."clientMessageId" AS "mClientMessageId", m."createdAt" AS "mCreatedAt"
           FROM "ThreadParticipant" p
           JOIN "Thread" t ON t."id" = p."threadId"
           LEFT JOIN LATERAL (
             SELECT * FROM "Message" x WHERE x."threadId" = t."id"
             ORDER BY x."createdAt" DESC, x."id" DESC LIMIT 1) m ON true
           WHERE p."userId" = $1
           ORDER BY COALESCE(m."createdAt", t."createdAt") DESC, t."id" DESC"#,
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(SummaryRow::into_summary).collect())
}

impl SummaryRow {
    fn into_summary(self) -> ThreadSummary {
        let last_message = match (self.m_id, self.m_sender_id, self.m_body, self.m_created_at) {
            (Some(id), Some(sender_id), Some(body), Some(created_at)) => Some(Message {
                id,
                thread_id: self.id.clone(),
                sender_id,
                body,
                client_message_id: self.m_client_message_id,
                created_at,
            }),
            _ => None,
        };
        ThreadSummary {
            id: self.id,
            tenant_id: self.tenant_id,
            title: self.title,
            created_at: self.created_at,
            last_message,
            unread_count: self.unread_count,
        }
    }
}

/// One newest-first page of a thread's messages and the next cursor, for a
/// participant: the membership check of [`participant_thread`] is in the
/// same statement (one round trip). No rows means not a participant or an
/// empty page: the caller tells which.
pub async fn page_messages(
    pool: &PgPool,
    thread_id: &str,
    user_id: &str,
    after: Option<&Cursor>,
    limit: usize,
) -> Result<(Vec<Message>, Option<String>), StoreError> {
    const PAGE: keyset::Page = newest_first!(
        r#"SELECT "id", "threadId", "senderId", "body", "clientMessageId", "createdAt"
           FROM "Message"
           WHERE "threadId" = $4
             AND EXISTS (SELECT 1 FROM "Thread" t
                         JOIN "ThreadParticipant" p ON p."threadId" = t."id"
                         WHERE t."id" = $4 AND p."userId" = $5)"#,
        "createdAt",
    );
    keyset::fetch_page(pool, PAGE, after, limit, |q| {
        q.bind(thread_id).bind(user_id)
    })
    .await
}

/// Insert a message unless (thread, sender, clientMessageId) exists
/// ([`insert_or_first`]; concurrent retries all get the first row).
pub async fn send_message(
    conn: &mut PgConnection,
    thread_id: &str,
    sender_id: &str,
    body: &str,
    client_message_id: &str,
) -> Result<Inserted<Message>, StoreError> {
    let insert = sqlx::query_as(
        r#"INSERT INTO "Message" ("threadId", "senderId", "body", "clientMessageId")
           VALUES ($1, $2, $3, $4)
           ON CONFLICT ("threadId", "senderId", "clientMessageId") DO NOTHING
           RETURNING "id", "threadId", "senderId", "body", "clientMessageId", "createdAt""#,
    )
    .bind(thread_id)
    .bind(sender_id)
    .bind(body)
    .bind(client_message_id);
    let first = sqlx::query_as(
        r#"SELECT "id", "threadId", "senderId", "body", "clientMessageId", "createdAt"
           FROM "Message"
           WHERE "threadId" = $1 AND "senderId" = $2 AND "clientMessageId" = $3"#,
    )
    .bind(thread_id)
    .bind(sender_id)
    .bind(client_message_id);
    insert_or_first(conn, insert, first).await
}

/// Record a delivery (or read) receipt for a message of the thread; a read
/// also moves the participant's `lastReadAt` forward. `None`: no such message
/// in this thread.
pub async fn record_receipt(
    conn: &mut PgConnection,
    thread_id: &str,
    message_id: &str,
    user_id: &str,
    read: bool,
) -> Result<Option<Receipt>, StoreError> {
    let receipt = sqlx::query_as::<_, Receipt>(
        r#"INSERT INTO "MessageReceipt" ("messageId", "userId", "readAt")
           SELECT m."id", $3, CASE WHEN $4 THEN CURRENT_TIMESTAMP END
           FROM "Message" m WHERE m."id" = $1 AND m."threadId" = $2
           ON CONFLICT ("messageId", "userId") DO UPDATE
             SET "readAt" = COALESCE("MessageReceipt"."readAt", EXCLUDED."readAt")
           RETURNING "messageId", "userId", "deliveredAt", "readAt""#,
    )
    .bind(message_id)
    .bind(thread_id)
    .bind(user_id)
    .bind(read)
    .fetch_optional(&mut *conn)
    .await?;
    if receipt.is_some() && read {
        sqlx::query(
            r#"UPDATE "ThreadParticipant" p SET "lastReadAt" = m."createdAt"
               FROM "Message" m
               WHERE m."id" = $1 AND p."threadId" = m."threadId" AND p."userId" = $2
                 AND (p."lastReadAt" IS NULL OR p."lastReadAt" < m."createdAt")"#,
        )
        .bind(message_id)
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(receipt)
}
