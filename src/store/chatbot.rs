//! Tenant chatbot visitor sessions (tables `Tenant`, `ChatbotSession`,
//! `ChatbotMessage`): widget config, conversations, idempotent visitor
//! messages, keyset paging.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use super::cursor::{self, Cursor};
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
    tenant_id: &str,
    visitor_id: &str,
    visitor_name: Option<&str>,
) -> Result<Conversation, StoreError> {
    Ok(sqlx::query_as::<_, Conversation>(
        r#"INSERT INTO "ChatbotSession" ("tenantId", "visitorId", "visitorName")
           VALUES ($1, $2, $3)
           RETURNING "id", "tenantId", "visitorId", "visitorName", "status", "createdAt""#,
    )
    .bind(tenant_id)
    .bind(visitor_id)
    .bind(visitor_name)
    .fetch_one(conn)
    .await?)
}

/// The conversation if it belongs to this visitor of this tenant.
pub async fn owned_conversation(
    pool: &PgPool,
    id: &str,
    tenant_id: &str,
    visitor_id: &str,
) -> Result<Option<Conversation>, StoreError> {
    Ok(sqlx::query_as::<_, Conversation>(
        r#"SELECT "id", "tenantId", "visitorId", "visitorName", "status", "createdAt"
           FROM "ChatbotSession" WHERE "id" = $1 AND "tenantId" = $2 AND "visitorId" = $3"#,
    )
    .bind(id)
    .bind(tenant_id)
    .bind(visitor_id)
    .fetch_optional(pool)
    .await?)
}

pub async fn page_messages(
    pool: &PgPool,
    conversation_id: &str,
    after: Option<&Cursor>,
    limit: usize,
) -> Result<(Vec<ChatbotMessage>, Option<String>), StoreError> {
    let rows = sqlx::query_as::<_, ChatbotMessage>(
        r#"SELECT "id", "sessionId", "role", "body", "clientMessageId", "createdAt"
           FROM "ChatbotMessage"
           WHERE "sessionId" = $1
             AND ($2::timestamptz IS NULL OR ("createdAt", "id") < ($2, $3))
           ORDER BY "createdAt" DESC, "id" DESC
           LIMIT $4"#,
    )
    .bind(conversation_id)
    .bind(after.map(|c| c.created_at))
    .bind(after.map(|c| c.id.as_str()))
    .bind(i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1))
    .fetch_all(pool)
    .await?;
    Ok(cursor::page(rows, limit, |m| Cursor {
        created_at: m.created_at,
        id: m.id.clone(),
    }))
}

/// Insert a visitor message unless its clientMessageId exists in the
/// conversation; returns the row and whether this call created it.
pub async fn send_visitor_message(
    conn: &mut PgConnection,
    conversation_id: &str,
    body: &str,
    client_message_id: &str,
) -> Result<(ChatbotMessage, bool), StoreError> {
    let inserted = sqlx::query_as::<_, ChatbotMessage>(
        r#"INSERT INTO "ChatbotMessage" ("sessionId", "role", "body", "clientMessageId")
           VALUES ($1, 'visitor', $2, $3)
           ON CONFLICT ("sessionId", "role", "clientMessageId") DO NOTHING
           RETURNING "id", "sessionId", "role", "body", "clientMessageId", "createdAt""#,
    )
    .bind(conversation_id)
    .bind(body)
    .bind(client_message_id)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some(m) = inserted {
        return Ok((m, true));
    }
    let first = sqlx::query_as::<_, ChatbotMessage>(
        r#"SELECT "id", "sessionId", "role", "body", "clientMessageId", "createdAt"
           FROM "ChatbotMessage"
           WHERE "sessionId" = $1 AND "role" = 'visitor' AND "clientMessageId" = $2"#,
    )
    .bind(conversation_id)
    .bind(client_message_id)
    .fetch_one(&mut *conn)
    .await?;
    Ok((first, false))
}
