//! WhatsApp tables (`whatsapp_sessions`, `whatsapp_session_configs`,
//! `whatsapp_messages`, `whatsapp_contacts`, `whatsapp_outbox`,
//! `whatsapp_worker_batches`): tenant-scoped reads for the admin UI, the
//! worker's idempotent ingest, the send outbox with leases, media lookup.
//!
//! Enum columns are PostgreSQL enum types: read as `::text`, written with a
//! cast. A session is visible to a user iff a `"Membership"` joins them to
//! its tenant; every admin query goes through [`sessions::visible`].

pub mod history;
pub mod ingest;
pub mod media;
pub mod outbox;
pub mod sessions;

/// What the handlers need of a session once it is known to be visible.
#[derive(Debug, Clone, sqlx::FromRow)]
#[sqlx(rename_all = "camelCase")]
pub struct SessionRef {
    pub session_id: String,
    pub tenant_id: String,
    pub status: String,
    pub qr: Option<String>,
}
