//! Test helper: runs tests/tokens/mint.mjs (real next-auth, @auth/core, jsonwebtoken)
//! and returns its JSON. Installs node_modules with `npm ci` once if missing.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Mutex;

use serde_json::Value;

static NPM_CI: Mutex<bool> = Mutex::new(false);

fn tokens_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tokens")
}

fn ensure_node_modules() {
    let mut done = NPM_CI.lock().unwrap_or_else(|p| p.into_inner());
    if *done {
        return;
    }
    let dir = tokens_dir();
    if !dir.join("node_modules/.package-lock.json").exists() {
        let status = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status()
            .expect("npm must be installed to mint test vectors");
        assert!(status.success(), "npm ci in tests/tokens failed");
    }
    *done = true;
}

/// Mints every spec (see mint.mjs for the kinds) and returns the results in order.
pub fn mint(specs: Value) -> Vec<Value> {
    ensure_node_modules();
    let mut child = Command::new("node")
        .arg("mint.mjs")
        .current_dir(tokens_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node must be installed to mint test vectors");
    child
        .stdin
        .take()
        .expect("stdin piped")
        .write_all(specs.to_string().as_bytes())
        .expect("write spec to node");
    let out = child.wait_with_output().expect("node mint.mjs");
    assert!(
        out.status.success(),
        "mint.mjs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    match serde_json::from_slice(&out.stdout).expect("mint.mjs prints JSON") {
        Value::Array(items) => items,
        other => panic!("mint.mjs printed {other}"),
    }
}

/// Mints one spec.
pub fn mint_one(spec: Value) -> Value {
    mint(Value::Array(vec![spec])).remove(0)
}

pub fn token(v: &Value) -> String {
    v["token"].as_str().expect("token").to_string()
}

/// `(name, value)` cookies of a minted session.
pub fn cookies(v: &Value) -> Vec<(String, String)> {
    v["cookies"]
        .as_array()
        .expect("cookies")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().expect("name").to_string(),
                c["value"].as_str().expect("value").to_string(),
            )
        })
        .collect()
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}
