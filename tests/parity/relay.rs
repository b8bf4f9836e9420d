//! A recording relay in front of a real Soketi: every Pusher HTTP API call
//! a backend makes is forwarded unchanged (path, signed query, body) to
//! Soketi, and Soketi's own answer goes back; what was sent is recorded so
//! the events of the two sides can be compared byte for byte, and Soketi's
//! verdict (it says `200 {"code":401}` on a bad signature) is kept too.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{OriginalUri, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde_json::Value;

/// One event as a backend sent it, with Soketi's answer.
#[derive(Clone, Debug)]
pub struct Sent {
    pub channel: String,
    pub name: String,
    /// The `data` string exactly as sent.
    pub data: String,
    /// Soketi's status and body for the call.
    pub answer: (u16, String),
}

#[derive(Clone)]
struct RelayState {
    soketi: String,
    client: reqwest::Client,
    sent: Arc<Mutex<Vec<Sent>>>,
}

pub struct Relay {
    pub port: u16,
    sent: Arc<Mutex<Vec<Sent>>>,
    _task: tokio::task::JoinHandle<()>,
}

impl Relay {
    pub async fn start(soketi_url: &str) -> Relay {
        let sent = Arc::new(Mutex::new(Vec::new()));
        let state = RelayState {
            soketi: soketi_url.to_owned(),
            client: reqwest::Client::new(),
            sent: sent.clone(),
        };
        let app = Router::new()
            .route("/apps/{app_id}/events", post(forward))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind port 0");
        let port = listener.local_addr().expect("local addr").port();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Relay {
            port,
            sent,
            _task: task,
        }
    }

    /// Everything sent so far, in arrival order.
    pub fn sent(&self) -> Vec<Sent> {
        self.sent.lock().expect("relay lock").clone()
    }
}

async fn forward(
    State(s): State<RelayState>,
    OriginalUri(uri): OriginalUri,
    headers: axum::http::HeaderMap,
    body: String,
) -> (StatusCode, String) {
    let mut req = s
        .client
        .post(format!("{}{uri}", s.soketi))
        .body(body.clone());
    if let Some(ct) = headers.get("content-type") {
        req = req.header("content-type", ct.as_bytes());
    }
    let (status, text) = match req.send().await {
        Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
        Err(e) => (502, format!("relay: soketi unreachable: {e}")),
    };
    if let Ok(v) = serde_json::from_str::<Value>(&body) {
        let name = v["name"].as_str().unwrap_or("").to_owned();
        let data = v["data"].as_str().unwrap_or("").to_owned();
        let channels = v["channels"].as_array().cloned().unwrap_or_default();
        let mut sent = s.sent.lock().expect("relay lock");
        for ch in channels {
            sent.push(Sent {
                channel: ch.as_str().unwrap_or("").to_owned(),
                name: name.clone(),
                data: data.clone(),
                answer: (status, text.clone()),
            });
        }
    }
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
        text,
    )
}
