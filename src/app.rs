//! The rust handlers assembled from the environment, on their own runtime.
//!
//! `DATABASE_URL` (the legacy app's PostgreSQL) and `PUSHER_APP_ID`,
//! `PUSHER_KEY`, `PUSHER_SECRET`, `PUSHER_HOST`, `PUSHER_PORT` (Soketi's HTTP
//! API) — the same variables the Next app reads. The handlers run on a
//! dedicated tokio runtime so their database connections and the scheduled
//! message dispatcher live on one reactor, whichever Pingora thread asks.
//! Their health (in process, the database, Soketi) is reported to
//! `crate::health`: checked in the background and from failed responses.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::response::IntoResponse;
use sqlx::postgres::PgPoolOptions;

use crate::handlers::{self, AppState, PusherClient, PusherConfig};
use crate::health::{Backend, Health, State};

/// The embedded rust backend: a router and the runtime that runs it.
pub struct Embedded {
    pub router: Router,
    pub runtime: tokio::runtime::Handle,
    /// Health of every backend, shared with the proxy and the admin.
    pub health: Arc<Health>,
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

/// Build the handlers' router on `runtime` (pool, Pusher client, dispatcher,
/// the database and Soketi checks). Without a database the router answers
/// every request with a JSON 503 that says what to set, so a flag pointing
/// at rust fails loudly, not silently; `/-/backends` shows rust down.
pub fn build(
    env: Option<HandlersEnv>,
    runtime: &tokio::runtime::Runtime,
    dispatcher: bool,
) -> Result<Embedded, String> {
    let health = Arc::new(Health::new());
    let now = crate::proxy::unix_now();
    let router = match env {
        None => {
            tracing::warn!(
                "DATABASE_URL is not set: the rust handlers answer 503 until it is (routes on next are unaffected)"
            );
            health.set(
                Backend::Rust,
                State::Down,
                Some(format!("not configured: {UNCONFIGURED_REASON}")),
                now,
            );
            health.configure(Backend::Rust, false);
            unconfigured()
        }
        Some(env) => {
            health.set(Backend::Rust, State::Up, None, now);
            health.configure(Backend::Rust, false);
            health.configure(Backend::Database, true);
            health.configure(Backend::Soketi, true);
            runtime.spawn(crate::health::probe::soketi(
                env.pusher.base_url.clone(),
                health.clone(),
            ));
            configured(env, runtime, dispatcher, &health)?
        }
    };
    let recorder = health.clone();
    let router = router.layer(axum::middleware::map_response(
        move |r: axum::response::Response| {
            std::future::ready(crate::health::passive::record_dependency(&recorder, r))
        },
    ));
    Ok(Embedded {
        router,
        runtime: runtime.handle().clone(),
        health,
    })
}

/// A pooled connection idle at least this long is pinged before use.
const PING_IDLE_AFTER: Duration = Duration::from_secs(1);

/// Every statement the handlers prepare has one good generic plan (keyed
/// lookups, and keyset pages split so that no predicate is optional:
/// [`crate::store::keyset::Page`]), but PostgreSQL's default picks custom
/// plans for any statement with `LIMIT $n`, whose generic estimate assumes
/// 10 % of the rows, and so plans such a statement again on every
/// execution. Measured with `bench/messages.sh` (GET messages): 65 µs of
/// PostgreSQL CPU per request and a p99 of 64–310 ms with custom plans, 12 µs
/// and 10 ms with the generic one. Best effort: a server without the setting
/// (before PostgreSQL 12) or a pooler that drops it only plans as before.
async fn prefer_generic_plans(conn: &mut sqlx::PgConnection) -> Result<(), sqlx::Error> {
    if let Err(e) = sqlx::query("SET plan_cache_mode = force_generic_plan")
        .execute(conn)
        .await
    {
        tracing::debug!(error = %e, "plan_cache_mode not set; statements keep custom plans");
    }
    Ok(())
}

const UNCONFIGURED_REASON: &str = "set DATABASE_URL and PUSHER_* for the rust handlers";

fn configured(
    env: HandlersEnv,
    runtime: &tokio::runtime::Runtime,
    dispatcher: bool,
    health: &Arc<Health>,
) -> Result<Router, String> {
    runtime.block_on(async {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(3))
            // sqlx pings every connection it hands out (a round trip before
            // each query of a request); only one idle long enough to have
            // been dropped by the server or a middlebox is worth that.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for >= PING_IDLE_AFTER {
                        sqlx::Connection::ping(conn).await?;
                    }
                    Ok(true)
                })
            })
            .after_connect(|conn, _| Box::pin(prefer_generic_plans(conn)))
            .connect_lazy(&env.database_url)
            .map_err(|e| format!("DATABASE_URL: {e}"))?;
        let pusher = PusherClient::new(env.pusher);
        tokio::spawn(crate::health::probe::database(pool.clone(), health.clone()));
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
                "reason": UNCONFIGURED_REASON
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
