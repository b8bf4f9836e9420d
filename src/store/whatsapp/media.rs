//! The stored file of a media message, for the media route: one lookup that
//! answers only when the caller is a member of the message's tenant, so a
//! message of another tenant is indistinguishable from a missing one.

use sqlx::PgPool;

use crate::store::StoreError;

/// What the media route needs of a `whatsapp_messages` row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MediaRow {
    /// The row id (`whatsapp_messages.id`), part of the ETag.
    pub id: String,
    /// The object name under the media root (`mediaUrl`); `None` when the
    /// message has no media.
    #[sqlx(rename = "mediaUrl")]
    pub media_url: Option<String>,
    #[sqlx(rename = "mediaMimeType")]
    pub mime_type: Option<String>,
    /// `metadata.message.documentMessage.fileName` when it is a JSON string.
    #[sqlx(rename = "fileName")]
    pub file_name: Option<String>,
}

/// The message `id` if `user_id` has a `"Membership"` in the tenant of the
/// message's session; otherwise `None` (missing and foreign look the same).
pub async fn visible_media(
    pool: &PgPool,
    id: &str,
    user_id: &str,
) -> Result<Option<MediaRow>, StoreError> {
    Ok(sqlx::query_as::<_, MediaRow>(
        r#"SELECT m."id", m."mediaUrl", m."mediaMimeType",
                  CASE WHEN jsonb_typeof(m."metadata" #> '{message,documentMessage,fileName}') = 'string'
                       THEN m."metadata" #>> '{message,documentMessage,fileName}'
                  END AS "fileName"
           FROM whatsapp_messages m
           JOIN whatsapp_sessions s ON s."sessionId" = m."sessionId"
           JOIN "Membership" ms ON ms."tenantId" = s."tenantId" AND ms."userId" = $2
           WHERE m."id" = $1"#,
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(pool)
    .await?)
}
