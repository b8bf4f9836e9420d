//! The new Rust handlers: axum routers by domain serving the same `/api/...`
//! paths and JSON as the legacy Next.js app (`contracts/legacy-api.yaml`).
//!
//! Owns HTTP-level concerns of the migrated routes: identity extraction (the
//! proxy already verified it and passes `crate::identity::Identity` as a request
//! extension), request validation, the error → JSON mapping, shadow dry-runs
//! and Pusher broadcasts. Uses `crate::store` for every query. Never imports
//! Pingora, flags, caps or shadow comparison.
//!
//! Shared by the domains: `extract` (caller, side-effect gate, bodies),
//! `paging` (list parameters and pages), `send` (idempotent sends).

pub mod error;
pub mod extract;
pub mod paging;
pub mod pusher;
pub mod realtime;
pub mod send;
pub mod streams;
pub mod tenant_chatbot;
pub mod user_threads;
pub mod whatsapp;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use sqlx::PgPool;

pub use error::HandlerError;
pub use pusher::{PusherClient, PusherConfig};
pub use realtime::cache::RealtimeConfigCache;
pub use user_threads::scheduled::{dispatch_due, dispatch_forever};

/// How long `GET /api/chat/realtime/config` serves a cached `SystemConfig` row.
pub const REALTIME_CONFIG_TTL: Duration = Duration::from_secs(60);

/// Everything a handler may use.
#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub pusher: PusherClient,
    pub realtime_cache: Arc<RealtimeConfigCache>,
    /// Where WhatsApp media files live (`WHATSAPP_MEDIA_ROOT`); `None` → the
    /// media route answers 503.
    pub media_root: Option<PathBuf>,
    /// The SSE streams' fan-out hub (`streams`); its listener starts with the
    /// first stream.
    pub streams: Arc<streams::Hub>,
    /// The request path's stream event writer (batched commits).
    pub recorder: Arc<streams::Recorder>,
}

impl AppState {
    pub fn new(pool: PgPool, pusher: PusherClient) -> AppState {
        AppState {
            pool: pool.clone(),
            pusher,
            realtime_cache: Arc::new(RealtimeConfigCache::new(REALTIME_CONFIG_TTL)),
            media_root: std::env::var_os("WHATSAPP_MEDIA_ROOT")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            recorder: Arc::new(streams::Recorder::new(pool.clone())),
            streams: Arc::new(streams::Hub::new(pool, streams::StreamConfig::default())),
        }
    }

    /// The same state with other stream limits and timings (tests).
    pub fn with_streams(mut self, config: streams::StreamConfig) -> AppState {
        self.streams = Arc::new(streams::Hub::new(self.pool.clone(), config));
        self
    }

    /// The same state with another media root (tests).
    pub fn with_media_root(mut self, root: Option<PathBuf>) -> AppState {
        self.media_root = root;
        self
    }
}

/// All migrated routes, at the same paths as the Next app.
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(realtime::router())
        .merge(user_threads::router())
        .merge(tenant_chatbot::router())
        .merge(whatsapp::router())
        .merge(streams::router())
        .with_state(state)
}
