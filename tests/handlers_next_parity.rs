//! Side by side, without the proxy: the same scripted requests go to the Rust
//! router (`oneshot`) and to the legacy Next.js app (`next start`, identity in
//! `x-cutover-*` headers), each on its own identically seeded database and
//! its own Pusher recorder (a STAND-IN for Soketi, see support/harness.rs).
//! Status, exact body bytes and exact event payload bytes must be equal after
//! replacing only the contract's volatile values (generated ids, timestamps,
//! cursors) with stable placeholders.
//!
//! Ignored by default: it needs `npm ci` + `next build` in tests/legacy-next
//! (about a minute the first time; the test runs them itself when missing).
//! Run: `cargo test --test handlers_next_parity -- --ignored`.

#[path = "support/cases.rs"]
mod cases;
#[path = "support/harness.rs"]
mod harness;
#[path = "support/legacy_next.rs"]
mod legacy_next;
#[path = "support/normalize.rs"]
mod normalize;

use std::collections::HashMap;

use axum::body::Body;
use axum::http::Request;
use cases::{Case, Payload, cases};
use harness::{App, Recorder, TestDb, seed};
use legacy_next::LegacyNext;
use normalize::Normalizer;
use serde_json::{Value, json};

enum Side<'a> {
    Rust(&'a App),
    Next(&'a str, reqwest::Client),
}

/// The `x-cutover-*` headers cutover would send to next for `id` on
/// `method target`, signed now with the key the legacy app is started with.
fn signed_identity(
    id: &cutover::identity::Identity,
    method: &str,
    target: &str,
) -> Vec<(&'static str, String)> {
    let key = cutover::identity::IdentityKey::new(legacy_next::IDENTITY_KEY).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let req = cutover::identity::SignedRequest {
        audience: cutover::identity::Audience::Next,
        method,
        target,
    };
    cutover::identity::identity_headers(id, &key, &req, now)
}

impl Side<'_> {
    async fn call(&self, c: &Case, path: &str, body: String) -> (u16, String) {
        let content_type = match c.payload {
            Payload::None => None,
            Payload::Json(_) => Some("application/json"),
            Payload::Form(_) => Some("application/x-www-form-urlencoded"),
        };
        match self {
            Side::Rust(app) => {
                let mut req = Request::builder().method(c.method).uri(path);
                if let Some(ct) = content_type {
                    req = req.header("content-type", ct);
                }
                if c.shadow {
                    req = req.header("x-cutover-shadow", "1");
                }
                let mut req = req.body(Body::from(body)).unwrap();
                if let Some(id) = &c.who {
                    req.extensions_mut().insert(id.clone());
                }
                let (status, text) = app.send_raw(req).await;
                (status.as_u16(), text)
            }
            Side::Next(base, client) => {
                let method = reqwest::Method::from_bytes(c.method.as_bytes()).unwrap();
                let mut req = client.request(method, format!("{base}{path}"));
                if let Some(ct) = content_type {
                    req = req.header("content-type", ct).body(body);
                }
                if c.shadow {
                    req = req.header("x-cutover-shadow", "1");
                }
                if let Some(id) = &c.who {
                    // Signed as cutover signs them; the app verifies.
                    for (name, value) in signed_identity(id, c.method, path) {
                        req = req.header(name, value);
                    }
                }
                let res = req.send().await.expect("next answers");
                (res.status().as_u16(), res.text().await.unwrap())
            }
        }
    }
}

fn field(text: &str, pointer: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    v.pointer(pointer)?.as_str().map(str::to_owned)
}

/// What one side answered: normalized (label, status, body), normalized
/// events, and the raw responses and events for the schema check.
struct Run {
    out: Vec<(String, u16, String)>,
    events: Vec<String>,
    raw: Vec<Value>,
    raw_events: Vec<Value>,
}

/// Run every case on one side.
async fn run(name: &str, side: &Side<'_>, recorder: &Recorder) -> Run {
    let mut raw = Vec::new();
    let mut norm = Normalizer::default();
    let mut vars: HashMap<&str, String> = HashMap::new();
    let mut out = Vec::new();
    for c in cases() {
        let mut path = c.path.to_owned();
        let mut body = match c.payload {
            Payload::None => String::new(),
            Payload::Json(b) | Payload::Form(b) => b.to_owned(),
        };
        for (k, v) in &vars {
            path = path.replace(&format!("{{{k}}}"), v);
            body = body.replace(&format!("{{{k}}}"), v);
        }
        let (status, text) = side.call(&c, &path, body).await;
        if let Some(cur) = field(&text, "/nextCursor") {
            vars.insert("cursor", cur);
        }
        if let Some(id) = field(&text, "/scheduledMessage/id") {
            vars.insert("sched", id);
        }
        if let Some(id) = field(&text, "/message/id").filter(|_| c.label == "send third") {
            vars.insert("msg", id);
        }
        if let Some(id) = field(&text, "/conversation/id") {
            vars.insert("conv", id);
        }
        raw.push(json!({"side": name, "label": c.label, "method": c.method, "path": path, "status": status, "body": text}));
        out.push((c.label.to_owned(), status, norm.text(&text)));
    }
    let mut events = Vec::new();
    let mut raw_events = Vec::new();
    for e in recorder.events() {
        raw_events
            .push(json!({"side": name, "channel": e.channel, "name": e.name, "data": e.raw_data}));
        let channel = match e.channel.strip_prefix("private-chatbot-") {
            Some(id) => format!("private-chatbot-{}", norm.literal(id)),
            None => e.channel.clone(),
        };
        events.push(format!("{channel} {} {}", e.name, norm.text(&e.raw_data)));
    }
    Run {
        out,
        events,
        raw,
        raw_events,
    }
}

/// Every response and event of both sides validates against the contract
/// (contracts/validate_responses.py; Python with contracts/requirements.txt).
fn check_schema(runs: &[&Run]) {
    let capture = json!({
        "responses": runs.iter().flat_map(|r| r.raw.clone()).collect::<Vec<_>>(),
        "events": runs.iter().flat_map(|r| r.raw_events.clone()).collect::<Vec<_>>(),
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("capture.json");
    std::fs::write(&file, capture.to_string()).unwrap();
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/contracts/validate_responses.py"
    );
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(&file)
        .output()
        .expect("python3 runs contracts/validate_responses.py");
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "contract violations:\n{report}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs npm ci + next build in tests/legacy-next (~1 min the first time); run with --ignored"]
async fn rust_handlers_answer_exactly_like_the_legacy_next_app() {
    let rust = App::new().await;
    let next_db = TestDb::new().await;
    seed(&next_db.pool).await;
    let (next_recorder, next_pusher_url) = Recorder::start().await;
    let port: u16 = next_pusher_url.rsplit(':').next().unwrap().parse().unwrap();
    let next = LegacyNext::start(
        &format!("postgres://postgres@127.0.0.1:5432/{}", next_db.name),
        port,
    )
    .await;

    let rust_run = run("rust", &Side::Rust(&rust), &rust.recorder).await;
    let next_run = run(
        "next",
        &Side::Next(&next.base_url, reqwest::Client::new()),
        &next_recorder,
    )
    .await;
    check_schema(&[&rust_run, &next_run]);
    let (rust_out, rust_events) = (rust_run.out, rust_run.events);
    let (next_out, next_events) = (next_run.out, next_run.events);

    // Equal is not enough: the happy paths must really be happy.
    let expected = [
        ("send", 201),
        ("send retry", 200),
        ("page 2", 200),
        ("receipt read", 200),
        ("receipt read again", 200),
        ("schedule", 201),
        ("cancel", 200),
        ("visitor send", 201),
        ("visitor send retry", 200),
        ("shadow send", 201),
        ("cache clear admin", 204),
        // Issue 14: same tenant, same `sub`, other issuer: not the owner.
        ("auth partner visitor conversation", 403),
        ("partner visitor widget conversation", 404),
        ("partner visitor send to widget conversation", 404),
    ];
    for &(label, status) in expected.iter().chain(cases::AUTH_EXPECTED) {
        for (side, out) in [("rust", &rust_out), ("next", &next_out)] {
            let got = out.iter().find(|o| o.0 == label).map(|o| o.1);
            assert_eq!(got, Some(status), "{side}: case {label:?}");
        }
    }
    let mut diffs = Vec::new();
    for (r, n) in rust_out.iter().zip(&next_out) {
        if r != n {
            diffs.push(format!(
                "case {:?}\n  rust: {} {}\n  next: {} {}",
                r.0, r.1, r.2, n.1, n.2
            ));
        }
    }
    if rust_events != next_events {
        diffs.push(format!(
            "events differ\n  rust: {rust_events:#?}\n  next: {next_events:#?}"
        ));
    }
    assert!(
        diffs.is_empty(),
        "{} difference(s):\n{}",
        diffs.len(),
        diffs.join("\n")
    );
    assert!(
        rust_events.len() >= 5,
        "events were recorded: {rust_events:#?}"
    );

    // The app trusts only signed identity headers, as the rust middleware does:
    // a caller that reaches Next directly cannot claim to be someone.
    let client = reqwest::Client::new();
    let who = cutover::identity::Identity {
        scheme: cutover::identity::AuthScheme::Session,
        user_id: "u1".into(),
        email: None,
        tenant_id: None,
        issuer: None,
        expires_at: None,
    };
    let url = format!("{}/api/chat/user-threads", next.base_url);
    let forged = client
        .get(&url)
        .header("x-cutover-user-id", "u1")
        .header("x-cutover-auth", "session")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    let mut tampered = client.get(&url);
    for (name, value) in signed_identity(&who, "GET", "/api/chat/user-threads") {
        let value = if name == "x-cutover-user-id" {
            "u2".to_string()
        } else {
            value
        };
        tampered = tampered.header(name, value);
    }
    let tampered = tampered.send().await.unwrap();
    assert_eq!(tampered.status(), 401);
    let v: Value = tampered.json().await.unwrap();
    assert_eq!(
        v,
        json!({"error": "unauthorized", "reason": "bad_signature"})
    );
    let mut signed = client.get(&url);
    for (name, value) in signed_identity(&who, "GET", "/api/chat/user-threads") {
        signed = signed.header(name, value);
    }
    assert_eq!(signed.send().await.unwrap().status(), 200);
    next_refuses_replayed_and_non_canonical_identity_headers(&next.base_url, &who).await;
}

/// Issue 14, finding 6, against the legacy app's verifier (lib/identity.ts):
/// headers captured from one request and replayed with another method, path
/// or audience are refused, and so are the inputs the Rust verifier refuses
/// (`t=+<ts>`, upper-case hex, a raw `", "` inside a value).
async fn next_refuses_replayed_and_non_canonical_identity_headers(
    base: &str,
    who: &cutover::identity::Identity,
) {
    use cutover::identity::{Audience, IdentityKey, SignedRequest, identity_headers};
    let client = reqwest::Client::new();
    let send = |method: &str, target: &str, headers: Vec<(&'static str, String)>| {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let req = headers.into_iter().fold(
            client.request(method, format!("{base}{target}")),
            |r, (k, v)| r.header(k, v),
        );
        async move {
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let unauthorized = |reason: &str| (401, json!({"error": "unauthorized", "reason": reason}));
    let messages = "/api/chat/user-threads/th1/messages";
    let captured = signed_identity(who, "GET", messages);
    assert_eq!(send("GET", messages, captured.clone()).await.0, 200);
    let replays = [
        ("POST", messages),
        ("GET", "/api/chat/user-threads/th1/messages?limit=1"),
        ("GET", "/api/chat/user-threads"),
    ];
    for (method, target) in replays {
        assert_eq!(
            send(method, target, captured.clone()).await,
            unauthorized("bad_signature"),
            "replayed as {method} {target}"
        );
    }
    // Signed for a remote `cutover handlers` (audience rust), replayed at next.
    let key = IdentityKey::new(legacy_next::IDENTITY_KEY).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let for_rust = SignedRequest {
        audience: Audience::Rust,
        method: "GET",
        target: messages,
    };
    assert_eq!(
        send("GET", messages, identity_headers(who, &key, &for_rust, now)).await,
        unauthorized("bad_signature")
    );

    let tweak = |name: &str, f: &dyn Fn(&str) -> String| {
        captured
            .iter()
            .map(|(k, v)| (*k, if *k == name { f(v) } else { v.clone() }))
            .collect::<Vec<_>>()
    };
    let sig = "x-cutover-identity-sig";
    let inputs = [
        ("t=+<ts>", tweak(sig, &|v| v.replacen("t=", "t=+", 1))),
        (
            "upper-case hex",
            tweak(sig, &|v| {
                let (t, hex) = v.split_once("v2=").unwrap();
                format!("{t}v2={}", hex.to_uppercase())
            }),
        ),
        (
            "raw \", \" in a value",
            tweak("x-cutover-user-id", &|v| format!("{v}, u2")),
        ),
    ];
    for (what, headers) in inputs {
        assert_eq!(
            send("GET", messages, headers).await,
            unauthorized("malformed"),
            "{what}"
        );
    }
}
