//! The frontend notices nothing (issue 16), in a real browser: the legacy
//! Next app's own chat pages, in headless Chromium (Debian's
//! `/usr/bin/chromium`, driven by playwright-core from tests/browser), at
//! cutover's address, while every chat, realtime and chatbot route walks
//! next → shadow → canary 50 % → rust → next by flag-file edits.
//!
//! The stack is the WhatsApp parity suite's (tests/parity_whatsapp/stack.rs
//! over tests/parity/stack.rs): a fresh seeded database, the real Soketi,
//! `next start`, the real cutover binary with the rust handlers embedded, a
//! media root and the Baileys worker stand-in's service token. This test gives Alice (u1) and Bob (u2) passwords,
//! points the realtime config at the Soketi, puts 45 older messages in their
//! thread th1 (so scrolling up pages through the history) and mints a chat
//! widget token; tests/browser/migration.cjs then logs both in through the
//! login page, chats, flips the flags itself (writing the files, waiting for
//! `/-/config`) and checks what the people would see. Artifacts (screenshots
//! per stage, console and network logs, summary.json, overview.png) land in
//! `target/browser-migration/`.
//!
//! `cargo test --test browser_migration -- --ignored`

#[path = "parity/creds.rs"]
#[allow(dead_code)]
mod creds;
#[path = "e2e/support.rs"]
#[allow(dead_code)]
mod e2e;
#[path = "support/harness.rs"]
mod harness;
#[path = "support/legacy_next.rs"]
mod legacy_next;
#[path = "auth/mint.rs"]
#[allow(dead_code)]
mod mint;
#[path = "support/normalize.rs"]
mod normalize;
#[path = "support/soketi.rs"]
mod soketi;
#[path = "parity/stack.rs"]
#[allow(dead_code)]
mod stack;
#[path = "parity_whatsapp/stack.rs"]
#[allow(dead_code)]
mod wa_stack;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use creds::Creds;
use harness::{APP_ID, APP_KEY, APP_SECRET, visitor};
use serde_json::{Value, json};
use soketi::Soketi;
use stack::{Side, Stack};
use wa_stack::{WORKER_TOKEN, WaStack};

const CHROMIUM: &str = "/usr/bin/chromium";
const THREAD: &str = "th1";
/// The pages' routes whose flags the script walks: the user threads, the
/// realtime config and auth, the chat widget's.
const WALKED: &[&str] = &["user-thread", "realtime-", "tenant-chatbot"];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn artifacts() -> PathBuf {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| repo().join("target"), PathBuf::from);
    target.join("browser-migration")
}

/// Passwords for u1 and u2, the realtime config pointing at `soketi_port`,
/// and 45 older messages in th1 (alternating senders, a minute apart).
async fn prepare(stack: &Stack, soketi_port: u16) {
    let pool = &stack.db.pool;
    for (id, password) in [("u1", "alice-password"), ("u2", "bob-password")] {
        sqlx::query(r#"UPDATE "User" SET "passwordHash" = 'sha256:' || encode(sha256(convert_to($2, 'UTF8')), 'hex') WHERE "id" = $1"#)
            .bind(id)
            .bind(password)
            .execute(pool)
            .await
            .expect("set a password");
    }
    let realtime = json!({"key": APP_KEY, "host": "127.0.0.1", "port": soketi_port, "useTLS": false, "cluster": "mt1"});
    sqlx::query(r#"UPDATE "SystemConfig" SET "value" = $1 WHERE "key" = 'realtime'"#)
        .bind(realtime)
        .execute(pool)
        .await
        .expect("point the realtime config at the Soketi");
    sqlx::query(
        r#"INSERT INTO "Message" ("threadId", "senderId", "body", "clientMessageId", "createdAt")
           SELECT 'th1', CASE WHEN n % 2 = 0 THEN 'u1' ELSE 'u2' END, 'Earlier message ' || n,
                  'history-' || n, now() - make_interval(mins => 100 - n)
           FROM generate_series(1, 45) AS n"#,
    )
    .execute(pool)
    .await
    .expect("seed the thread's history");
}

/// The flag ids of the walked routes, from the running cutover's `/-/config`.
async fn walked_routes(stack: &Stack) -> Vec<String> {
    let cfg: Value = reqwest::get(format!("http://{}/-/config", stack.cutover.admin))
        .await
        .expect("GET /-/config")
        .json()
        .await
        .expect("config JSON");
    cfg["routes"]
        .as_array()
        .expect("routes")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .filter(|id| WALKED.iter().any(|w| id.starts_with(w)))
        .map(str::to_owned)
        .collect()
}

fn ensure_driver() {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: apt-get install chromium (the browser tests drive Debian's Chromium)"
    );
    // The driver, and the Baileys worker stand-in the WhatsApp page is fed by.
    for (dir, module) in [
        ("tests/browser", "playwright-core"),
        ("tests/whatsapp-worker", "@whiskeysockets/baileys"),
    ] {
        let dir = repo().join(dir);
        if !dir.join("node_modules").join(module).exists() {
            let ok = std::process::Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund"])
                .current_dir(&dir)
                .status()
                .expect("npm ci");
            assert!(ok.success(), "npm ci failed in {}", dir.display());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "builds the Next app"]
async fn two_users_chat_in_the_browser_without_noticing_every_route_move_to_rust_and_back() {
    ensure_driver();
    let out = artifacts();
    let _ = std::fs::remove_dir_all(&out);
    let soketi = Soketi::start(APP_ID, APP_KEY, APP_SECRET).await;
    let wa = WaStack::start(Side::Next, soketi.port).await;
    let stack = &wa.stack;
    prepare(stack, soketi.port).await;
    let routes = walked_routes(stack).await;
    assert!(
        routes.iter().any(|r| r == "user-thread-messages")
            && routes.iter().any(|r| r == "realtime-auth"),
        "walked routes: {routes:?}"
    );
    let widget = Creds::mint(&[visitor("browser-visitor", "t1")])
        .header(&visitor("browser-visitor", "t1"))
        .1;
    let token = widget.strip_prefix("Bearer ").expect("a bearer credential");
    let users = json!([
        {"id": "u1", "name": "Alice", "email": "alice@example.com", "password": "alice-password"},
        {"id": "u2", "name": "Bob", "email": "bob@example.com", "password": "bob-password"},
    ]);

    let script = tokio::process::Command::new("node")
        .arg(repo().join("tests/browser/migration.cjs"))
        .env("BASE_URL", stack.url(""))
        .env("ADMIN_URL", format!("http://{}", stack.cutover.admin))
        .env("FLAGS_DIR", stack.cfg.flags())
        .env("ROUTES", routes.join(","))
        .env("THREAD_ID", THREAD)
        .env("USERS", users.to_string())
        .env(
            "WIDGET",
            json!({"tenant": "t1", "token": token}).to_string(),
        )
        .env("ARTIFACTS", &out)
        .env("CHROMIUM", CHROMIUM)
        .env("WORKER", repo().join("tests/whatsapp-worker/worker.mjs"))
        .env("WORKER_TOKEN", WORKER_TOKEN)
        .env("MEDIA_ROOT", wa.media_root())
        .stdout(Stdio::inherit())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs tests/browser/migration.cjs");
    let done = tokio::time::timeout(Duration::from_secs(240), script.wait_with_output())
        .await
        .expect("the browser migration finished within 4 minutes")
        .expect("wait for node");
    if !done.status.success() {
        let log = stack.cutover.log();
        let tail = &log[log.len().saturating_sub(4000)..];
        panic!(
            "{}\ncutover's log (tail):\n{tail}",
            String::from_utf8_lossy(&done.stderr)
        );
    }
    assert!(
        out.join("overview.png").exists() && out.join("summary.json").exists(),
        "artifacts in {}",
        out.display()
    );
}
