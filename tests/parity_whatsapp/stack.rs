//! The WhatsApp parity stack: the parity suite's [`Stack`] (cutover in front
//! of the legacy Next app and the embedded rust handlers, one database) with
//! a media root shared by both backends and the worker, a known worker
//! service token, a recording HTTP client, and the Baileys worker stand-in
//! (tests/whatsapp-worker, the real `@whiskeysockets/baileys` proto types).

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::creds::Creds;
use crate::harness::user;
use crate::normalize::Normalizer;
use crate::stack::{Side, Stack};

/// The worker's service token (cutover keeps only its SHA-256).
pub const WORKER_TOKEN: &str = "parity-whatsapp-worker-token-0123456789";

pub struct WaStack {
    pub stack: Stack,
    pub media: tempfile::TempDir,
}

/// The test's `[[auth.service]]`: the worker's token hash.
fn worker_auth() -> String {
    let hash = hex::encode(Sha256::digest(WORKER_TOKEN.as_bytes()));
    format!("\n[[auth.service]]\nname = \"whatsapp-worker-test\"\nsha256 = \"{hash}\"\n")
}

impl WaStack {
    /// Every route's flag on `side`; events to `pusher_port`.
    pub async fn start(side: Side, pusher_port: u16) -> WaStack {
        let media = tempfile::tempdir().expect("media root");
        let root = media.path().to_str().expect("utf-8 temp path").to_owned();
        let env = [("WHATSAPP_MEDIA_ROOT", root.as_str())];
        let stack = Stack::start_with_env(side, pusher_port, &worker_auth(), &env).await;
        WaStack { stack, media }
    }

    pub fn media_root(&self) -> &Path {
        self.media.path()
    }
}

/// Who sends a request.
#[derive(Clone, Copy, Debug)]
pub enum Who {
    User(&'static str),
    Worker,
    Nobody,
}

pub fn creds() -> Creds {
    Creds::mint(&[user("u1"), user("u4")])
}

/// Calls through cutover and keeps, per call: label, status, normalized body
/// (and headers for media), plus the raw answer for the contract check.
pub struct Rec<'a> {
    pub side: &'static str,
    stack: &'a WaStack,
    creds: &'a Creds,
    client: reqwest::Client,
    pub norm: Normalizer,
    pub out: Vec<(String, u16, String)>,
    pub raw: Vec<Value>,
}

/// Response headers a media client reads.
const MEDIA_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "content-range",
    "accept-ranges",
    "cache-control",
    "etag",
    "content-disposition",
];

impl<'a> Rec<'a> {
    pub fn new(side: Side, stack: &'a WaStack, creds: &'a Creds) -> Rec<'a> {
        Rec {
            side: side.as_str(),
            stack,
            creds,
            client: reqwest::Client::new(),
            norm: Normalizer::default(),
            out: Vec::new(),
            raw: Vec::new(),
        }
    }

    fn request(&self, method: &str, path: &str, who: Who) -> reqwest::RequestBuilder {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let req = self.client.request(method, self.stack.stack.url(path));
        match who {
            Who::User(u) => self.creds.apply(req, &user(u)),
            Who::Worker => req.bearer_auth(WORKER_TOKEN),
            Who::Nobody => req,
        }
    }

    /// A JSON call; returns the status and the parsed body (Null if not JSON).
    pub async fn call(
        &mut self,
        label: &str,
        method: &str,
        path: &str,
        who: Who,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut req = self.request(method, path, who);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.unwrap_or_else(|e| panic!("{label}: {e}"));
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        self.raw.push(json!({"side": self.side, "label": label, "method": method, "path": path, "status": status, "body": text}));
        self.out
            .push((label.to_owned(), status, self.norm.text(&text)));
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// A form POST (the realtime auth route, as pusher-js sends it).
    pub async fn form(&mut self, label: &str, path: &str, who: Who, form: &str) -> u16 {
        let res = self
            .request("POST", path, who)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned())
            .send()
            .await
            .unwrap_or_else(|e| panic!("{label}: {e}"));
        let status = res.status().as_u16();
        let text = res.text().await.unwrap_or_default();
        // The signature depends on the socket and secret only; keep its shape.
        let shape = serde_json::from_str::<Value>(&text)
            .map(|v| v.as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()))
            .ok()
            .flatten();
        self.out
            .push((label.to_owned(), status, format!("{shape:?}")));
        status
    }

    /// A media GET: status, the headers a client reads (the row id in the
    /// ETag replaced by `<mid>`), body length and SHA-256.
    pub async fn media(
        &mut self,
        label: &str,
        id: &str,
        who: Who,
        headers: &[(&str, &str)],
    ) -> u16 {
        let path = format!("/api/whatsapp/media/{id}");
        let mut req = self.request("GET", &path, who);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await.unwrap_or_else(|e| panic!("{label}: {e}"));
        let status = res.status().as_u16();
        let mut seen = serde_json::Map::new();
        for name in MEDIA_HEADERS {
            if let Some(v) = res.headers().get(*name).and_then(|v| v.to_str().ok()) {
                seen.insert((*name).to_owned(), Value::String(v.to_owned()));
            }
        }
        let body = res.bytes().await.unwrap_or_default();
        let is_json = seen
            .get("content-type")
            .is_some_and(|t| t.as_str().unwrap_or("").starts_with("application/json"));
        let text = if is_json {
            String::from_utf8_lossy(&body).into_owned()
        } else {
            String::new()
        };
        if is_json {
            // Next answers JSON chunked, the rust side with a length: both
            // are HTTP framing, not something a media client reads.
            seen.remove("content-length");
        }
        self.raw.push(json!({"side": self.side, "label": label, "method": "GET", "path": path, "status": status, "body": text, "headers": seen}));
        let shown = Value::Object(seen).to_string().replace(id, "<mid>");
        let digest = hex::encode(Sha256::digest(&body));
        self.out.push((
            label.to_owned(),
            status,
            format!("{shown} {} {digest}", body.len()),
        ));
        status
    }

    /// The worker stand-in against this stack; its transcript is recorded.
    pub async fn worker(&mut self, label: &str, args: &[&str]) -> Value {
        let summary = run_worker(&self.stack.stack.url(""), self.stack.media_root(), args).await;
        if let Some(t) = summary["transcript"].as_array() {
            for (i, e) in t.iter().enumerate() {
                let body = e["body"].as_str().unwrap_or("");
                let status = e["status"].as_u64().unwrap_or(0) as u16;
                self.raw.push(json!({"side": self.side, "label": format!("{label} {}", e["label"]), "method": e["method"], "path": e["path"], "status": status, "body": body}));
                self.out.push((
                    format!("{label} #{i} {}", e["label"]),
                    status,
                    self.norm.text(body),
                ));
            }
        }
        summary
    }
}

fn worker_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/whatsapp-worker")
}

/// `node worker.mjs --base … --token … --media-root … <args>`; its summary.
pub async fn run_worker(base: &str, media_root: &Path, args: &[&str]) -> Value {
    static INSTALL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    {
        let _one = INSTALL.lock().await;
        if !worker_dir()
            .join("node_modules/@whiskeysockets/baileys")
            .exists()
        {
            let ok = tokio::process::Command::new("npm")
                .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
                .current_dir(worker_dir())
                .status()
                .await
                .expect("npm runs");
            assert!(ok.success(), "npm ci in tests/whatsapp-worker");
        }
    }
    let out = tokio::process::Command::new("node")
        .arg("worker.mjs")
        .args([
            "--base",
            base.trim_end_matches('/'),
            "--token",
            WORKER_TOKEN,
            "--media-root",
        ])
        .arg(media_root)
        .args(args)
        .current_dir(worker_dir())
        .stderr(std::process::Stdio::inherit())
        .output()
        .await
        .expect("node runs tests/whatsapp-worker/worker.mjs");
    assert!(
        out.status.success(),
        "worker.mjs {args:?} exited {}",
        out.status
    );
    serde_json::from_slice(&out.stdout).expect("worker.mjs prints one JSON summary")
}

/// `"timestamp":<ms>` → `"timestamp":<ms>` masked: the emit time of an event.
pub fn mask_emit_time(text: &str) -> String {
    const KEY: &str = "\"timestamp\":";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(KEY) {
        let (head, tail) = rest.split_at(at + KEY.len());
        out.push_str(head);
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            out.push_str("<ms>");
        }
        rest = &tail[digits..];
    }
    out.push_str(rest);
    out
}
