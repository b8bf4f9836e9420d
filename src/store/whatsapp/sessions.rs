//! Session lifecycle rows: list with stats, create (retry-safe), delete,
//! connect/disconnect status changes, and the worker's list of sessions to
//! hold.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgPool};

use super::SessionRef;
use crate::store::{StoreError, ser_opt_ts, ser_ts};

/// The contract's `Session`.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
#[sqlx(rename_all = "camelCase")]
pub struct Session {
    pub id: String,
    pub session_id: String,
    pub tenant_id: String,
    pub name: String,
    pub phone_number: Option<String>,
    pub status: String,
    pub is_active: bool,
    #[serde(serialize_with = "ser_ts")]
    pub last_sync: DateTime<Utc>,
    #[serde(serialize_with = "ser_opt_ts")]
    pub last_connected: Option<DateTime<Utc>>,
    pub error_message: Option<String>,
    pub routing_rule: String,
    #[sqlx(flatten)]
    pub stats: Stats,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Stats {
    pub messages: i64,
    pub contacts: i64,
}

/// One session the worker must hold a socket for.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
#[serde(rename_all = "camelCase")]
#[sqlx(rename_all = "camelCase")]
pub struct HeldSession {
    pub session_id: String,
    pub tenant_id: String,
    pub name: String,
    pub status: String,
}

/// The `Session` columns; a macro so each query stays one static string.
macro_rules! session_select {
    () => {
        r#"
    SELECT s."id", s."sessionId", s."tenantId", s."name", s."phoneNumber",
           s."status"::text AS "status", s."isActive", s."lastSync", s."lastConnected",
           s."errorMessage",
           COALESCE(c."routingRule"::text, 'FLOWBOT_FIRST') AS "routingRule",
           (SELECT count(*) FROM whatsapp_messages m WHERE m."sessionId" = s."sessionId") AS "messages",
           (SELECT count(*) FROM whatsapp_contacts k WHERE k."sessionId" = s."sessionId") AS "contacts"
    FROM whatsapp_sessions s
    LEFT JOIN whatsapp_session_configs c ON c."sessionId" = s."sessionId""#
    };
}

/// Every session of every tenant `user_id` is a member of, newest first.
pub async fn list_for_user(pool: &PgPool, user_id: &str) -> Result<Vec<Session>, StoreError> {
    Ok(sqlx::query_as::<_, Session>(concat!(
        session_select!(),
        r#" WHERE s."tenantId" IN (SELECT "tenantId" FROM "Membership" WHERE "userId" = $1)
            ORDER BY s."createdAt" DESC, s."id" DESC"#
    ))
    .bind(user_id)
    .fetch_all(pool)
    .await?)
}

async fn one(conn: &mut PgConnection, session_id: &str) -> Result<Session, StoreError> {
    Ok(
        sqlx::query_as::<_, Session>(concat!(session_select!(), r#" WHERE s."sessionId" = $1"#))
            .bind(session_id)
            .fetch_one(conn)
            .await?,
    )
}

/// The session if `user_id` is a member of its tenant; `None` is the same
/// for a missing session and another tenant's.
pub async fn visible(
    pool: &PgPool,
    session_id: &str,
    user_id: &str,
) -> Result<Option<SessionRef>, StoreError> {
    Ok(sqlx::query_as::<_, SessionRef>(
        r#"SELECT s."sessionId", s."tenantId", s."status"::text AS "status",
                  s."metadata"->>'qr' AS "qr"
           FROM whatsapp_sessions s
           WHERE s."sessionId" = $1
             AND EXISTS (SELECT 1 FROM "Membership" m
                         WHERE m."userId" = $2 AND m."tenantId" = s."tenantId")"#,
    )
    .bind(session_id)
    .bind(user_id)
    .fetch_optional(pool)
    .await?)
}

/// Any session by id (the worker may act on all).
pub async fn by_id(pool: &PgPool, session_id: &str) -> Result<Option<SessionRef>, StoreError> {
    Ok(sqlx::query_as::<_, SessionRef>(
        r#"SELECT "sessionId", "tenantId", "status"::text AS "status", "metadata"->>'qr' AS "qr"
           FROM whatsapp_sessions WHERE "sessionId" = $1"#,
    )
    .bind(session_id)
    .fetch_optional(pool)
    .await?)
}

/// The tenants `user_id` is a member of, in a stable order.
pub async fn memberships(pool: &PgPool, user_id: &str) -> Result<Vec<String>, StoreError> {
    Ok(sqlx::query_scalar::<_, String>(
        r#"SELECT "tenantId" FROM "Membership" WHERE "userId" = $1 ORDER BY "tenantId""#,
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?)
}

/// What a create found.
pub enum Created {
    New(Session),
    /// The same session again (a retried create): no second row.
    Existing(Session),
    /// The id is taken by another tenant, or by this one with another name.
    Taken,
}

pub async fn create(
    conn: &mut PgConnection,
    session_id: &str,
    tenant_id: &str,
    name: &str,
) -> Result<Created, StoreError> {
    let inserted = sqlx::query_scalar::<_, String>(
        r#"INSERT INTO whatsapp_sessions ("sessionId", "tenantId", "name")
           VALUES ($1, $2, $3)
           ON CONFLICT ("sessionId") DO NOTHING
           RETURNING "sessionId""#,
    )
    .bind(session_id)
    .bind(tenant_id)
    .bind(name)
    .fetch_optional(&mut *conn)
    .await?;
    if inserted.is_some() {
        sqlx::query(
            r#"INSERT INTO whatsapp_session_configs ("sessionId") VALUES ($1)
               ON CONFLICT ("sessionId") DO NOTHING"#,
        )
        .bind(session_id)
        .execute(&mut *conn)
        .await?;
        return Ok(Created::New(one(conn, session_id).await?));
    }
    let existing = one(conn, session_id).await?;
    if existing.tenant_id == tenant_id && existing.name == name {
        Ok(Created::Existing(existing))
    } else {
        Ok(Created::Taken)
    }
}

/// Delete a session; its config, messages, contacts and outbox cascade.
pub async fn delete(conn: &mut PgConnection, session_id: &str) -> Result<bool, StoreError> {
    let done = sqlx::query(r#"DELETE FROM whatsapp_sessions WHERE "sessionId" = $1"#)
        .bind(session_id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// `connect`: the worker picks the session up from its list.
pub async fn mark_connecting(
    conn: &mut PgConnection,
    session_id: &str,
    name: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        r#"UPDATE whatsapp_sessions
           SET "status" = 'CONNECTING', "isActive" = true, "errorMessage" = NULL,
               "name" = COALESCE($2, "name"), "updatedAt" = clock_timestamp()
           WHERE "sessionId" = $1"#,
    )
    .bind(session_id)
    .bind(name)
    .execute(conn)
    .await?;
    Ok(())
}

/// `disconnect`: off the worker's list, QR dropped.
pub async fn mark_disconnected(
    conn: &mut PgConnection,
    session_id: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        r#"UPDATE whatsapp_sessions
           SET "status" = 'DISCONNECTED', "isActive" = false,
               "metadata" = "metadata" - 'qr', "updatedAt" = clock_timestamp()
           WHERE "sessionId" = $1"#,
    )
    .bind(session_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Sessions the worker must hold: active and not disconnected or failed.
pub async fn held(pool: &PgPool) -> Result<Vec<HeldSession>, StoreError> {
    Ok(sqlx::query_as::<_, HeldSession>(
        r#"SELECT "sessionId", "tenantId", "name", "status"::text AS "status"
           FROM whatsapp_sessions
           WHERE "isActive" AND "status" IN ('CONNECTING', 'QR_REQUIRED', 'CONNECTED')
           ORDER BY "sessionId""#,
    )
    .fetch_all(pool)
    .await?)
}
