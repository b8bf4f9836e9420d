//! What the admin UI reads of a session: contacts, message history (keyset
//! pages on (`timestamp`, `id`)), mark-read, and the analytics counts.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use crate::store::cursor::Cursor;
use crate::store::keyset::{self, Keyed, newest_first};
use crate::store::{StoreError, ser_opt_ts, ser_ts};

/// The contract's `Contact`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
#[sqlx(rename_all = "camelCase")]
pub struct Contact {
    pub id: String,
    pub jid: String,
    pub name: Option<String>,
    pub phone_number: Option<String>,
    pub is_group: bool,
    pub is_business: bool,
    pub avatar_url: Option<String>,
    #[serde(serialize_with = "ser_opt_ts")]
    pub last_message_at: Option<DateTime<Utc>>,
    pub unread_count: i32,
}

/// The contract's `Message`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
#[sqlx(rename_all = "camelCase")]
pub struct Message {
    pub id: String,
    pub message_id: String,
    pub remote_jid: String,
    pub from_me: bool,
    pub content: Option<String>,
    pub message_type: String,
    pub status: String,
    #[serde(serialize_with = "ser_ts")]
    pub timestamp: DateTime<Utc>,
    #[serde(serialize_with = "ser_opt_ts")]
    pub delivered_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ser_opt_ts")]
    pub read_at: Option<DateTime<Utc>>,
    pub media_mime_type: Option<String>,
    pub media_size: Option<i32>,
    pub quoted_message_id: Option<String>,
    pub sender_id: Option<String>,
}

impl Keyed for Message {
    fn key(&self) -> Cursor {
        Cursor::at(self.timestamp, &self.id)
    }
}

pub async fn contacts(pool: &PgPool, session_id: &str) -> Result<Vec<Contact>, StoreError> {
    Ok(sqlx::query_as::<_, Contact>(
        r#"SELECT "id", "jid", "name", "phoneNumber", "isGroup", "isBusiness", "avatarUrl",
                  "lastMessageAt", "unreadCount"
           FROM whatsapp_contacts WHERE "sessionId" = $1
           ORDER BY "lastMessageAt" DESC NULLS LAST, "jid" ASC"#,
    )
    .bind(session_id)
    .fetch_all(pool)
    .await?)
}

/// The jid of a contact of this session (the legacy `contactId=` form).
pub async fn contact_jid(
    pool: &PgPool,
    session_id: &str,
    contact_id: &str,
) -> Result<Option<String>, StoreError> {
    Ok(sqlx::query_scalar::<_, String>(
        r#"SELECT "jid" FROM whatsapp_contacts WHERE "sessionId" = $1 AND "id" = $2"#,
    )
    .bind(session_id)
    .bind(contact_id)
    .fetch_optional(pool)
    .await?)
}

/// The `limit` messages just older than `before` (newest when `None`) of one
/// chat (or of every chat), newest first, and the cursor of the next older
/// page (keyset on (`timestamp`, `id`)).
pub async fn page_messages(
    pool: &PgPool,
    session_id: &str,
    jid: Option<&str>,
    before: Option<&Cursor>,
    limit: usize,
) -> Result<(Vec<Message>, Option<String>), StoreError> {
    // One statement per shape (a chat, or every chat): an optional `$5`
    // would leave the generic plan unable to use the chat index.
    macro_rules! page {
        ($chats:literal) => {
            newest_first!(
                concat!(
                    r#"SELECT "id", "messageId", "remoteJid", "fromMe", "content",
                  "messageType"::text AS "messageType", "status"::text AS "status",
                  "timestamp", "deliveredAt", "readAt", "mediaMimeType", "mediaSize",
                  "quotedMessageId", "senderId"
           FROM whatsapp_messages
           WHERE "sessionId" = $4
             AND "#,
                    $chats
                ),
                "timestamp",
            )
        };
    }
    const CHAT: keyset::Page = page!(r#""remoteJid" = $5"#);
    const ALL: keyset::Page = page!("$5::text IS NULL");
    let page = if jid.is_some() { CHAT } else { ALL };
    keyset::fetch_page(pool, page, before, limit, |q| q.bind(session_id).bind(jid)).await
}

/// Zero a contact's unread count; `None` when there is no such contact,
/// else whether it changed.
pub async fn mark_read(
    conn: &mut PgConnection,
    session_id: &str,
    jid: &str,
) -> Result<Option<bool>, StoreError> {
    let unread = sqlx::query_scalar::<_, i32>(
        r#"SELECT "unreadCount" FROM whatsapp_contacts
           WHERE "sessionId" = $1 AND "jid" = $2 FOR UPDATE"#,
    )
    .bind(session_id)
    .bind(jid)
    .fetch_optional(&mut *conn)
    .await?;
    match unread {
        None => Ok(None),
        Some(0) => Ok(Some(false)),
        Some(_) => {
            sqlx::query(
                r#"UPDATE whatsapp_contacts SET "unreadCount" = 0, "updatedAt" = clock_timestamp()
                   WHERE "sessionId" = $1 AND "jid" = $2"#,
            )
            .bind(session_id)
            .bind(jid)
            .execute(conn)
            .await?;
            Ok(Some(true))
        }
    }
}

/// Raw analytics counts since `start`.
#[derive(Debug, Clone, Copy, Default, sqlx::FromRow)]
pub struct Counts {
    pub total: i64,
    pub sent: i64,
    pub received: i64,
    pub flowbot: i64,
    pub active_contacts: i64,
}

pub async fn counts(
    pool: &PgPool,
    session_id: &str,
    start: DateTime<Utc>,
) -> Result<Counts, StoreError> {
    Ok(sqlx::query_as::<_, Counts>(
        r#"SELECT count(*) AS total,
                  count(*) FILTER (WHERE "fromMe") AS sent,
                  count(*) FILTER (WHERE NOT "fromMe") AS received,
                  count(*) FILTER (WHERE "fromMe" AND "senderId" = 'whatsapp-system') AS flowbot,
                  (SELECT count(*) FROM whatsapp_contacts
                   WHERE "sessionId" = $1 AND "lastMessageAt" >= $2) AS active_contacts
           FROM whatsapp_messages
           WHERE "sessionId" = $1 AND "timestamp" >= $2"#,
    )
    .bind(session_id)
    .bind(start)
    .fetch_one(pool)
    .await?)
}
