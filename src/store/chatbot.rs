//! Tenant chatbot visitor sessions (tables `Tenant`, `ChatbotSession`,
//! `ChatbotMessage`): widget config, conversations, idempotent visitor
//! messages, keyset paging. A conversation is owned by a [`Visitor`]: tenant,
//! issuer (`ChatbotSession.issuer`, the `[[auth.chatbot]]` name) and visitor id.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use super::cursor::Cursor;
use super::idempotent::{Inserted, insert_or_first};
use super::keyset::{self, Keyed, newest_first};
use super::{StoreError, ser_ts};

/// The contract's `WidgetConfig`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct WidgetConfig {
    #[sqlx(rename = "id")]
    pub tenant_id: String,
    pub name: String,
    #[sqlx(rename = "chatbotEnabled")]
    pub enabled: bool,
    #[sqlx(rename = "chatbotGreeting")]
    pub greeting: Option<String>,
    #[sqlx(rename = "chatbotColor")]
    pub primary_color: Option<String>,
}

/// One row of `ChatbotSession`, serialized as the contract's `Conversation`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
#[sqlx(rename_all = "camelCase")]
pub struct Conversation {
    pub id: String,
    pub tenant_id: String,
    pub visitor_id: String,
    pub visitor_name: Option<String>,
    pub status: String,
    #[serde(serialize_with = "ser_ts")]
    pub created_at: DateTime<Utc>,
}

/// One row of `ChatbotMessage`, serialized as the contract's `ChatbotMessage`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
pub struct ChatbotMessage {
    pub id: String,
    #[sqlx(rename = "sessionId")]
    pub conversation_id: String,
    pub role: String,
    pub body: String,
    #[sqlx(rename = "clientMessageId")]
    pub client_message_id: Option<String>,
    #[sqlx(rename = "createdAt")]
    #[serde(serialize_with = "ser_ts")]
    pub created_at: DateTime<Utc>,
}

impl Keyed for ChatbotMessage {
    fn key(&self) -> Cursor {
        Cursor::at(self.created_at, &self.id)
    }
}

/// Who owns a conversation: visitor `visitor_id` of `tenant_id`, as vouched for
/// by the chatbot issuer named `issuer`. The same visitor id from another issuer
/// is another visitor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Visitor<'a> {
    pub tenant_id: &'a str,
    pub issuer: &'a str,
    pub visitor_id: &'a str,
}

pub async fn widget_config(
    pool: &PgPool,
    tenant_id: &str,
) -> Result<Option<WidgetConfig>, StoreError> {
    Ok(sqlx::query_as::<_, WidgetConfig>(
        r#"SELECT "id", "name", "chatbotEnabled", "chatbotGreeting", "chatbotColor"
           FROM "Tenant" WHERE "id" = $1"#,
    )
    .bind(tenant_id)
    .fetch_optional(pool)
    .await?)
}

pub async fn start_conversation(
    conn: &mut PgConnection,
    visitor: Visitor<'_>,
    visitor_name: Option<&str>,
) -> Result<Conversation, StoreError> {
    Ok(sqlx::query_as::<_, Conversation>(
        r#"INSERT INTO "ChatbotSession" ("tenantId", "visitorId", "visitorName", "issuer")
           VALUES ($1, $2, $3, $4)
           RETURNING "id", "tenantId", "visitorId", "visitorName", "status", "createdAt""#,
    )
    .bind(visitor.tenant_id)
    .bind(visitor.visitor_id)
    .bind(visitor_name)
    .bind(visitor.issuer)
    .fetch_one(conn)
    .await?)
}

/// The conversation if it belongs to this visitor (tenant, issuer and id).
pub async fn owned_conversation(
    pool: &PgPool,
    id: &str,
    visitor: Visitor<'_>,
) -> Result<Option<Conversation>, StoreError> {
    Ok(sqlx::query_as::<_, Conversation>(
        r#"SELECT "id", "tenantId", "visitorId", "visitorName", "status", "createdAt"
           FROM "ChatbotSession"
           WHERE "id" = $1 AND "tenantId" = $2 AND "visitorId" = $3 AND "issuer" = $4"#,
    )
    .bind(id)
    .bind(visitor.tenant_id)
    .bind(visitor.visitor_id)
    .bind(visitor.issuer)
    .fetch_optional(pool)
    .await?)
}

/// One newest-first page of a conversation's messages and the next cursor.
pub async fn page_messages(
    pool: &PgPool,
    conversation_id: &str,
    after: Option<&Cursor>,
    limit: usize,
) -> Result<(Vec<ChatbotMessage>, Option<String>), StoreError> {
    const PAGE: keyset::Page = newest_first!(
        r#"SELECT "id", "sessionId", "role", "body", "clientMessageId", "createdAt"
           FROM "ChatbotMessage"
           WHERE "sessionId" = $4"#,
        "createdAt",
    );
    keyset::fetch_page(pool, PAGE, after, limit, |q| q.bind(conversation_id)).await
}

/// Insert a visitor message unless its clientMessageId exists in the
/// conversation ([`insert_or_first`]).
pub async fn send_visitor_message(
    conn: &mut PgConnection,
    conversation_id: &str,
    body: &str,
    client_message_id: &str,
) -> Result<Inserted<ChatbotMessage>, StoreError> {
    let insert = sqlx::query_as(
        r#"INSERT INTO "ChatbotMessage" ("sessionId", "role", "body", "clientMessageId")
           VALUES ($1, 'visitor', $2, $3)
           ON CONFLICT ("sessionId", "role", "clientMessageId") DO NOTHING
           RETURNING "id", "sessionId", "role", "body", "clientMessageId", "createdAt""#,
    )
    .bind(conversation_id)
    .bind(body)
    .bind(client_message_id);
    let first = sqlx::query_as(
        r#"SELECT "id", "sessionId", "role", "body", "clientMessageId", "createdAt"
           FROM "ChatbotMessage"
           WHERE "sessionId" = $1 AND "role" = 'visitor' AND "clientMessageId" = $2"#,
    )
    .bind(conversation_id)
    .bind(client_message_id);
    insert_or_first(conn, insert, first).await
}
