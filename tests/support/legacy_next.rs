//! Runs the legacy Next.js app (`tests/legacy-next`) as a test fixture:
//! `npm ci` and `next build` when missing, then `next start -p 0` on
//! 127.0.0.1 with the given database and Pusher endpoint; killed on drop.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

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

/// `npm ci` if `node_modules` is missing; `next build` if `.next/BUILD_ID` is.
pub async fn ensure_built() {
    let dir = app_dir();
    if !dir.join("node_modules/next").exists() {
        run("npm", &["ci", "--no-audit", "--no-fund"]).await;
    }
    if !dir.join(".next/BUILD_ID").exists() {
        run("node", &["node_modules/next/dist/bin/next", "build"]).await;
    }
}

impl LegacyNext {
    pub async fn start(database_url: &str, pusher_port: u16) -> LegacyNext {
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
            .env("NEXTAUTH_SECRET", "legacy-next-test-secret")
            .env("NEXTAUTH_URL", "http://127.0.0.1")
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

impl Drop for LegacyNext {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}
