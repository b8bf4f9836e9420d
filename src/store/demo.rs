//! The demo data `cutover migrate --demo` adds: two users the legacy app's
//! NextAuth credentials provider accepts (`passwordHash` is
//! `sha256:<hex of the password>`, as tests/legacy-next/lib/auth.ts checks),
//! their tenant, and a thread between them with a few messages. Fixed ids;
//! idempotent (a re-run resets the passwords and adds nothing twice).

use sha2::{Digest, Sha256};
use sqlx::PgPool;

use super::StoreError;

/// The demo users: (id, email, name). Each one's password is [`PASSWORD`].
pub const USERS: [(&str, &str, &str); 2] = [
    ("demo-alice", "alice@demo.test", "Alice (demo)"),
    ("demo-bob", "bob@demo.test", "Bob (demo)"),
];
/// Every demo user's password.
pub const PASSWORD: &str = "cutover-demo";
pub const TENANT: &str = "demo-tenant";
pub const THREAD: &str = "demo-thread";
/// The thread's messages: (id, sender, body), oldest first.
pub const MESSAGES: [(&str, &str, &str); 3] = [
    (
        "demo-m1",
        "demo-alice",
        "Hi Bob, this thread is served by Next.",
    ),
    (
        "demo-m2",
        "demo-bob",
        "Flip the route and it comes from Rust.",
    ),
    ("demo-m3", "demo-alice", "Same bytes either way."),
];

/// Insert (or refresh) the demo rows. The schema must be migrated.
pub async fn seed(pool: &PgPool) -> Result<(), StoreError> {
    let hash = format!("sha256:{}", hex::encode(Sha256::digest(PASSWORD)));
    let mut tx = pool.begin().await?;
    sqlx::query(r#"INSERT INTO "Tenant" ("id", "name") VALUES ($1, 'Demo Co') ON CONFLICT ("id") DO NOTHING"#)
        .bind(TENANT)
        .execute(&mut *tx)
        .await?;
    for (id, email, name) in USERS {
        sqlx::query(
            r#"INSERT INTO "User" ("id", "email", "name", "passwordHash") VALUES ($1, $2, $3, $4)
               ON CONFLICT ("id") DO UPDATE SET "passwordHash" = EXCLUDED."passwordHash""#,
        )
        .bind(id)
        .bind(email)
        .bind(name)
        .bind(&hash)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            r#"INSERT INTO "Membership" ("userId", "tenantId") VALUES ($1, $2)
               ON CONFLICT ("userId", "tenantId") DO NOTHING"#,
        )
        .bind(id)
        .bind(TENANT)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        r#"INSERT INTO "Thread" ("id", "tenantId", "title") VALUES ($1, $2, 'Alice & Bob')
           ON CONFLICT ("id") DO NOTHING"#,
    )
    .bind(THREAD)
    .bind(TENANT)
    .execute(&mut *tx)
    .await?;
    for (id, _, _) in USERS {
        sqlx::query(
            r#"INSERT INTO "ThreadParticipant" ("threadId", "userId") VALUES ($1, $2)
               ON CONFLICT ("threadId", "userId") DO NOTHING"#,
        )
        .bind(THREAD)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    }
    for (i, (id, sender, body)) in MESSAGES.into_iter().enumerate() {
        // One minute apart, so the order is the listed one.
        sqlx::query(
            r#"INSERT INTO "Message" ("id", "threadId", "senderId", "body", "createdAt")
               VALUES ($1, $2, $3, $4, TIMESTAMPTZ '2026-01-01T00:00:00Z' + make_interval(mins => $5))
               ON CONFLICT ("id") DO NOTHING"#,
        )
        .bind(id)
        .bind(THREAD)
        .bind(sender)
        .bind(body)
        .bind(i as i32)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// What `cutover migrate --demo` prints: how to log in.
pub fn credentials() -> String {
    let users: Vec<String> = USERS
        .iter()
        .map(|(_, email, _)| format!("  {email}  password: {PASSWORD}"))
        .collect();
    format!(
        "demo data: tenant {TENANT}, thread {THREAD} ({} messages); log in as\n{}",
        MESSAGES.len(),
        users.join("\n")
    )
}
