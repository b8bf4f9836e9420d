//! Runs the legacy Next.js app (`tests/legacy-next`) as a test fixture:
//! `npm ci` and `next build` when missing or older than the app's sources
//! (once per test binary), then `next start -p 0` on 127.0.0.1 with the given
//! database and Pusher endpoint; killed on drop.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The `NEXTAUTH_SECRET` the app is started with (give cutover the same one).
pub const NEXTAUTH_SECRET: &str = "legacy-next-test-secret";

/// The `CUTOVER_IDENTITY_KEY` the app verifies `x-cutover-*` headers with
/// (give cutover the same one).
pub const IDENTITY_KEY: &str = "legacy-next-identity-key-0123456789abcdef";

/// One `npm ci` / `next build` per test binary, however many tests start the app.
static BUILD: tokio::sync::Mutex<bool> = tokio::sync::Mutex::const_new(false);

pub struct LegacyNext {
    pub base_url: String,
    child: Child,
}

fn app_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/legacy-next")
}

async fn run(program: &str, args: &[&str]) {
    let status = Command::new(program)
        .args(args)
        .current_dir(app_dir())
        .env("NEXT_TELEMETRY_DISABLED", "1")
        .status()
        .await
        .unwrap_or_else(|e| panic!("{program} {args:?}: {e}"));
    assert!(
        status.success(),
        "{program} {args:?} failed in tests/legacy-next"
    );
}

/// Newest modification time under `path` (files only).
fn newest(path: &std::path::Path) -> Option<std::time::SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.is_file() {
        return meta.modified().ok();
    }
    std::fs::read_dir(path)
        .ok()?
        .filter_map(|e| e.ok())
        .filter_map(|e| newest(&e.path()))
        .max()
}

/// `npm ci` if `node_modules` is missing or older than the lock; `next build`
/// if `.next/BUILD_ID` is missing or older than a file under `app/`, `lib/` or
/// `components/`.
pub async fn ensure_built() {
    let mut done = BUILD.lock().await;
    if *done {
        return;
    }
    let dir = app_dir();
    // npm writes node_modules/.package-lock.json on every install: older than
    // the lock means a dependency was added or changed since.
    let installed =
        std::fs::metadata(dir.join("node_modules/.package-lock.json")).and_then(|m| m.modified());
    let locked = std::fs::metadata(dir.join("package-lock.json")).and_then(|m| m.modified());
    if !matches!((installed, locked), (Ok(i), Ok(l)) if i >= l) {
        run("npm", &["ci", "--no-audit", "--no-fund"]).await;
    }
    let built = std::fs::metadata(dir.join(".next/BUILD_ID")).and_then(|m| m.modified());
    let sources = ["app", "lib", "components"]
        .map(|d| newest(&dir.join(d)))
        .into_iter()
        .flatten()
        .max();
    let stale = match (built, sources) {
        (Ok(b), Some(s)) => s > b,
        (Ok(_), None) => false,
        (Err(_), _) => true,
    };
    if stale {
        run("node", &["node_modules/next/dist/bin/next", "build"]).await;
    }
    *done = true;
}

impl LegacyNext {
    pub async fn start(database_url: &str, pusher_port: u16) -> LegacyNext {
        LegacyNext::start_with_env(database_url, pusher_port, &[]).await
    }

    /// [`LegacyNext::start`] with more environment (e.g. `WHATSAPP_MEDIA_ROOT`).
    pub async fn start_with_env(
        database_url: &str,
        pusher_port: u16,
        env: &[(&str, &str)],
    ) -> LegacyNext {
        ensure_built().await;
        let mut child = Command::new("node")
            .args([
                "node_modules/next/dist/bin/next",
                "start",
                "-p",
                "0",
                "-H",
                "127.0.0.1",
            ])
            .current_dir(app_dir())
            .env("NEXT_TELEMETRY_DISABLED", "1")
            .env("DATABASE_URL", database_url)
            .env("PUSHER_APP_ID", super::harness::APP_ID)
            .env("PUSHER_KEY", super::harness::APP_KEY)
            .env("PUSHER_SECRET", super::harness::APP_SECRET)
            .env("PUSHER_HOST", "127.0.0.1")
            .env("PUSHER_PORT", pusher_port.to_string())
            .env("NEXTAUTH_SECRET", NEXTAUTH_SECRET)
            .env("CUTOVER_IDENTITY_KEY", IDENTITY_KEY)
            .env("NEXTAUTH_URL", "http://127.0.0.1")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("spawn next start");
        let stdout = child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let find_port = async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("Local:") {
                    let port = line.rsplit(':').next().unwrap_or("").trim().to_owned();
                    return port;
                }
            }
            panic!("next start exited before printing its port");
        };
        let port = tokio::time::timeout(Duration::from_secs(60), find_port)
            .await
            .expect("next start printed its port within 60 s");
        // Keep draining stdout so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        LegacyNext {
            base_url: format!("http://127.0.0.1:{port}"),
            child,
        }
    }
}

impl LegacyNext {
    /// The `next-server` process (for its memory).
    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }
}

impl Drop for LegacyNext {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
