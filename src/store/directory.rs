//! Who is who: users, memberships and the `SystemConfig` table. Read-only
//! lookups the realtime authorization rules and the admin check need.

use sqlx::PgPool;

use super::StoreError;

/// The parts of a `User` the handlers need.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserProfile {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub role: String,
}

impl UserProfile {
    pub fn is_admin(&self) -> bool {
        self.role == "ADMIN"
    }
}

pub async fn user(pool: &PgPool, id: &str) -> Result<Option<UserProfile>, StoreError> {
    Ok(sqlx::query_as::<_, UserProfile>(
        r#"SELECT "id", "name", "email", "role" FROM "User" WHERE "id" = $1"#,
    )
    .bind(id)
    .fetch_optional(pool)
    .await?)
}

/// The tenants the user is a member of (`Membership`), sorted: a session
/// user's tenants for the realtime rules.
pub async fn tenants_of(pool: &PgPool, user_id: &str) -> Result<Vec<String>, StoreError> {
    let rows: Vec<(String,)> = sqlx::query_as(
        r#"SELECT "tenantId" FROM "Membership" WHERE "userId" = $1 ORDER BY "tenantId""#,
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(t,)| t).collect())
}

pub async fn is_member(pool: &PgPool, user_id: &str, tenant_id: &str) -> Result<bool, StoreError> {
    let row: Option<(i32,)> =
        sqlx::query_as(r#"SELECT 1 FROM "Membership" WHERE "userId" = $1 AND "tenantId" = $2"#)
            .bind(user_id)
            .bind(tenant_id)
            .fetch_optional(pool)
            .await?;
    Ok(row.is_some())
}

/// The JSON value of a `SystemConfig` key.
pub async fn system_config(
    pool: &PgPool,
    key: &str,
) -> Result<Option<serde_json::Value>, StoreError> {
    let row: Option<(serde_json::Value,)> =
        sqlx::query_as(r#"SELECT "value" FROM "SystemConfig" WHERE "key" = $1"#)
            .bind(key)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(v,)| v))
}
