//! Issue 14, finding 2: rotating a secret file takes effect without a restart.
//! The files `[auth]` names are watched with routes.toml: a rewrite (in place,
//! by an editor's rename, or by a Kubernetes `..data` symlink swap) reloads,
//! the old secret's tokens are refused within a second, the log names the file
//! and never the value, and a broken secret file keeps the last good config.

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::mint;
use crate::support::*;

const OLD: &str = "rotation-old-secret-0123456789abcdef";
const NEW: &str = "rotation-new-secret-fedcba9876543210";
const IDENTITY_KEY: &str = "e2e-identity-key-0123456789abcdef0123456789";
const ISS: &str = "https://widget.example.com";

fn write_by_rename(path: &Path, text: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Status of a GET with `headers`, or 0 on a transport error.
async fn status(client: &reqwest::Client, url: &str, headers: &[(&str, String)]) -> u16 {
    let mut req = client.get(url);
    for (k, v) in headers {
        req = req.header(*k, v);
    }
    req.send().await.map_or(0, |r| r.status().as_u16())
}

/// Waits (≤ 1 s) until `old` is refused with 401 and `new` is accepted.
async fn rotated_within_a_second(
    client: &reqwest::Client,
    url: &str,
    old: &[(&str, String)],
    new: &[(&str, String)],
) -> bool {
    eventually(Duration::from_secs(1), || async {
        (status(client, url, old).await == 401 && status(client, url, new).await == 200)
            .then_some(())
    })
    .await
    .is_some()
}

#[tokio::test(flavor = "multi_thread")]
async fn rewritten_session_secret_file_revokes_old_tokens_within_a_second() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let tokens = mint::mint(json!([
        {"kind": "nextauth_v4", "secret": OLD, "claims": {"sub": "ada"}, "maxAge": 3600},
        {"kind": "nextauth_v4", "secret": NEW, "claims": {"sub": "ada"}, "maxAge": 3600},
    ]));
    let cookie = |v: &serde_json::Value| {
        vec![(
            "cookie",
            format!("next-auth.session-token={}", mint::token(v)),
        )]
    };
    let (old, new) = (cookie(&tokens[0]), cookie(&tokens[1]));
    let routes = r#"
[auth]
identity_key_env = "CUTOVER_IDENTITY_KEY"

[auth.session]
flavor = "nextauth-v4"
secret_files = ["secrets/nextauth"]

[[route]]
id = "threads"
path = "/api/chat/user-threads"
auth = "required"
schemes = ["session"]
"#;
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", routes));
    let secret = cfg.dir.path().join("secrets/nextauth");
    std::fs::create_dir(secret.parent().unwrap()).unwrap();
    std::fs::write(&secret, format!("{OLD}\n")).unwrap();
    let cutover = Cutover::start_with_env(&cfg, &[("CUTOVER_IDENTITY_KEY", IDENTITY_KEY)]);
    let client = reqwest::Client::new();
    let url = cutover.url("/api/chat/user-threads");
    assert_eq!(status(&client, &url, &old).await, 200, "old secret works");
    assert_eq!(status(&client, &url, &new).await, 401);

    // An editor's atomic rename: the old secret's token (cached) stops at once.
    write_by_rename(&secret, &format!("{NEW}\n"));
    assert!(
        rotated_within_a_second(&client, &url, &old, &new).await,
        "rename not picked up"
    );
    // A plain in-place write rotates back.
    std::fs::write(&secret, OLD).unwrap();
    assert!(
        rotated_within_a_second(&client, &url, &new, &old).await,
        "in-place write not picked up"
    );
    let failures = r#"cutover_config_reloads_total{result="failure"}"#;
    assert_eq!(cutover.metric(failures).await, 0.0);

    // A broken secret file (empty) is rejected; the last good secret keeps working.
    write_by_rename(&secret, "\n");
    let rejected = eventually(Duration::from_secs(2), || async {
        (cutover.metric(failures).await == 1.0).then_some(())
    })
    .await;
    assert!(rejected.is_some(), "empty secret file was not rejected");
    assert_eq!(status(&client, &url, &old).await, 200, "last good kept");
    assert_eq!(status(&client, &url, &new).await, 401);

    let log = cutover.log();
    let path = secret.display().to_string();
    assert!(
        log.lines()
            .any(|l| l.contains("secret file changed") && l.contains(&path)),
        "the reload log names the file:\n{log}"
    );
    assert!(
        log.contains("is empty; put the secret in it"),
        "the rejection says how to fix it:\n{log}"
    );
    for value in [OLD, NEW] {
        assert!(!log.contains(value), "a secret value leaked into the log");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kubernetes_secret_data_symlink_swap_rotates_the_hs256_secret() {
    use std::os::unix::fs::symlink;
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let sign = |secret: &str| {
        json!({"kind": "jwt", "payload": {"sub": "visitor-1"}, "key": secret,
               "options": {"algorithm": "HS256", "expiresIn": 600, "issuer": ISS}})
    };
    let tokens = mint::mint(json!([sign(OLD), sign(NEW)]));
    let bearer =
        |v: &serde_json::Value| vec![("authorization", format!("Bearer {}", mint::token(v)))];
    let (old, new) = (bearer(&tokens[0]), bearer(&tokens[1]));
    let routes = format!(
        r#"
[auth]
identity_key_env = "CUTOVER_IDENTITY_KEY"

[[auth.chatbot]]
name = "widget"
issuer = "{ISS}"
algorithms = ["HS256"]
hs256_secret_file = "secret/hs256"
tenant = "t1"

[[route]]
id = "bot"
path = "/api/chatbot"
auth = "required"
schemes = ["chatbot"]
"#
    );
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", &routes));
    // Kubernetes Secret volume: ..<ts>/hs256, ..data -> ..<ts>, hs256 -> ..data/hs256
    let dir = cfg.dir.path().join("secret");
    std::fs::create_dir_all(dir.join("..2026_11_30_a")).unwrap();
    std::fs::write(dir.join("..2026_11_30_a/hs256"), OLD).unwrap();
    symlink("..2026_11_30_a", dir.join("..data")).unwrap();
    symlink("..data/hs256", dir.join("hs256")).unwrap();
    let cutover = Cutover::start_with_env(&cfg, &[("CUTOVER_IDENTITY_KEY", IDENTITY_KEY)]);
    let client = reqwest::Client::new();
    let url = cutover.url("/api/chatbot");
    assert_eq!(status(&client, &url, &old).await, 200, "old secret works");

    std::fs::create_dir_all(dir.join("..2026_11_30_b")).unwrap();
    std::fs::write(dir.join("..2026_11_30_b/hs256"), NEW).unwrap();
    symlink("..2026_11_30_b", dir.join("..data_tmp")).unwrap();
    std::fs::rename(dir.join("..data_tmp"), dir.join("..data")).unwrap();
    assert!(
        rotated_within_a_second(&client, &url, &old, &new).await,
        "the ..data swap was not picked up"
    );
    let log = cutover.log();
    assert!(log.contains(&dir.join("hs256").display().to_string()));
    for value in [OLD, NEW] {
        assert!(!log.contains(value), "a secret value leaked into the log");
    }
}
