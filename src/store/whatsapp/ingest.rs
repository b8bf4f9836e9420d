//! The worker's writes, each idempotent on its own key: the batch replay
//! guard, connection state, message rows on (`sessionId`, `messageId`),
//! forward-only receipts, contacts on (`sessionId`, `jid`). All take the
//! batch's transaction.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgConnection;

use crate::store::StoreError;
use crate::store::idempotent::Inserted;

/// Record a batch id; `false` when it was applied before (on either side).
pub async fn claim_batch(
    conn: &mut PgConnection,
    session_id: &str,
    batch_id: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        r#"INSERT INTO whatsapp_worker_batches ("sessionId", "batchId") VALUES ($1, $2)
           ON CONFLICT DO NOTHING"#,
    )
    .bind(session_id)
    .bind(batch_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The session's status and QR, locked for the rest of the batch. `NO KEY
/// UPDATE`, not `UPDATE`: the batch row's foreign key already holds a key-share
/// lock on the session, and two batches upgrading to `FOR UPDATE` deadlock.
pub async fn lock_connection(
    conn: &mut PgConnection,
    session_id: &str,
) -> Result<(String, Option<String>), StoreError> {
    Ok(sqlx::query_as::<_, (String, Option<String>)>(
        r#"SELECT "status"::text, "metadata"->>'qr' FROM whatsapp_sessions
           WHERE "sessionId" = $1 FOR NO KEY UPDATE"#,
    )
    .bind(session_id)
    .fetch_one(conn)
    .await?)
}

/// A new connection state for the session row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionState<'a> {
    pub status: &'a str,
    /// `Some` stores this QR; `None` drops any QR when the status is not
    /// `QR_REQUIRED`.
    pub qr: Option<&'a str>,
    pub phone_number: Option<&'a str>,
    pub is_active: Option<bool>,
    /// Set `lastConnected` to now.
    pub connected_now: bool,
}

/// Write a connection state (and `lastSync`).
pub async fn set_connection(
    conn: &mut PgConnection,
    session_id: &str,
    state: &ConnectionState<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        r#"UPDATE whatsapp_sessions SET
             "status" = $2::text::"WhatsAppSessionStatus",
             "metadata" = CASE
                 WHEN $3::text IS NOT NULL
                     THEN COALESCE("metadata", '{}'::jsonb) || jsonb_build_object('qr', $3::text)
                 WHEN $2::text = 'QR_REQUIRED' THEN "metadata"
                 ELSE "metadata" - 'qr' END,
             "phoneNumber" = COALESCE($4, "phoneNumber"),
             "isActive" = COALESCE($5, "isActive"),
             "lastConnected" = CASE WHEN $6 THEN clock_timestamp() ELSE "lastConnected" END,
             "lastSync" = clock_timestamp(),
             "updatedAt" = clock_timestamp()
           WHERE "sessionId" = $1"#,
    )
    .bind(session_id)
    .bind(state.status)
    .bind(state.qr)
    .bind(state.phone_number)
    .bind(state.is_active)
    .bind(state.connected_now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Only `lastSync` (a connection event that changed nothing).
pub async fn touch_sync(conn: &mut PgConnection, session_id: &str) -> Result<(), StoreError> {
    sqlx::query(
        r#"UPDATE whatsapp_sessions SET "lastSync" = clock_timestamp() WHERE "sessionId" = $1"#,
    )
    .bind(session_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A message row to insert.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub message_id: &'a str,
    pub remote_jid: &'a str,
    pub from_me: bool,
    pub content: Option<&'a str>,
    pub message_type: &'static str,
    pub status: &'static str,
    pub media_url: Option<&'a str>,
    pub media_mime_type: Option<&'a str>,
    pub media_size: Option<i32>,
    pub quoted_message_id: Option<&'a str>,
    pub timestamp: DateTime<Utc>,
    pub metadata: Option<&'a Value>,
    pub sender_id: Option<&'a str>,
}

/// A stored message as the events carry it.
#[derive(Debug, Clone, sqlx::FromRow)]
#[sqlx(rename_all = "camelCase")]
pub struct StoredMessage {
    pub id: String,
    pub message_id: String,
    pub remote_jid: String,
    pub from_me: bool,
    pub content: Option<String>,
    pub message_type: String,
}

/// Insert unless (`sessionId`, `messageId`) exists. Returns the row and
/// whether this call created it; an existing row gets a missing `senderId`.
///
/// Not [`crate::store::idempotent::insert_or_first`]: the conflict branch
/// writes to the existing row (one `DO UPDATE` statement, `xmax = 0` telling
/// the two apart), so there is no read-only second statement to fall back to.
pub async fn upsert_message(
    conn: &mut PgConnection,
    session_id: &str,
    m: &NewMessage<'_>,
) -> Result<Inserted<StoredMessage>, StoreError> {
    let inserted =
        sqlx::query_as::<_, (bool, String, String, String, bool, Option<String>, String)>(
            r#"INSERT INTO whatsapp_messages
             ("sessionId", "messageId", "remoteJid", "fromMe", "content", "messageType", "status",
              "mediaUrl", "mediaMimeType", "mediaSize", "quotedMessageId", "timestamp", "metadata",
              "senderId")
           VALUES ($1, $2, $3, $4, $5, $6::text::"WhatsAppMessageType",
                   $7::text::"WhatsAppMessageStatus", $8, $9, $10, $11, $12, $13, $14)
           ON CONFLICT ("sessionId", "messageId") DO UPDATE
             SET "senderId" = COALESCE(whatsapp_messages."senderId", EXCLUDED."senderId")
           RETURNING (xmax = 0), "id", "messageId", "remoteJid", "fromMe", "content",
                     "messageType"::text"#,
        )
        .bind(session_id)
        .bind(m.message_id)
        .bind(m.remote_jid)
        .bind(m.from_me)
        .bind(m.content)
        .bind(m.message_type)
        .bind(m.status)
        .bind(m.media_url)
        .bind(m.media_mime_type)
        .bind(m.media_size)
        .bind(m.quoted_message_id)
        .bind(m.timestamp)
        .bind(m.metadata)
        .bind(m.sender_id)
        .fetch_one(conn)
        .await
        .map(
            |(created, id, message_id, remote_jid, from_me, content, message_type)| Inserted {
                row: StoredMessage {
                    id,
                    message_id,
                    remote_jid,
                    from_me,
                    content,
                    message_type,
                },
                created,
            },
        )?;
    Ok(inserted)
}

/// A contact as a message or a contacts update describes it.
#[derive(Debug, Clone)]
pub struct ContactSeen<'a> {
    pub jid: &'a str,
    pub name: Option<&'a str>,
    pub phone_number: Option<&'a str>,
    pub is_group: bool,
    pub last_message_at: Option<DateTime<Utc>>,
    pub unread_increment: i32,
}

/// What a contact upsert did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactChange {
    Created { name: Option<String> },
    Renamed { name: Option<String> },
    Unchanged,
}

/// Upsert after a new message: the name only fills a missing one.
pub async fn contact_for_message(
    conn: &mut PgConnection,
    session_id: &str,
    c: &ContactSeen<'_>,
) -> Result<ContactChange, StoreError> {
    let (created, name) = sqlx::query_as::<_, (bool, Option<String>)>(
        r#"INSERT INTO whatsapp_contacts
             ("sessionId", "jid", "name", "phoneNumber", "isGroup", "lastMessageAt", "unreadCount")
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT ("sessionId", "jid") DO UPDATE SET
             "name" = COALESCE(whatsapp_contacts."name", EXCLUDED."name"),
             "lastMessageAt" = GREATEST(whatsapp_contacts."lastMessageAt", EXCLUDED."lastMessageAt"),
             "unreadCount" = whatsapp_contacts."unreadCount" + EXCLUDED."unreadCount",
             "updatedAt" = clock_timestamp()
           RETURNING (xmax = 0), "name""#,
    )
    .bind(session_id)
    .bind(c.jid)
    .bind(c.name)
    .bind(c.phone_number)
    .bind(c.is_group)
    .bind(c.last_message_at)
    .bind(c.unread_increment)
    .fetch_one(conn)
    .await?;
    Ok(if created {
        ContactChange::Created { name }
    } else {
        ContactChange::Unchanged
    })
}

/// Upsert from `contacts.upsert`: a given name replaces the stored one.
pub async fn contact_named(
    conn: &mut PgConnection,
    session_id: &str,
    c: &ContactSeen<'_>,
) -> Result<ContactChange, StoreError> {
    let row = sqlx::query_as::<_, (bool, Option<String>)>(
        r#"INSERT INTO whatsapp_contacts ("sessionId", "jid", "name", "phoneNumber", "isGroup")
           VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT ("sessionId", "jid") DO UPDATE SET
             "name" = EXCLUDED."name", "updatedAt" = clock_timestamp()
           WHERE EXCLUDED."name" IS NOT NULL
             AND whatsapp_contacts."name" IS DISTINCT FROM EXCLUDED."name"
           RETURNING (xmax = 0), "name""#,
    )
    .bind(session_id)
    .bind(c.jid)
    .bind(c.name)
    .bind(c.phone_number)
    .bind(c.is_group)
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        Some((true, name)) => ContactChange::Created { name },
        Some((false, name)) => ContactChange::Renamed { name },
        None => ContactChange::Unchanged,
    })
}

/// A receipt that moved a message forward.
#[derive(Debug, Clone)]
pub struct StatusChange {
    pub message_id: String,
    pub status: String,
    pub at: DateTime<Utc>,
}

/// Move a message to `DELIVERED` or `READ`, never backwards, never twice.
pub async fn advance_status(
    conn: &mut PgConnection,
    session_id: &str,
    message_id: &str,
    status: &str,
) -> Result<Option<StatusChange>, StoreError> {
    let row = sqlx::query_as::<_, (String, String, Option<DateTime<Utc>>, Option<DateTime<Utc>>)>(
        r#"UPDATE whatsapp_messages SET
             "status" = $3::text::"WhatsAppMessageStatus",
             "deliveredAt" = CASE WHEN $3 = 'DELIVERED' THEN clock_timestamp()
                                  ELSE COALESCE("deliveredAt", clock_timestamp()) END,
             "readAt" = CASE WHEN $3 = 'READ' THEN clock_timestamp() ELSE "readAt" END,
             "updatedAt" = clock_timestamp()
           WHERE "sessionId" = $1 AND "messageId" = $2
             AND array_position(ARRAY['PENDING', 'SENT', 'DELIVERED', 'READ'], "status"::text)
               < array_position(ARRAY['PENDING', 'SENT', 'DELIVERED', 'READ'], $3::text)
           RETURNING "messageId", "status"::text, "deliveredAt", "readAt""#,
    )
    .bind(session_id)
    .bind(message_id)
    .bind(status)
    .fetch_optional(conn)
    .await?;
    Ok(row.and_then(|(message_id, status, delivered, read)| {
        let at = if status == "READ" { read } else { delivered }?;
        Some(StatusChange {
            message_id,
            status,
            at,
        })
    }))
}
