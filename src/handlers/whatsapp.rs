//! WhatsApp domain under `/api/whatsapp`: the admin UI's session lifecycle,
//! contacts, history, sends and analytics (session identity, scoped to the
//! caller's tenants), the media route, and the Baileys worker's routes
//! (service identity): sessions to hold, event ingest, outbox claim/result.
//! The contract is `contracts/legacy-api.yaml`; the reasoning behind it is in
//! `contracts/whatsapp.md`.

pub mod baileys;
pub mod error;
pub mod events;
mod history;
mod ingest;
mod media;
mod params;
mod send;
mod sessions;
mod worker;

use axum::Router;

use super::AppState;
pub use error::WaError;
pub use send::wa_message_id;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(sessions::router())
        .merge(history::router())
        .merge(send::router())
        .merge(worker::router())
        .merge(media::router())
}
