//! Auth at the edge, through the real proxy: tokens minted by the real
//! next-auth library, identity headers reaching both backends.

use std::time::Duration;

use serde_json::json;

use crate::mint;
use crate::support::*;

const SECRET: &str = "e2e-nextauth-secret-0123456789abcdef";
const IDENTITY_KEY: &str = "e2e-identity-key-0123456789abcdef0123456789";

fn routes(next: &str, rust: &str) -> String {
    let auth = r#"
[auth]
identity_key_env = "CUTOVER_IDENTITY_KEY"

[auth.session]
flavor = "nextauth-v4"
secret_envs = ["NEXTAUTH_SECRET"]

[[route]]
id = "threads"
path = "/api/chat/user-threads"
auth = "required"
schemes = ["session"]

[[route]]
id = "events"
path = "/api/chat/events"
auth = "required"
schemes = ["session"]
query_token = true

[[route]]
id = "config"
path = "/api/chat/realtime/config"
auth = "optional"
"#;
    routes_toml(next, rust, "", auth)
}

fn session_token(sub: &str) -> String {
    let v = mint::mint_one(json!({
        "kind": "nextauth_v4",
        "secret": SECRET,
        "claims": { "sub": sub, "name": "Ada", "email": "ada@example.com" },
        "maxAge": 3600
    }));
    mint::token(&v)
}

fn start(next: &Upstream, rust: &Upstream) -> (ConfigDir, Cutover) {
    let cfg = ConfigDir::new(&routes(&next.url(), &rust.url()));
    let env = [
        ("NEXTAUTH_SECRET", SECRET),
        ("CUTOVER_IDENTITY_KEY", IDENTITY_KEY),
    ];
    let cutover = Cutover::start_with_env(&cfg, &env);
    (cfg, cutover)
}

#[tokio::test(flavor = "multi_thread")]
async fn same_verified_identity_reaches_next_and_rust_and_spoofs_are_stripped() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let (cfg, cutover) = start(&next, &rust);
    let token = session_token("user-42");
    let client = reqwest::Client::new();
    let call = |client: reqwest::Client, url: String, token: String| async move {
        let r = client
            .get(url)
            .header(
                "cookie",
                format!("theme=dark; next-auth.session-token={token}"),
            )
            .header("x-cutover-user-id", "admin")
            .header("x-cutover-auth", "service")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json::<serde_json::Value>().await.unwrap()
    };
    let url = cutover.url("/api/chat/user-threads");
    let from_next = call(client.clone(), url.clone(), token.clone()).await;
    cfg.write_flag("threads", "backend = \"rust\"\n");
    let moved = eventually(Duration::from_secs(10), || async {
        let v = call(client.clone(), url.clone(), token.clone()).await;
        (v["backend"] == "rust").then_some(v)
    })
    .await;
    let from_rust = moved.expect("flip to rust not applied");
    for v in [&from_next, &from_rust] {
        let h = &v["headers"];
        assert_eq!(h["x-cutover-user-id"], "user-42", "{v}");
        assert_eq!(h["x-cutover-user-email"], "ada@example.com");
        assert_eq!(h["x-cutover-auth"], "session");
        assert!(
            h["x-cutover-identity-sig"]
                .as_str()
                .unwrap()
                .contains("v1=")
        );
        // The legacy app still gets its own cookies untouched.
        assert!(
            h["cookie"]
                .as_str()
                .unwrap()
                .contains("next-auth.session-token=")
        );
    }
    // The signature verifies with the shared key, as a remote rust handler checks it.
    let mut headers = http::HeaderMap::new();
    for (k, v) in from_rust["headers"].as_object().unwrap() {
        if k.starts_with("x-cutover-") {
            headers.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.as_str().unwrap().parse().unwrap(),
            );
        }
    }
    let key = cutover::identity::IdentityKey::new(IDENTITY_KEY.as_bytes().to_vec()).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let id = cutover::identity::verify_identity_headers(&headers, &key, now)
        .unwrap()
        .unwrap();
    assert_eq!(id.user_id, "user-42");
    let m = cutover.metrics().await;
    assert!(
        m.contains("cutover_auth_total{result=\"ok\",route=\"threads\",scheme=\"session\"}"),
        "{m}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn required_route_without_valid_credential_gets_json_401_never_the_upstream() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let (_cfg, cutover) = start(&next, &rust);
    let client = reqwest::Client::new();
    let url = cutover.url("/api/chat/user-threads");

    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers().contains_key("www-authenticate"));
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap(),
        json!({"error": "unauthorized", "reason": "missing"})
    );

    let wrong = mint::token(&mint::mint_one(json!({
        "kind": "nextauth_v4", "secret": "another-secret-entirely-0123456789", "claims": {"sub": "u1"}, "maxAge": 3600
    })));
    let r = client
        .get(&url)
        .header("cookie", format!("next-auth.session-token={wrong}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<serde_json::Value>().await.unwrap()["reason"],
        "bad_signature"
    );

    // Oversized cookie: a clean rejection, never a crash.
    let huge = "x".repeat(20_000);
    let r = client
        .get(&url)
        .header("cookie", format!("next-auth.session-token={huge}"))
        .send()
        .await
        .unwrap();
    assert!(
        [400, 401, 431].contains(&r.status().as_u16()),
        "{}",
        r.status()
    );
    assert_eq!(
        next.hits.load(std::sync::atomic::Ordering::Relaxed),
        0,
        "a rejected request reached next"
    );
    let r = client
        .get(cutover.url("/-/not-a-route"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "proxy still serving");

    // Optional route: no credential passes anonymously, without identity headers.
    let r = client
        .get(cutover.url("/api/chat/realtime/config"))
        .send()
        .await
        .unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    assert!(v["headers"].get("x-cutover-user-id").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn query_token_authenticates_and_never_reaches_logs_or_backends() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let (_cfg, cutover) = start(&next, &rust);
    let token = session_token("user-7");
    let r = reqwest::get(cutover.url(&format!("/api/chat/events?since=5&token={token}")))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["uri"], "/api/chat/events?since=5");
    assert_eq!(v["headers"]["x-cutover-user-id"], "user-7");
    // Not accepted where the route does not declare it.
    let r = reqwest::get(cutover.url(&format!("/api/chat/user-threads?token={token}")))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = cutover.log();
    assert!(!log.contains(&token), "token in the log");
    assert!(!log.contains(&token[..40]), "token prefix in the log");
    assert!(!cutover.metrics().await.contains(&token[..40]));
}
