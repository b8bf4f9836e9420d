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
                .contains("v2=")
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
    use cutover::identity::{Audience, SignedRequest, verify_identity_headers};
    let uri = from_rust["uri"].as_str().unwrap();
    let as_received = SignedRequest {
        audience: Audience::Rust,
        method: from_rust["method"].as_str().unwrap(),
        target: uri,
    };
    let id = verify_identity_headers(&headers, &key, &as_received, now)
        .unwrap()
        .unwrap();
    assert_eq!(id.user_id, "user-42");
    // Captured and replayed as a POST, on another path, or at next: refused.
    for replay in [
        SignedRequest {
            method: "POST",
            ..as_received
        },
        SignedRequest {
            target: "/api/chat/events",
            ..as_received
        },
        SignedRequest {
            audience: Audience::Next,
            ..as_received
        },
    ] {
        assert_eq!(
            verify_identity_headers(&headers, &key, &replay, now),
            Err(cutover::identity::IdentityError::BadSignature),
            "{replay:?}"
        );
    }
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

/// The attack: `?%74oken=<JWE>` (the backends' URLSearchParams read it as
/// `token`). Where the route takes `?token=` it is used and removed; nowhere
/// does it reach the access log.
#[tokio::test(flavor = "multi_thread")]
async fn percent_encoded_token_name_is_used_removed_and_redacted() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let (_cfg, cutover) = start(&next, &rust);
    let token = session_token("user-9");
    let r = reqwest::get(cutover.url(&format!("/api/chat/events?since=5&%74oken={token}")))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["uri"], "/api/chat/events?since=5");
    assert_eq!(v["headers"]["x-cutover-user-id"], "user-9");
    // Where `?token=` is not taken, it still never reaches the log.
    let r = reqwest::get(cutover.url(&format!("/api/chat/user-threads?%74oken={token}")))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = cutover.log();
    assert!(!log.contains(&token[..40]), "token in the log: {log}");
    assert!(log.contains("%74oken=REDACTED"), "{log}");
}

/// Issue 14, finding 6: what a remote rust backend receives is signed for
/// exactly that request: audience `rust`, the method, the path after the
/// `rust_path` rewrite and the query. Captured and replayed as another
/// method, on the client-facing path, or at next, the headers are refused.
#[tokio::test(flavor = "multi_thread")]
async fn identity_headers_are_bound_to_the_rewritten_request_the_rust_backend_gets() {
    use cutover::identity::{Audience, IdentityError, SignedRequest, verify_identity_headers};
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let renamed = r#"
[[route]]
id = "renamed"
path = "/api/chat/renamed/{id}"
rust_path = "/v2/renamed/{id}"
auth = "required"
schemes = ["session"]
"#;
    let cfg = ConfigDir::new(&(routes(&next.url(), &rust.url()) + renamed));
    cfg.write_flag("renamed", "backend = \"rust\"\n");
    let env = [
        ("NEXTAUTH_SECRET", SECRET),
        ("CUTOVER_IDENTITY_KEY", IDENTITY_KEY),
    ];
    let cutover = Cutover::start_with_env(&cfg, &env);
    let r = reqwest::Client::new()
        .post(cutover.url("/api/chat/renamed/7?x=1"))
        .header(
            "cookie",
            format!("next-auth.session-token={}", session_token("user-42")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (v["backend"].as_str(), v["uri"].as_str()),
        (Some("rust"), Some("/v2/renamed/7?x=1"))
    );
    let mut headers = http::HeaderMap::new();
    for (k, val) in v["headers"].as_object().unwrap() {
        if k.starts_with("x-cutover-") {
            headers.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                val.as_str().unwrap().parse().unwrap(),
            );
        }
    }
    let key = cutover::identity::IdentityKey::new(IDENTITY_KEY.as_bytes().to_vec()).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let received = SignedRequest {
        audience: Audience::Rust,
        method: "POST",
        target: "/v2/renamed/7?x=1",
    };
    let id = verify_identity_headers(&headers, &key, &received, now)
        .unwrap()
        .unwrap();
    assert_eq!(id.user_id, "user-42");
    for replay in [
        SignedRequest {
            method: "GET",
            ..received
        },
        SignedRequest {
            target: "/api/chat/renamed/7?x=1",
            ..received
        },
        SignedRequest {
            target: "/v2/renamed/7",
            ..received
        },
        SignedRequest {
            audience: Audience::Next,
            ..received
        },
    ] {
        assert_eq!(
            verify_identity_headers(&headers, &key, &replay, now),
            Err(IdentityError::BadSignature),
            "{replay:?}"
        );
    }
}
