//! Backend health (issue 13 items 5, 6, 10): `/-/backends`, the
//! `cutover_backend_up` gauge and `/-/ready` while next is down and back; the
//! embedded handlers with a database that cannot be reached; responses that
//! cutover writes itself counted as `backend="cutover"`; `x-cutover-instance`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::any;
use serde_json::Value;

use crate::support::*;

/// A next stand-in that can be stopped and started again on the same port.
/// Every answer closes its connection, so nothing kept alive outlives a stop.
struct Switchable {
    addr: SocketAddr,
    hits: Arc<AtomicU64>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Switchable {
    async fn start() -> Switchable {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut s = Switchable {
            addr,
            hits: Arc::new(AtomicU64::new(0)),
            task: None,
        };
        s.serve(listener);
        s
    }

    fn serve(&mut self, listener: tokio::net::TcpListener) {
        let hits = self.hits.clone();
        let app = Router::new().fallback(any(move || {
            let hits = hits.clone();
            async move {
                hits.fetch_add(1, Ordering::SeqCst);
                (
                    [
                        ("connection", "close"),
                        ("content-type", "application/json"),
                    ],
                    r#"{"backend":"next"}"#,
                )
                    .into_response()
            }
        }));
        self.task = Some(tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        }));
    }

    fn stop(&mut self) {
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }

    async fn restart(&mut self) {
        let listener = eventually(Duration::from_secs(5), || async {
            tokio::net::TcpListener::bind(self.addr).await.ok()
        })
        .await
        .expect("the stand-in's port was taken meanwhile");
        self.serve(listener);
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

async fn json(url: String) -> (u16, Value) {
    let r = reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Poll `/-/backends` until `backend` is in `state`; returns its entry.
async fn backend_in_state(cutover: &Cutover, backend: &str, state: &str) -> Value {
    let url = format!("http://{}/-/backends", cutover.admin);
    eventually(Duration::from_secs(5), || async {
        let (_, v) = json(url.clone()).await;
        let entry = v["backends"][backend].clone();
        (entry["state"] == state).then_some(entry)
    })
    .await
    .unwrap_or_else(|| panic!("{backend} never {state}: {}", cutover.log()))
}

#[tokio::test(flavor = "multi_thread")]
async fn next_down_shows_at_backends_gauge_and_ready_body_while_ready_stays_200() {
    let mut next = Switchable::start().await;
    let rust = Upstream::start("rust").await;
    let routes = routes_toml(&next.url(), &rust.url(), "", "").replacen(
        "[backends.next]\n",
        "[backends.next]\nhealth_path = \"/api/health\"\nhealth_interval_ms = 100\nhealth_timeout_ms = 100\n",
        1,
    );
    let cfg = ConfigDir::new(&routes);
    let cutover = Cutover::start(&cfg);
    backend_in_state(&cutover, "next", "up").await;

    next.stop();
    let down = backend_in_state(&cutover, "next", "down").await;
    let reason = down["reason"].as_str().unwrap();
    assert!(
        reason.contains("/api/health") && reason.contains("cannot connect"),
        "{down}"
    );
    assert!(down["since"].as_u64().unwrap() > 0, "{down}");
    assert_eq!(down["active_check"], true, "{down}");
    assert_eq!(down["last_probe"]["ok"], false, "{down}");
    let metrics = cutover.metrics().await;
    assert!(
        metrics.contains("cutover_backend_up{backend=\"next\"} 0"),
        "{metrics}"
    );
    // Ready all the same (every replica shares this next), saying why not fully.
    let (status, ready) = json(format!("http://{}/-/ready", cutover.admin)).await;
    assert_eq!(status, 200);
    assert_eq!(ready["backends_unhealthy"][0]["backend"], "next", "{ready}");
    assert!(ready["backends_note"].is_string(), "{ready}");
    let (_, config) = json(format!("http://{}/-/config", cutover.admin)).await;
    assert_eq!(
        config["backends_health"]["next"]["state"], "down",
        "{config}"
    );

    next.restart().await;
    backend_in_state(&cutover, "next", "up").await;
    let metrics = cutover.metrics().await;
    assert!(
        metrics.contains("cutover_backend_up{backend=\"next\"} 1"),
        "{metrics}"
    );
    let (_, ready) = json(format!("http://{}/-/ready", cutover.admin)).await;
    assert_eq!(
        ready["backends_unhealthy"],
        serde_json::json!([]),
        "{ready}"
    );
    // One line for the change each way, not one per check.
    let log = cutover.log();
    assert_eq!(log.matches("backend down").count(), 1, "{log}");
    assert_eq!(log.matches("backend up again").count(), 1, "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_health_path_a_refused_connect_marks_next_down_and_its_502_stays_next_s() {
    let mut next = Switchable::start().await;
    let rust = Upstream::start("rust").await;
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", ""));
    let cutover = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    assert_eq!(
        backend_of(&client, &cutover.url("/page")).await.unwrap(),
        "next"
    );
    backend_in_state(&cutover, "next", "up").await;

    next.stop();
    let r = client.get(cutover.url("/page")).send().await.unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(r.headers()["x-cutover-backend"], "next");
    let down = backend_in_state(&cutover, "next", "down").await;
    assert_eq!(down["last_error"]["kind"], "connect", "{down}");
    assert!(
        down["reason"].as_str().unwrap().contains("cannot connect"),
        "{down}"
    );
    // The outage is next's in the per-side series, not cutover's.
    let series =
        "cutover_requests_total{backend=\"next\",route=\"(unmatched)\",status_class=\"5xx\"} 1";
    let counted = eventually(Duration::from_secs(5), || async {
        cutover.metrics().await.contains(series).then_some(())
    })
    .await;
    assert!(counted.is_some(), "{}", cutover.metrics().await);
    // The change is in that request's access line, not a line of its own.
    let log = cutover.log();
    assert!(log.contains("backend_health=\"next down\""), "{log}");
    assert!(!log.contains("backend down"), "{log}");
}

/// A port nothing listens on (privileged, so no parallel test binds it).
const DEAD_DATABASE: &str = "postgres://postgres:pw-not-logged@127.0.0.1:1/cutover_health";
const SERVICE_TOKEN: &str = "health-test-service-token";
const IDENTITY_KEY: &str = "e2e-identity-key-0123456789abcdef0123456789";

fn embedded_with_service_auth(next: &str) -> String {
    use sha2::Digest;
    let sha = hex::encode(sha2::Sha256::digest(SERVICE_TOKEN.as_bytes()));
    let routes = format!(
        r#"
[auth]
identity_key_env = "CUTOVER_IDENTITY_KEY"

[[auth.service]]
name = "whatsapp-worker"
sha256 = "{sha}"

[[route]]
id = "worker-sessions"
path = "/api/whatsapp/worker/sessions"
auth = "required"
schemes = ["service"]
"#
    );
    // The pool gives up on a refused connect after 3 s: allow the handler 10.
    let toml = routes_toml(next, "embedded", "", &routes);
    let (head, rust) = toml.split_once("[backends.rust]").unwrap();
    format!(
        "{head}[backends.rust]{}",
        rust.replacen("read_timeout_ms = 1000", "read_timeout_ms = 10000", 1)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_database_is_a_503_naming_it_and_logged_once() {
    let next = Upstream::start("next").await;
    let cfg = ConfigDir::new(&embedded_with_service_auth(&next.url()));
    cfg.write_flag("worker-sessions", "backend = \"rust\"\n");
    let env = [
        ("DATABASE_URL", DEAD_DATABASE),
        ("CUTOVER_IDENTITY_KEY", IDENTITY_KEY),
        ("PUSHER_APP_ID", "app"),
        ("PUSHER_KEY", "key"),
        ("PUSHER_SECRET", "secret"),
        ("PUSHER_HOST", "127.0.0.1"),
        ("PUSHER_PORT", "1"),
    ];
    let cutover = Cutover::start_with_env(&cfg, &env);
    let down = backend_in_state(&cutover, "database", "down").await;
    let reason = down["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("database unreachable: connection refused"),
        "{down}"
    );
    backend_in_state(&cutover, "soketi", "down").await;

    let r = reqwest::Client::new()
        .get(cutover.url("/api/whatsapp/worker/sessions"))
        .bearer_auth(SERVICE_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "5");
    assert_eq!(r.headers()["x-cutover-backend"], "rust");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "rust_backend_unavailable", "{body}");
    let reason = body["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("database unreachable: connection refused"),
        "{body}"
    );
    assert!(!reason.contains("pw-not-logged"), "{body}");
    assert_eq!(next.hits.load(Ordering::SeqCst), 0);

    let metrics = cutover.metrics().await;
    assert!(
        metrics.contains("cutover_backend_up{backend=\"database\"} 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("cutover_backend_up{backend=\"rust\"} 1"),
        "{metrics}"
    );
    // Checked again and again (the dispatcher every second, the check every
    // few): still one line about the database, and the password nowhere.
    let first_check = down["last_probe"]["at"].as_u64().unwrap();
    let url = format!("http://{}/-/backends", cutover.admin);
    let checked_again = eventually(Duration::from_secs(20), || async {
        let (_, v) = json(url.clone()).await;
        let at = v["backends"]["database"]["last_probe"]["at"]
            .as_u64()
            .unwrap();
        (at >= first_check + 9).then_some(())
    })
    .await;
    assert!(checked_again.is_some(), "{}", cutover.log());
    let log = cutover.log();
    assert_eq!(log.matches("scheduled dispatch failed").count(), 1, "{log}");
    let database_lines = log
        .lines()
        .filter(|l| l.contains("backend down") && l.contains("database"))
        .count();
    assert_eq!(database_lines, 1, "{log}");
    assert!(!log.contains("pw-not-logged"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_401_cutover_wrote_is_counted_as_cutover_with_both_headers_and_never_reaches_next() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let routes = r#"
[auth]
identity_key_env = "CUTOVER_IDENTITY_KEY"

[[auth.service]]
name = "whatsapp-worker"
sha256 = "0000000000000000000000000000000000000000000000000000000000000000"

[[route]]
id = "worker-sessions"
path = "/api/whatsapp/worker/sessions"
auth = "required"
schemes = ["service"]
"#;
    let cfg = ConfigDir::new(&routes_toml(
        &next.url(),
        &rust.url(),
        "instance = \"replica-7\"",
        routes,
    ));
    let cutover = Cutover::start_with_env(&cfg, &[("CUTOVER_IDENTITY_KEY", IDENTITY_KEY)]);
    let r = reqwest::get(cutover.url("/api/whatsapp/worker/sessions"))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["x-cutover-backend"], "cutover");
    assert_eq!(r.headers()["x-cutover-route"], "worker-sessions");
    assert_eq!(r.headers()["x-cutover-instance"], "replica-7");
    assert!(r.headers().contains_key("www-authenticate"));
    let series = "cutover_requests_total{backend=\"cutover\",route=\"worker-sessions\",status_class=\"4xx\"} 1";
    let counted = eventually(Duration::from_secs(5), || async {
        cutover.metrics().await.contains(series).then_some(())
    })
    .await;
    assert!(counted.is_some(), "{}", cutover.metrics().await);
    let metrics = cutover.metrics().await;
    assert!(
        !metrics.contains("cutover_requests_total{backend=\"next\",route=\"worker-sessions\""),
        "{metrics}"
    );
    assert_eq!(next.hits.load(Ordering::SeqCst), 0);
    // Access lines go out in batches (`logbuf`): wait for this one.
    let logged = eventually(Duration::from_secs(5), || async {
        let log = cutover.log();
        (log.contains("backend=\"cutover\"") || log.contains("backend=cutover")).then_some(())
    })
    .await;
    assert!(logged.is_some(), "{}", cutover.log());
    // Proxied answers name the replica too.
    let r = reqwest::get(cutover.url("/page")).await.unwrap();
    assert_eq!(r.headers()["x-cutover-instance"], "replica-7");
    assert_eq!(r.headers()["x-cutover-backend"], "next");
}
