//! One side's run of the shared contract cases (tests/support/cases.rs)
//! through cutover over HTTP, and the contract's schema check of what both
//! sides answered and sent.

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::cases::{Case, Payload, cases};
use crate::creds::Creds;
use crate::normalize::Normalizer;
use crate::relay::Relay;
use crate::stack::Stack;

/// The cases run through cutover. A client's `x-cutover-shadow` is stripped
/// by cutover like every client-sent `x-cutover-*` header (shadow dry runs
/// are the shadow comparison's business), so shadow cases are left out.
pub fn proxied_cases() -> Vec<Case> {
    cases().into_iter().filter(|c| !c.shadow).collect()
}

/// What one side answered, normalized and raw.
pub struct Run {
    /// (label, status, normalized body)
    pub out: Vec<(String, u16, String)>,
    /// (label, `x-cutover-backend` of the response)
    pub backends: Vec<(String, String)>,
    /// `channel name data`, normalized
    pub events: Vec<String>,
    /// Soketi's answers that were not a plain success.
    pub rejected: Vec<String>,
    pub raw: Vec<Value>,
    pub raw_events: Vec<Value>,
}

fn field(text: &str, pointer: &str) -> Option<String> {
    let v: Value = serde_json::from_str(text).ok()?;
    v.pointer(pointer)?.as_str().map(str::to_owned)
}

async fn call(
    client: &reqwest::Client,
    stack: &Stack,
    creds: &Creds,
    c: &Case,
    path: &str,
    body: String,
) -> (u16, String, String) {
    let method = reqwest::Method::from_bytes(c.method.as_bytes()).expect("method");
    let mut req = client.request(method, stack.url(path));
    req = match c.payload {
        Payload::None => req,
        Payload::Json(_) => req.header("content-type", "application/json").body(body),
        Payload::Form(_) => req
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body),
    };
    if let Some(who) = &c.who {
        req = creds.apply(req, who);
    }
    let res = req
        .send()
        .await
        .unwrap_or_else(|e| panic!("case {:?}: {e}", c.label));
    let backend = res
        .headers()
        .get("x-cutover-backend")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    let status = res.status().as_u16();
    (status, res.text().await.unwrap_or_default(), backend)
}

/// Run every case against `stack` as `name`; events are what reached `relay`.
pub async fn run(name: &str, stack: &Stack, relay: &Relay, creds: &Creds) -> Run {
    let client = reqwest::Client::new();
    let mut norm = Normalizer::default();
    let mut vars: HashMap<&str, String> = HashMap::new();
    let (mut out, mut backends, mut raw) = (Vec::new(), Vec::new(), Vec::new());
    for c in proxied_cases() {
        let mut path = c.path.to_owned();
        let mut body = match c.payload {
            Payload::None => String::new(),
            Payload::Json(b) | Payload::Form(b) => b.to_owned(),
        };
        for (k, v) in &vars {
            path = path.replace(&format!("{{{k}}}"), v);
            body = body.replace(&format!("{{{k}}}"), v);
        }
        let (status, text, backend) = call(&client, stack, creds, &c, &path, body).await;
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
        backends.push((c.label.to_owned(), backend));
        out.push((c.label.to_owned(), status, norm.text(&text)));
    }
    let (mut events, mut raw_events, mut rejected) = (Vec::new(), Vec::new(), Vec::new());
    for e in relay.sent() {
        raw_events
            .push(json!({"side": name, "channel": e.channel, "name": e.name, "data": e.data}));
        // Soketi 1.6 answers `{"ok":true}`; a bad signature is 200 with a code >= 400.
        let code = serde_json::from_str::<Value>(&e.answer.1)
            .ok()
            .and_then(|v| v["code"].as_u64());
        if e.answer.0 != 200 || code.is_some_and(|c| c >= 400) {
            rejected.push(format!(
                "{} {}: soketi said {} {}",
                e.channel, e.name, e.answer.0, e.answer.1
            ));
        }
        let channel = match e.channel.strip_prefix("private-chatbot-") {
            Some(id) => format!("private-chatbot-{}", norm.literal(id)),
            None => e.channel.clone(),
        };
        events.push(format!("{channel} {} {}", e.name, norm.text(&e.data)));
    }
    Run {
        out,
        backends,
        events,
        rejected,
        raw,
        raw_events,
    }
}

/// Every response and event of both sides validates against
/// contracts/legacy-api.yaml (contracts/validate_responses.py; Python with
/// `pip install -r contracts/requirements.txt`).
pub fn check_schema(runs: &[&Run]) {
    check_capture(&json!({
        "responses": runs.iter().flat_map(|r| r.raw.clone()).collect::<Vec<_>>(),
        "events": runs.iter().flat_map(|r| r.raw_events.clone()).collect::<Vec<_>>(),
    }));
}

/// Validate a capture `{"responses": [...], "events": [...]}` (the format of
/// contracts/validate_responses.py) against the contract.
pub fn check_capture(capture: &Value) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("capture.json");
    std::fs::write(&file, capture.to_string()).expect("write capture");
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/contracts/validate_responses.py"
    );
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(&file)
        .output()
        .expect("python3 runs contracts/validate_responses.py");
    assert!(
        out.status.success(),
        "contract violations through cutover:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
