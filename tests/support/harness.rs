//! Test harness for `tests/handlers_*.rs`: a fresh PostgreSQL database per
//! test (created on 127.0.0.1:5432, migrated, seeded, dropped on drop), a
//! Pusher HTTP API recorder, and a `oneshot` request helper.
//!
//! STAND-IN: `Recorder` is an in-process HTTP server that plays the Pusher
//! HTTP API (it checks the signature and records events). It is not Soketi;
//! the real-Soketi checks are in `tests/handlers_soketi.rs`.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{Request, StatusCode};
use axum::routing::post;
use cutover::handlers::{AppState, PusherClient, PusherConfig};
use cutover::identity::{AuthScheme, Identity};
use http_body_util::BodyExt;
use serde_json::Value;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tower::ServiceExt;

pub const APP_ID: &str = "app-1";
pub const APP_KEY: &str = "app-key";
pub const APP_SECRET: &str = "app-secret";

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn options(db: &str) -> PgConnectOptions {
    PgConnectOptions::new()
        .host("127.0.0.1")
        .port(5432)
        .username("postgres")
        .database(db)
}

/// A uniquely named database, migrated; dropped (FORCE) when this is dropped.
pub struct TestDb {
    pub name: String,
    pub pool: PgPool,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let name = format!(
            "cutover_t_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst),
            chrono::Utc::now().timestamp_micros()
        );
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect_with(options("postgres"))
            .await
            .expect("postgres on 127.0.0.1:5432 (user postgres, trust auth)");
        // Identifiers cannot be bound; the name is generated above from digits.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .expect("create test database");
        admin.close().await;
        let pool = Self::connect(&name).await;
        cutover::store::migrate(&pool)
            .await
            .expect("migrations apply");
        TestDb { name, pool }
    }

    /// Another pool on the same database (a second "process").
    pub async fn connect(name: &str) -> PgPool {
        PgPoolOptions::new()
            .max_connections(10)
            .connect_with(options(name))
            .await
            .expect("connect to test database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(admin) = PgPoolOptions::new()
                    .max_connections(1)
                    .connect_with(options("postgres"))
                    .await
                {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&admin)
                        .await;
                }
            });
        })
        .join();
    }
}

/// Seed: tenants t1 (chatbot on) and t2; users u1 Alice, u2 Bob, u3 Carol
/// (ADMIN); u1,u2,u3 members of t1, u4 Dave member of t2; thread th1 (t1: u1,
/// u2), th2 (t1: u2, u3); chatbot conversations c1 (t1, visitor v1), c2 (t1, v2).
pub async fn seed(pool: &PgPool) {
    sqlx::raw_sql(
        r#"
        INSERT INTO "Tenant" ("id", "name", "chatbotEnabled", "chatbotGreeting", "chatbotColor")
          VALUES ('t1', 'Acme', true, 'Hi! How can we help?', '#123456'),
                 ('t2', 'Globex', false, NULL, NULL);
        INSERT INTO "User" ("id", "email", "name", "role") VALUES
          ('u1', 'alice@example.com', 'Alice', 'USER'),
          ('u2', 'bob@example.com', 'Bob', 'USER'),
          ('u3', 'carol@example.com', 'Carol', 'ADMIN'),
          ('u4', 'dave@example.com', NULL, 'USER');
        INSERT INTO "Membership" ("userId", "tenantId") VALUES
          ('u1', 't1'), ('u2', 't1'), ('u3', 't1'), ('u4', 't2');
        INSERT INTO "Thread" ("id", "tenantId", "title", "createdAt") VALUES
          ('th1', 't1', 'Alice & Bob', '2026-01-01T00:00:00Z'),
          ('th2', 't1', NULL, '2026-01-02T00:00:00Z');
        INSERT INTO "ThreadParticipant" ("threadId", "userId") VALUES
          ('th1', 'u1'), ('th1', 'u2'), ('th2', 'u2'), ('th2', 'u3');
        INSERT INTO "ChatbotSession" ("id", "tenantId", "visitorId", "visitorName") VALUES
          ('c1', 't1', 'v1', 'Visitor One'), ('c2', 't1', 'v2', NULL);
        INSERT INTO "SystemConfig" ("key", "value") VALUES
          ('realtime', '{"key":"app-key","host":"soketi.local","port":6001,"useTLS":false,"cluster":"mt1"}');
        "#,
    )
    .execute(pool)
    .await
    .expect("seed");
}

pub fn user(id: &str) -> Identity {
    Identity {
        scheme: AuthScheme::Session,
        user_id: id.into(),
        email: None,
        tenant_id: None,
        issuer: None,
        expires_at: None,
    }
}

/// The shipped routes.toml's chatbot issuer (`[[auth.chatbot]] name`).
pub const WIDGET_ISSUER: &str = "widget";

/// A chatbot visitor of the shipped issuer [`WIDGET_ISSUER`].
pub fn visitor(id: &str, tenant: &str) -> Identity {
    visitor_of(WIDGET_ISSUER, id, tenant)
}

/// A chatbot visitor vouched for by the issuer named `issuer`.
pub fn visitor_of(issuer: &str, id: &str, tenant: &str) -> Identity {
    Identity {
        scheme: AuthScheme::Chatbot,
        user_id: id.into(),
        email: None,
        tenant_id: Some(tenant.into()),
        issuer: Some(issuer.into()),
        expires_at: None,
    }
}

/// One event as the recorder received it.
#[derive(Debug, Clone)]
pub struct Event {
    pub channel: String,
    pub name: String,
    /// The `data` string parsed.
    pub data: Value,
    pub raw_data: String,
}

/// STAND-IN for Soketi's HTTP API (see the module doc).
#[derive(Clone, Default)]
pub struct Recorder {
    pub events: Arc<Mutex<Vec<Event>>>,
    /// When set, answer 200 with `{"code":401,...}` like Soketi on bad auth.
    pub reject: Arc<Mutex<bool>>,
}

impl Recorder {
    /// The recorder and its base URL (`http://127.0.0.1:<port>`).
    /// The recorder and its base URL (`http://127.0.0.1:<port>`).
    pub async fn start() -> (Recorder, String) {
        let rec = Recorder::default();
        let app = Router::new()
            .route("/apps/{app_id}/events", post(record))
            .with_state(rec.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        (rec, format!("http://{addr}"))
    }

    pub fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }
}

async fn record(
    State(rec): State<Recorder>,
    Path(app_id): Path<String>,
    RawQuery(query): RawQuery,
    body: String,
) -> (StatusCode, String) {
    let query = query.unwrap_or_default();
    let (unsigned, signature) = query
        .rsplit_once("&auth_signature=")
        .unwrap_or((&query, ""));
    let path = format!("/apps/{app_id}/events");
    let expected =
        cutover::handlers::pusher::sign(APP_SECRET, &format!("POST\n{path}\n{unsigned}"));
    let md5_ok = unsigned.contains(&format!("body_md5={}", md5_hex(&body)));
    if *rec.reject.lock().unwrap() || signature != expected || !md5_ok {
        return (
            StatusCode::OK,
            r#"{"code":401,"error":"Unauthorized"}"#.into(),
        );
    }
    let v: Value = serde_json::from_str(&body).expect("trigger body is JSON");
    let raw_data = v["data"].as_str().expect("data is a string").to_owned();
    for ch in v["channels"].as_array().expect("channels") {
        rec.events.lock().unwrap().push(Event {
            channel: ch.as_str().unwrap().to_owned(),
            name: v["name"].as_str().unwrap().to_owned(),
            data: serde_json::from_str(&raw_data).expect("data is JSON text"),
            raw_data: raw_data.clone(),
        });
    }
    (StatusCode::OK, "{}".into())
}

fn md5_hex(body: &str) -> String {
    use md5::Digest;
    hex::encode(md5::Md5::digest(body.as_bytes()))
}

/// A seeded database, the router over it, and the event recorder.
pub struct App {
    pub db: TestDb,
    pub state: AppState,
    pub router: Router,
    pub recorder: Recorder,
}

impl App {
    pub async fn new() -> App {
        App::build(None).await
    }

    /// Events go to `pusher_url` (e.g. a real Soketi) instead of the recorder.
    pub async fn with_pusher(pusher_url: &str) -> App {
        App::build(Some(pusher_url.to_owned())).await
    }

    async fn build(pusher_url: Option<String>) -> App {
        let db = TestDb::new().await;
        seed(&db.pool).await;
        let (recorder, recorder_url) = Recorder::start().await;
        let base_url = pusher_url.unwrap_or(recorder_url);
        let pusher = PusherClient::new(PusherConfig {
            app_id: APP_ID.into(),
            key: APP_KEY.into(),
            secret: APP_SECRET.into(),
            base_url,
        });
        let state = AppState::new(db.pool.clone(), pusher);
        let router = cutover::handlers::router(state.clone());
        App {
            db,
            state,
            router,
            recorder,
        }
    }

    /// Send one request through the router (no server).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        who: Option<Identity>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        self.call_with(method, path, who, body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        who: Option<Identity>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = match body {
            Some(v) => {
                req = req.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let mut req = req.body(body).unwrap();
        if let Some(id) = who {
            req.extensions_mut().insert(id);
        }
        self.send(req).await
    }

    pub async fn send(&self, req: Request<Body>) -> (StatusCode, Value) {
        let (status, text) = self.send_raw(req).await;
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap()
        };
        (status, value)
    }

    /// The status and the exact body text.
    pub async fn send_raw(&self, req: Request<Body>) -> (StatusCode, String) {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(bytes.to_vec()).unwrap())
    }

    pub async fn count(&self, sql: &'static str) -> i64 {
        let (n,): (i64,) = sqlx::query_as(sql).fetch_one(&self.db.pool).await.unwrap();
        n
    }
}
