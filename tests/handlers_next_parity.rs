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

#[path = "support/harness.rs"]
mod harness;
#[path = "support/legacy_next.rs"]
mod legacy_next;
#[path = "support/normalize.rs"]
mod normalize;

use std::collections::HashMap;

use axum::body::Body;
use axum::http::Request;
use cutover::identity::Identity;
use harness::{App, Recorder, TestDb, seed, user, visitor};
use legacy_next::LegacyNext;
use normalize::Normalizer;
use serde_json::{Value, json};

enum Payload {
    None,
    Json(&'static str),
    Form(&'static str),
}

struct Case {
    label: &'static str,
    method: &'static str,
    /// `{cursor}` (here and in the payload) is replaced by the side's last
    /// `nextCursor`, `{sched}` / `{conv}` by the last created scheduled message
    /// / conversation id, `{msg}` by the id of the "send third" message.
    path: &'static str,
    who: Option<Identity>,
    payload: Payload,
    shadow: bool,
}

fn case(
    label: &'static str,
    method: &'static str,
    path: &'static str,
    who: Option<Identity>,
    payload: Payload,
) -> Case {
    Case {
        label,
        method,
        path,
        who,
        payload,
        shadow: false,
    }
}

/// The scripted cases, in order; a table, so kept one case per line.
#[rustfmt::skip]
fn cases() -> Vec<Case> {
    use Payload::{Form, Json, None as Empty};
    let u = |id| Some(user(id));
    let v = |id, t| Some(visitor(id, t));
    let auth = "/api/chat/realtime/auth";
    let msgs = "/api/chat/user-threads/th1/messages";
    let mut all = vec![
        case("config", "GET", "/api/chat/realtime/config", u("u1"), Empty),
        case("config without identity", "GET", "/api/chat/realtime/config", None, Empty),
        case("auth own user channel", "POST", auth, u("u1"), Form("socket_id=123.456&channel_name=private-user-u1")),
        case("auth thread", "POST", auth, u("u1"), Form("socket_id=123.456&channel_name=private-thread-th1")),
        case("auth presence", "POST", auth, u("u1"), Form("socket_id=123.456&channel_name=presence-tenant-t1")),
        case("auth presence no name", "POST", auth, u("u4"), Form("socket_id=1.2&channel_name=presence-tenant-t2")),
        case("auth visitor conversation", "POST", auth, v("v1", "t1"), Form("socket_id=1.2&channel_name=private-chatbot-c1")),
        case("auth sign-in json", "POST", auth, u("u2"), Json(r#"{"socket_id":"1.2"}"#)),
        case("auth other user", "POST", auth, u("u1"), Form("socket_id=1.2&channel_name=private-user-u2")),
        case("auth other thread", "POST", auth, u("u1"), Form("socket_id=1.2&channel_name=private-thread-th2")),
        case("auth other tenant", "POST", auth, u("u1"), Form("socket_id=1.2&channel_name=presence-tenant-t2")),
        case("auth other conversation", "POST", auth, v("v1", "t1"), Form("socket_id=1.2&channel_name=private-chatbot-c2")),
        case("auth bad socket", "POST", auth, u("u1"), Form("socket_id=x&channel_name=private-user-u1")),
        case("auth bad channel", "POST", auth, u("u1"), Form("socket_id=1.2&channel_name=private%20user")),
        case("auth json array", "POST", auth, u("u1"), Json(r#"["1.2"]"#)),
        case("threads empty", "GET", "/api/chat/user-threads", u("u2"), Empty),
        case("send", "POST", msgs, u("u1"), Json(r#"{"body":"hello","clientMessageId":"k1"}"#)),
        case("send retry", "POST", msgs, u("u1"), Json(r#"{"body":"hello again","clientMessageId":"k1"}"#)),
        case("send unicode", "POST", msgs, u("u2"), Json(r#"{"body":"h\u00e9 \ud83d\ude00 \"q\" \u2028","clientMessageId":"k2"}"#)),
        case("send third", "POST", msgs, u("u1"), Json(r#"{"body":"three","clientMessageId":"k3"}"#)),
        case("send blank", "POST", msgs, u("u1"), Json(r#"{"body":"  ","clientMessageId":"k"}"#)),
        case("send no key", "POST", msgs, u("u1"), Json(r#"{"body":"x"}"#)),
        case("send wrong type", "POST", msgs, u("u1"), Json(r#"{"body":5,"clientMessageId":"k"}"#)),
        case("send not json", "POST", msgs, u("u1"), Json("{nope")),
        case("send not participant", "POST", "/api/chat/user-threads/th2/messages", u("u1"), Json(r#"{"body":"x","clientMessageId":"k"}"#)),
        case("send as visitor", "POST", msgs, v("v1", "t1"), Json(r#"{"body":"x","clientMessageId":"k"}"#)),
        case("page 1", "GET", "/api/chat/user-threads/th1/messages?limit=2", u("u2"), Empty),
        case("page 2", "GET", "/api/chat/user-threads/th1/messages?limit=2&cursor={cursor}", u("u2"), Empty),
        case("page bad limit", "GET", "/api/chat/user-threads/th1/messages?limit=500", u("u2"), Empty),
        case("page bad cursor", "GET", "/api/chat/user-threads/th1/messages?cursor=zzz", u("u2"), Empty),
        case("threads with unread", "GET", "/api/chat/user-threads", u("u2"), Empty),
        case("receipt read", "POST", "/api/chat/user-threads/th1/receipts", u("u2"), Json(r#"{"messageId":"{msg}","type":"read"}"#)),
        case("receipt read again", "POST", "/api/chat/user-threads/th1/receipts", u("u2"), Json(r#"{"messageId":"{msg}","type":"delivered"}"#)),
        case("threads after read", "GET", "/api/chat/user-threads", u("u2"), Empty),
        case("receipt bad type", "POST", "/api/chat/user-threads/th1/receipts", u("u2"), Json(r#"{"messageId":"m","type":"seen"}"#)),
        case("receipt unknown message", "POST", "/api/chat/user-threads/th1/receipts", u("u2"), Json(r#"{"messageId":"m","type":"read"}"#)),
        case("typing", "POST", "/api/chat/user-threads/th1/typing", u("u1"), Json(r#"{"isTyping":true}"#)),
        case("typing missing", "POST", "/api/chat/user-threads/th1/typing", u("u1"), Json("{}")),
        case("schedule", "POST", "/api/chat/user-threads/th1/scheduled", u("u1"), Json(r#"{"body":"later","sendAt":"2030-01-01T10:00:00.1239+02:00"}"#)),
        case("schedule bad time", "POST", "/api/chat/user-threads/th1/scheduled", u("u1"), Json(r#"{"body":"later","sendAt":"soon"}"#)),
        case("scheduled list", "GET", "/api/chat/user-threads/th1/scheduled", u("u1"), Empty),
        case("cancel by other", "DELETE", "/api/chat/user-threads/th1/scheduled/{sched}", u("u2"), Empty),
        case("cancel", "DELETE", "/api/chat/user-threads/th1/scheduled/{sched}", u("u1"), Empty),
        case("cancel again", "DELETE", "/api/chat/user-threads/th1/scheduled/{sched}", u("u1"), Empty),
        case("widget config", "GET", "/api/tenant-chatbot/config", v("v1", "t1"), Empty),
        case("widget config as user", "GET", "/api/tenant-chatbot/config", u("u1"), Empty),
        case("start conversation", "POST", "/api/tenant-chatbot/conversations", v("v9", "t1"), Json(r#"{"visitorName":"Nine"}"#)),
        case("start disabled", "POST", "/api/tenant-chatbot/conversations", v("v1", "t2"), Json("{}")),
        case("visitor send", "POST", "/api/tenant-chatbot/conversations/{conv}/messages", v("v9", "t1"), Json(r#"{"body":"hi bot","clientMessageId":"c1"}"#)),
        case("visitor send retry", "POST", "/api/tenant-chatbot/conversations/{conv}/messages", v("v9", "t1"), Json(r#"{"body":"hi bot","clientMessageId":"c1"}"#)),
        case("visitor page", "GET", "/api/tenant-chatbot/conversations/{conv}/messages", v("v9", "t1"), Empty),
        case("visitor other conversation", "GET", "/api/tenant-chatbot/conversations/c1/messages", v("v9", "t1"), Empty),
        case("cache clear non-admin", "DELETE", "/api/chat/realtime/config/cache", u("u1"), Empty),
        case("cache clear admin", "DELETE", "/api/chat/realtime/config/cache", u("u3"), Empty),
    ];
    let mut shadow = case("shadow send", "POST", msgs, u("u1"), Json(r#"{"body":"dry","clientMessageId":"dry"}"#));
    shadow.shadow = true;
    all.push(shadow);
    all.push(case("after shadow", "GET", "/api/chat/user-threads/th1/messages?limit=1", u("u1"), Empty));
    all
}

enum Side<'a> {
    Rust(&'a App),
    Next(&'a str, reqwest::Client),
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
                    req = req
                        .header("x-cutover-user-id", &id.user_id)
                        .header("x-cutover-auth", id.scheme.as_str());
                    if let Some(t) = &id.tenant_id {
                        req = req.header("x-cutover-tenant-id", t);
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
        ("auth presence", 200),
        ("auth sign-in json", 200),
        ("shadow send", 201),
        ("cache clear admin", 204),
    ];
    for (label, status) in expected {
        let got = rust_out.iter().find(|o| o.0 == label).map(|o| o.1);
        assert_eq!(got, Some(status), "case {label:?}");
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
}
