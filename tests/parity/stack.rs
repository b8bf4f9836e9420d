//! The whole cutover deployment for one run, on port 0 everywhere: a fresh
//! seeded PostgreSQL database, the legacy Next app (`next start`) on it, and
//! the real `cutover` binary in front with the rust handlers embedded on the
//! same database. Both backends broadcast to `pusher_port` (a [`Relay`] in
//! front of a real Soketi). The routes and `[auth]` come from the shipped
//! `routes.toml`; only `[server]` and `[backends]` are the test's.
//!
//! [`Relay`]: crate::relay::Relay

use crate::e2e::{ConfigDir, Cutover};
use crate::harness::{APP_ID, APP_KEY, APP_SECRET, TestDb, seed};
use crate::legacy_next::{IDENTITY_KEY, LegacyNext, NEXTAUTH_SECRET};

/// Bearer JWT secret of the `[[auth.chatbot]]` issuer "tenant-chatbot".
pub const CHATBOT_JWT_SECRET: &str = "parity-chatbot-jwt-secret-0123456789abcdef";

/// A second issuer, as a partner widget would be configured: named "partner",
/// `iss` "partner-chatbot", allowed to speak for tenant t1 only.
pub const PARTNER_CHATBOT_JWT_SECRET: &str = "parity-partner-jwt-secret-0123456789abcdef";
const PARTNER_ISSUER: &str = "\n[[auth.chatbot]]\nname = \"partner\"\nissuer = \"partner-chatbot\"\n\
    algorithms = [\"HS256\"]\nhs256_secret_env = \"PARTNER_CHATBOT_JWT_SECRET\"\n\
    required_claims = [\"sub\"]\ntenant_claim = \"tenantId\"\ntenants = [\"t1\"]\n";

/// Contract endpoints the shipped routes.toml does not claim (they would
/// stay on next whatever the flags say); the test claims them so a flip
/// moves the whole contract. Added only when the shipped file lacks the id.
const EXTRA_ROUTES: &[(&str, &str)] = &[
    (
        "realtime-config-cache",
        "path = \"/api/chat/realtime/config/cache\"\nmethods = [\"DELETE\"]\nauth = \"required\"\nschemes = [\"session\"]",
    ),
    (
        "user-thread-typing",
        "path = \"/api/chat/user-threads/{threadId}/typing\"\nmethods = [\"POST\"]\nauth = \"required\"",
    ),
    (
        "user-thread-scheduled",
        "path = \"/api/chat/user-threads/{threadId}/scheduled\"\nmethods = [\"GET\", \"POST\"]\nauth = \"required\"",
    ),
    (
        "user-thread-scheduled-item",
        "path = \"/api/chat/user-threads/{threadId}/scheduled/{scheduledId}\"\nmethods = [\"DELETE\"]\nauth = \"required\"",
    ),
];

/// Which backend every route's flag names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Next,
    Rust,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Next => "next",
            Side::Rust => "rust",
        }
    }
}

/// Fields drop in order: cutover and Next go before their database.
pub struct Stack {
    pub cutover: Cutover,
    /// Kept for its lifetime: the Next process is killed on drop.
    pub _next: LegacyNext,
    pub cfg: ConfigDir,
    pub db: TestDb,
}

/// routes.toml: the test's listeners and backends, then the shipped
/// `[auth]` and `[[route]]` tables verbatim, then `extra` routes.
fn routes_toml(next_url: &str, extra: &str) -> String {
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/routes.toml"))
        .expect("read the shipped routes.toml");
    let from_auth = &shipped[shipped
        .find("\n[auth]")
        .expect("shipped routes.toml has [auth]")..];
    let mut text = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\nthreads = 2\n\
         grace_period_seconds = 1\ngraceful_shutdown_timeout_seconds = 1\n\
         reload_interval_ms = 50\n\n[backends.next]\nurl = \"{next_url}\"\n\n\
         [backends.rust]\nurl = \"embedded\"\n{from_auth}\n"
    );
    for (id, body) in EXTRA_ROUTES {
        if !shipped.contains(&format!("id = \"{id}\"")) {
            text.push_str(&format!("\n[[route]]\nid = \"{id}\"\n{body}\n"));
        }
    }
    text.push_str(PARTNER_ISSUER);
    text.push_str(extra);
    text
}

fn route_ids(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("id = \""))
        .filter_map(|rest| rest.strip_suffix('"'))
        .map(str::to_owned)
        .collect()
}

impl Stack {
    /// Fresh database, Next and cutover; every route's flag on `side`.
    /// `extra_routes`: more `[[route]]` tables (TOML) for this test.
    pub async fn start(side: Side, pusher_port: u16, extra_routes: &str) -> Stack {
        Stack::start_with_env(side, pusher_port, extra_routes, &[]).await
    }

    /// [`Stack::start`] with more environment for both backends.
    pub async fn start_with_env(
        side: Side,
        pusher_port: u16,
        extra_routes: &str,
        extra_env: &[(&str, &str)],
    ) -> Stack {
        let db = TestDb::new().await;
        seed(&db.pool).await;
        let url = format!("postgres://postgres@127.0.0.1:5432/{}", db.name);
        let next = LegacyNext::start_with_env(&url, pusher_port, extra_env).await;
        let text = routes_toml(&next.base_url, extra_routes);
        let route_ids = route_ids(&text);
        let cfg = ConfigDir::new(&text);
        for id in &route_ids {
            cfg.write_flag(id, &format!("backend = \"{}\"\n", side.as_str()));
        }
        let port = pusher_port.to_string();
        let env = [
            ("DATABASE_URL", url.as_str()),
            ("PUSHER_APP_ID", APP_ID),
            ("PUSHER_KEY", APP_KEY),
            ("PUSHER_SECRET", APP_SECRET),
            ("PUSHER_HOST", "127.0.0.1"),
            ("PUSHER_PORT", port.as_str()),
            ("NEXTAUTH_SECRET", NEXTAUTH_SECRET),
            ("CHATBOT_JWT_SECRET", CHATBOT_JWT_SECRET),
            ("PARTNER_CHATBOT_JWT_SECRET", PARTNER_CHATBOT_JWT_SECRET),
            ("CUTOVER_IDENTITY_KEY", IDENTITY_KEY),
        ];
        let env: Vec<(&str, &str)> = env.into_iter().chain(extra_env.iter().copied()).collect();
        let cutover = tokio::task::block_in_place(|| Cutover::start_with_env(&cfg, &env));
        Stack {
            db,
            _next: next,
            cfg,
            cutover,
        }
    }

    pub fn url(&self, path: &str) -> String {
        self.cutover.url(path)
    }

    /// `cutover flip <route> <side>`: the CLI, as an operator would.
    pub async fn flip(&self, route: &str, side: Side) {
        let cfg = self.cfg.routes_path();
        let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_cutover"))
            .args(["flip", route, side.as_str(), "--config"])
            .arg(&cfg)
            .output()
            .await
            .expect("run cutover flip");
        assert!(
            out.status.success(),
            "cutover flip {route} {}: {}",
            side.as_str(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
