//! Issue 14, finding 3: `jwks_url` is fetched, at start and on an unknown
//! `kid` (at most once a minute per issuer), against a local JWKS server on
//! port 0 that rotates its keys; a failing server keeps the last good keys.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures::StreamExt;
use serde_json::{Value, json};

use crate::mint;
use crate::support::*;

const IDENTITY_KEY: &str = "e2e-identity-key-0123456789abcdef0123456789";
const ISS: &str = "https://widget.example.com";
const OK: &str = r#"cutover_jwks_fetches_total{issuer="widget",result="ok"}"#;

/// The JWKS server: what it answers, and how many fetches it saw.
struct JwksServer {
    url: String,
    answer: Arc<Mutex<(u16, String)>>,
    fetches: Arc<AtomicUsize>,
}

impl JwksServer {
    async fn start(keys: &[&Value]) -> JwksServer {
        let answer = Arc::new(Mutex::new((200, json!({ "keys": keys }).to_string())));
        let fetches = Arc::new(AtomicUsize::new(0));
        let (a, f) = (answer.clone(), fetches.clone());
        let app = axum::Router::new().route(
            "/jwks.json",
            axum::routing::get(move || {
                let (a, f) = (a.clone(), f.clone());
                async move {
                    f.fetch_add(1, Ordering::SeqCst);
                    let (status, body) = a.lock().unwrap().clone();
                    (axum::http::StatusCode::from_u16(status).unwrap(), body)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/jwks.json", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        JwksServer {
            url,
            answer,
            fetches,
        }
    }

    fn set(&self, status: u16, keys: &[&Value]) {
        *self.answer.lock().unwrap() = (status, json!({ "keys": keys }).to_string());
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::SeqCst)
    }
}

fn start(server: &JwksServer, next: &Upstream, rust: &Upstream) -> (ConfigDir, Cutover) {
    let routes = format!(
        r#"
[auth]
identity_key_env = "CUTOVER_IDENTITY_KEY"

[[auth.chatbot]]
name = "widget"
issuer = "{ISS}"
algorithms = ["RS256", "ES256"]
jwks_url = "{}"
tenant = "t1"

[[route]]
id = "bot"
path = "/api/chatbot"
auth = "required"
schemes = ["chatbot"]
"#,
        server.url
    );
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", &routes));
    let cutover = Cutover::start_with_env(&cfg, &[("CUTOVER_IDENTITY_KEY", IDENTITY_KEY)]);
    (cfg, cutover)
}

/// A token signed by `pair` (RS256 or ES256 by its jwk's alg) with its kid.
fn sign(pair: &Value, sub: &str) -> Value {
    json!({"kind": "jwt", "payload": {"sub": sub}, "key": pair["privatePem"],
           "options": {"algorithm": pair["jwk"]["alg"], "keyid": pair["jwk"]["kid"],
                       "expiresIn": 600, "issuer": ISS}})
}

async fn status(client: &reqwest::Client, url: &str, token: &str) -> u16 {
    client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .map_or(0, |r| r.status().as_u16())
}

async fn wait_for(cutover: &Cutover, series: &str, want: f64) {
    let seen = eventually(Duration::from_secs(5), || async {
        (cutover.metric(series).await >= want).then_some(())
    })
    .await;
    assert!(seen.is_some(), "{series} never reached {want}");
}

#[tokio::test(flavor = "multi_thread")]
async fn jwks_url_is_fetched_at_start_and_a_rotated_kid_is_accepted() {
    let pairs = mint::mint(json!([
        {"kind": "keypair", "type": "rsa", "kid": "r1"},
        {"kind": "keypair", "type": "ec", "kid": "e2"},
    ]));
    let tokens = mint::mint(json!([sign(&pairs[0], "v1"), sign(&pairs[1], "v2")]));
    let (old, new) = (mint::token(&tokens[0]), mint::token(&tokens[1]));
    let server = JwksServer::start(&[&pairs[0]["jwk"]]).await;
    let (next, rust) = (Upstream::start("next").await, Upstream::start("rust").await);
    let (_cfg, cutover) = start(&server, &next, &rust);
    wait_for(&cutover, OK, 1.0).await;
    let client = reqwest::Client::new();
    let url = cutover.url("/api/chatbot");
    assert_eq!(
        status(&client, &url, &old).await,
        200,
        "r1 from the start fetch"
    );
    assert_eq!(server.fetches(), 1);
    let metrics = cutover.metrics().await;
    let age = metric_value(&metrics, r#"cutover_jwks_age_seconds{issuer="widget"}"#);
    assert!(metrics.contains("cutover_jwks_age_seconds{issuer=\"widget\"}") && age < 5.0);

    // The issuer rotates: e2 replaces r1. The first e2 token asks for a refetch.
    server.set(200, &[&pairs[1]["jwk"]]);
    let accepted = eventually(Duration::from_secs(3), || async {
        (status(&client, &url, &new).await == 200).then_some(())
    })
    .await;
    assert!(accepted.is_some(), "the new kid was never accepted");
    assert_eq!(server.fetches(), 2, "one refetch for the new kid");
    assert_eq!(
        status(&client, &url, &old).await,
        401,
        "a token of the removed key (validated and cached before) is refused"
    );
}

/// A token with a kid the issuer never had, unsigned: the kid is checked first.
fn forged(kid: &str) -> String {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": kid});
    let claims = json!({"sub": "attacker", "iss": ISS, "exp": 4_000_000_000u64});
    let part = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!(
        "{}.{}.{}",
        part(&header),
        part(&claims),
        URL_SAFE_NO_PAD.encode([7u8; 256])
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_kid_burst_costs_one_fetch_and_a_failing_jwks_url_keeps_the_old_keys() {
    let pairs = mint::mint(json!([{"kind": "keypair", "type": "rsa", "kid": "r1"}]));
    let tokens = mint::mint(json!([sign(&pairs[0], "v1"), sign(&pairs[0], "v2")]));
    let server = JwksServer::start(&[&pairs[0]["jwk"]]).await;
    let (next, rust) = (Upstream::start("next").await, Upstream::start("rust").await);
    let (_cfg, cutover) = start(&server, &next, &rust);
    wait_for(&cutover, OK, 1.0).await;
    let client = reqwest::Client::new();
    let url = cutover.url("/api/chatbot");
    assert_eq!(status(&client, &url, &mint::token(&tokens[0])).await, 200);

    // The JWKS server breaks, and 1,000 forged kids arrive.
    server.set(500, &[]);
    let statuses: Vec<u16> = futures::stream::iter(0..1000)
        .map(|i| {
            let (client, url) = (client.clone(), url.clone());
            async move { status(&client, &url, &forged(&format!("forged-{i}"))).await }
        })
        .buffer_unordered(32)
        .collect()
        .await;
    assert!(
        statuses.iter().all(|s| *s == 401),
        "forged kids are refused"
    );
    wait_for(
        &cutover,
        r#"cutover_jwks_fetches_total{issuer="widget",result="status"}"#,
        1.0,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(server.fetches(), 2, "the burst caused exactly one refetch");
    // The last good keys still verify a token never seen (so not cached) before.
    assert_eq!(status(&client, &url, &mint::token(&tokens[1])).await, 200);
    assert_eq!(cutover.metric(OK).await, 1.0);
}
