//! The soak's whole deployment, every store private: a PostgreSQL cluster
//! and a `redis-server` of its own (killed and restarted by the faults), a
//! Soketi and the legacy Next app (a custom server with the Socket.IO gateway,
//! procs::next) on fixed ports, and the real `cutover` binary (rust handlers
//! embedded, caps over the private Redis) in front, configured from the
//! shipped routes.toml's `[auth]`, `[caps]` and `[[route]]` tables. A random
//! WhatsApp media file (a message of tenant t1) is there for the downloads.

use std::sync::Mutex;
use std::time::Duration;

use rand::RngCore;
use sha2::{Digest, Sha256};

use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::e2e::{ConfigDir, Cutover};
use crate::harness::{APP_ID, APP_KEY, APP_SECRET, seed};
use crate::legacy_next::{IDENTITY_KEY, NEXTAUTH_SECRET, ensure_built};
use crate::procs::{PrivatePg, Restartable, next, redis, soketi};

/// The seeded media message (tenant t1) and its file's size.
pub const MEDIA_ID: &str = "soak-media";
pub const MEDIA_BYTES: usize = 32 * 1024 * 1024;

/// Bearer secret of the shipped `[[auth.chatbot]]` issuer.
pub const CHATBOT_JWT_SECRET: &str = "soak-chatbot-jwt-secret-0123456789abcdef";
/// The parity suite's second issuer (tests/parity/creds.rs names it; the
/// soak mints no token for it).
pub const PARTNER_CHATBOT_JWT_SECRET: &str = "soak-partner-jwt-secret-0123456789abcdef";
/// next's timeouts in the soak's config: a request answered later than
/// `READ_TIMEOUT_MS` plus a margin is a hang.
pub const READ_TIMEOUT_MS: u64 = 10_000;

/// The routes whose flags the soak flips (between next and rust).
pub const FLIPPED: &[&str] = &[
    "user-thread-messages",
    "user-threads",
    "realtime-auth",
    "user-thread-receipts",
    "whatsapp-media",
];
/// The route whose flag file the broken edits break (and fix).
pub const BROKEN: &str = "user-thread-typing";

/// Fields drop in order: cutover first, the stores last.
pub struct SoakStack {
    pub cutover: Cutover,
    pub next: Mutex<Restartable>,
    pub soketi: Mutex<Restartable>,
    pub redis: Mutex<Restartable>,
    pub cfg: ConfigDir,
    pub pool: PgPool,
    pub pg: PrivatePg,
    /// SHA-256 (hex) of the media file behind [`MEDIA_ID`].
    pub media_sha256: String,
    _redis_dir: tempfile::TempDir,
    _media_root: tempfile::TempDir,
}

/// A WhatsApp session of tenant t1 with one media message whose file is
/// [`MEDIA_BYTES`] random bytes under `root`; the file's SHA-256.
async fn seed_media(pool: &PgPool, root: &std::path::Path) -> String {
    let mut bytes = vec![0u8; MEDIA_BYTES];
    rand::thread_rng().fill_bytes(&mut bytes);
    std::fs::create_dir_all(root.join("soak")).expect("media dir");
    std::fs::write(root.join("soak/media.bin"), &bytes).expect("write the media file");
    sqlx::raw_sql(
        r#"INSERT INTO whatsapp_sessions ("sessionId", "tenantId", "name", "status")
           VALUES ('soak-wa', 't1', 'Soak', 'CONNECTED')"#,
    )
    .execute(pool)
    .await
    .expect("seed the WhatsApp session");
    sqlx::query(
        r#"INSERT INTO whatsapp_messages ("id", "sessionId", "messageId", "remoteJid", "messageType",
             "status", "mediaUrl", "mediaMimeType", "mediaSize", "timestamp")
           VALUES ($1, 'soak-wa', 'SOAK', '4915111111@s.whatsapp.net', 'VIDEO', 'DELIVERED',
                   'soak/media.bin', 'video/mp4', $2, now())"#,
    )
    .bind(MEDIA_ID)
    .bind(MEDIA_BYTES as i32)
    .execute(pool)
    .await
    .expect("seed the media message");
    hex::encode(Sha256::digest(&bytes))
}

fn routes_toml(next_port: u16, redis_port: u16) -> String {
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/routes.toml"))
        .expect("read the shipped routes.toml");
    let from_auth = &shipped[shipped.find("\n[auth]").expect("[auth] in routes.toml")..];
    let memory = "store = \"memory\"";
    assert!(from_auth.contains(memory), "shipped [caps] store changed");
    let from_auth = from_auth.replacen(
        memory,
        &format!("store = \"redis://127.0.0.1:{redis_port}/0\"\nredis_timeout_ms = 50"),
        1,
    );
    format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\nthreads = 2\n\
         grace_period_seconds = 1\ngraceful_shutdown_timeout_seconds = 1\n\
         reload_interval_ms = 50\n\n[backends.next]\nurl = \"http://127.0.0.1:{next_port}\"\n\
         connect_timeout_ms = 1000\nread_timeout_ms = {READ_TIMEOUT_MS}\n\n\
         [backends.rust]\nurl = \"embedded\"\n{from_auth}\n"
    )
}

impl SoakStack {
    pub async fn start() -> SoakStack {
        ensure_built().await;
        let pg = tokio::task::block_in_place(PrivatePg::start);
        let admin = PgPoolOptions::new()
            .max_connections(1)
            .connect(&pg.url("postgres"))
            .await
            .expect("connect to the private cluster");
        sqlx::raw_sql("CREATE DATABASE soak")
            .execute(&admin)
            .await
            .expect("create the soak database");
        admin.close().await;
        let url = pg.url("soak");
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .connect(&url)
            .await
            .expect("connect to the soak database");
        cutover::store::migrate(&pool).await.expect("migrate");
        seed(&pool).await;
        let media_root = tempfile::tempdir().expect("temp dir");
        let media_sha256 = seed_media(&pool, media_root.path()).await;
        let media = media_root.path().to_path_buf();

        let redis_dir = tempfile::tempdir().expect("temp dir");
        let (redis, soketi) = tokio::task::block_in_place(|| {
            (
                Restartable::new("redis-server", redis(redis_dir.path())),
                Restartable::new("soketi", soketi()),
            )
        });
        let next = tokio::task::block_in_place(|| {
            Restartable::new("next", next(url.clone(), soketi.port, media.clone()))
        });
        let cfg = ConfigDir::new(&routes_toml(next.port, redis.port));
        for id in FLIPPED.iter().chain([&BROKEN]) {
            cfg.write_flag(id, "backend = \"next\"\n");
        }
        let soketi_port = soketi.port.to_string();
        let media = media.display().to_string();
        let env = [
            ("DATABASE_URL", url.as_str()),
            ("PUSHER_APP_ID", APP_ID),
            ("PUSHER_KEY", APP_KEY),
            ("PUSHER_SECRET", APP_SECRET),
            ("PUSHER_HOST", "127.0.0.1"),
            ("PUSHER_PORT", soketi_port.as_str()),
            ("NEXTAUTH_SECRET", NEXTAUTH_SECRET),
            ("CHATBOT_JWT_SECRET", CHATBOT_JWT_SECRET),
            ("CUTOVER_IDENTITY_KEY", IDENTITY_KEY),
            ("WHATSAPP_MEDIA_ROOT", media.as_str()),
            // JSON lines: the log judge (report::judge_log) and the upload
            // statuses read fields from them.
            ("CUTOVER_LOG_FORMAT", "json"),
        ];
        let cutover = tokio::task::block_in_place(|| Cutover::start_with_env(&cfg, &env));
        SoakStack {
            cutover,
            next: Mutex::new(next),
            soketi: Mutex::new(soketi),
            redis: Mutex::new(redis),
            cfg,
            pool,
            pg,
            media_sha256,
            _redis_dir: redis_dir,
            _media_root: media_root,
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.cutover.url(path)
    }

    pub fn soketi_port(&self) -> u16 {
        self.soketi.lock().expect("lock").port
    }

    /// The admin API's JSON at `path`, or None while it does not answer.
    pub async fn admin_json(&self, path: &str) -> Option<serde_json::Value> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .ok()?;
        let url = format!("http://{}{path}", self.cutover.admin);
        client.get(url).send().await.ok()?.json().await.ok()
    }
}
