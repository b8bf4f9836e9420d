//! The rust handlers assembled from the environment, on their own runtime.
//!
//! `DATABASE_URL` (the legacy app's PostgreSQL) and `PUSHER_APP_ID`,
//! `PUSHER_KEY`, `PUSHER_SECRET`, `PUSHER_HOST`, `PUSHER_PORT` (Soketi's HTTP
//! API) — the same variables the Next app reads. The handlers run on a
//! dedicated tokio runtime so their database connections and the scheduled
//! message dispatcher live on one reactor, whichever Pingora thread asks.

use std::time::Duration;

use axum::Router;
use axum::response::IntoResponse;
use sqlx::postgres::PgPoolOptions;

use crate::handlers::{self, AppState, PusherClient, PusherConfig};

/// The embedded rust backend: a router and the runtime that runs it.
pub struct Embedded {
    pub router: Router,
    pub runtime: tokio::runtime::Handle,
}

/// What the environment names; `None` when `DATABASE_URL` is unset.
pub struct HandlersEnv {
    pub database_url: String,
    pub pusher: PusherConfig,
}

impl HandlersEnv {
    pub fn from_env() -> Result<Option<HandlersEnv>, String> {
        let Ok(database_url) = std::env::var("DATABASE_URL") else {
            return Ok(None);
        };
        let var = |name: &str| {
            std::env::var(name).map_err(|_| {
                format!("{name} is not set: the rust handlers broadcast through Soketi's HTTP API")
            })
        };
        let host = var("PUSHER_HOST")?;
        let port = var("PUSHER_PORT")?;
        let scheme = if std::env::var("PUSHER_USE_TLS").is_ok_and(|v| v == "true") {
            "https"
        } else {
            "http"
        };
        Ok(Some(HandlersEnv {
            database_url,
            pusher: PusherConfig {
                app_id: var("PUSHER_APP_ID")?,
                key: var("PUSHER_KEY")?,
                secret: var("PUSHER_SECRET")?,
                base_url: format!("{scheme}://{host}:{port}"),
            },
        }))
    }
}

/// Build the handlers' router on `runtime` (pool, Pusher client, dispatcher).
/// Without a database the router answers every request with a JSON 503 that
/// says what to set, so a flag pointing at rust fails loudly, not silently.
pub fn build(
    env: Option<HandlersEnv>,
    runtime: &tokio::runtime::Runtime,
    dispatcher: bool,
) -> Result<Router, String> {
    let Some(env) = env else {
        tracing::warn!(
            "DATABASE_URL is not set: the rust handlers answer 503 until it is (routes on next are unaffected)"
        );
        return Ok(unconfigured());
    };
    runtime.block_on(async {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(3))
            .connect_lazy(&env.database_url)
            .map_err(|e| format!("DATABASE_URL: {e}"))?;
        let pusher = PusherClient::new(env.pusher);
        if dispatcher {
            tokio::spawn(handlers::dispatch_forever(
                pool.clone(),
                pusher.clone(),
                Duration::from_secs(1),
            ));
        }
        Ok(handlers::router(AppState::new(pool, pusher)))
    })
}

fn unconfigured() -> Router {
    Router::new().fallback(|| async {
        (
            http::StatusCode::SERVICE_UNAVAILABLE,
            [(http::header::RETRY_AFTER, "30")],
            axum::Json(serde_json::json!({
                "error": "rust_backend_unconfigured",
                "reason": "set DATABASE_URL and PUSHER_* for the rust handlers"
            })),
        )
            .into_response()
    })
}

/// A multi-thread runtime for the handlers.
pub fn runtime(threads: usize) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name("cutover-handlers")
        .enable_all()
        .build()
}
