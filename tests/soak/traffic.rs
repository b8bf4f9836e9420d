//! The soak's clients, each an async loop at a rate from the environment:
//! pass-through pages, authenticated reads, sends (a unique client id each),
//! realtime auth storms as pusher-js sends them, and a subscriber that stays
//! connected to Soketi (reconnecting when Soketi or its auth is down).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as Ws;

use crate::creds::Creds;
use crate::harness::{APP_KEY, user};
use crate::record::{Ack, Epoch, Kind, Outcome, Record};
use crate::stack::{READ_TIMEOUT_MS, SoakStack};

pub const CHANNEL: &str = "presence-tenant.t1.thread.u1--u2";
const EVENT: &str = "tenant-user-message";

/// Everything a client loop needs.
#[derive(Clone)]
pub struct Ctx {
    pub stack: Arc<SoakStack>,
    pub creds: Arc<Creds>,
    pub rec: Arc<Record>,
    pub stop: Arc<AtomicBool>,
    pub client: reqwest::Client,
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(READ_TIMEOUT_MS + 5_000))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// For streams: no overall timeout (connect bounded; the reader bounds the rest).
pub fn stream_client() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

impl Ctx {
    pub fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// Send, record the outcome, return it with the body.
    pub async fn call(&self, kind: Kind, req: reqwest::RequestBuilder) -> (Outcome, String) {
        let start = self.rec.now();
        let mut o = Outcome::started(kind, start);
        let mut body = String::new();
        match req.send().await {
            Ok(res) => {
                o.answered(&res);
                match res.text().await {
                    Ok(t) => body = t,
                    Err(e) => {
                        o.detail = format!("body cut off: {e}");
                        o.status = 0;
                    }
                }
                let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
                o.json_error = v["error"].as_str().map(str::to_owned);
                if o.detail.is_empty() && o.status >= 400 {
                    o.detail = body.chars().take(200).collect();
                }
            }
            Err(e) => o.detail = format!("{e:?}").chars().take(300).collect(),
        }
        o.took = self.rec.now() - start;
        self.rec.push(o.clone());
        (o, body)
    }
}

async fn pace(ctx: &Ctx, per_sec: f64) {
    tokio::time::sleep(Duration::from_secs_f64(1.0 / per_sec.max(0.1))).await;
    let _ = ctx;
}

pub async fn pages(ctx: Arc<Ctx>, rate: f64) {
    let paths = ["/", "/login"];
    let mut i = 0;
    while !ctx.stopped() {
        let req = ctx.client.get(ctx.stack.url(paths[i % paths.len()]));
        ctx.call(Kind::Page, req).await;
        i += 1;
        pace(&ctx, rate).await;
    }
}

pub async fn reads(ctx: Arc<Ctx>, rate: f64) {
    let paths = [
        "/api/chat/user-threads/th1/messages?limit=5",
        "/api/chat/user-threads",
    ];
    let mut i = 0;
    while !ctx.stopped() {
        let req = ctx.client.get(ctx.stack.url(paths[i % paths.len()]));
        ctx.call(Kind::Read, ctx.creds.apply(req, &user("u2")))
            .await;
        i += 1;
        pace(&ctx, rate).await;
    }
}

/// One send with client id `key`; acknowledged (201/200 with an id) or not.
pub async fn send_one(ctx: &Ctx, key: &str) -> Option<String> {
    ctx.rec.attempted.lock().expect("lock").push(key.to_owned());
    let req = ctx
        .client
        .post(ctx.stack.url("/api/chat/user-threads/th1/messages"))
        .json(&json!({"body": format!("soak {key}"), "clientMessageId": key}));
    let (o, body) = ctx
        .call(Kind::Send, ctx.creds.apply(req, &user("u1")))
        .await;
    if o.status != 201 && o.status != 200 {
        return None;
    }
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let id = v["message"]["id"].as_str()?.to_owned();
    ctx.rec.acks.lock().expect("lock").push(Ack {
        key: key.to_owned(),
        id: id.clone(),
        start: o.start,
        end: o.start + o.took,
    });
    Some(id)
}

pub async fn sends(ctx: Arc<Ctx>, rate: f64) {
    let mut n = 0u64;
    while !ctx.stopped() {
        send_one(&ctx, &format!("soak-{n}")).await;
        n += 1;
        pace(&ctx, rate).await;
    }
}

fn auth_form(socket_id: &str) -> [(&'static str, String); 2] {
    [
        ("socket_id", socket_id.to_owned()),
        ("channel_name", CHANNEL.to_owned()),
    ]
}

/// Every `every`, `size` concurrent channel auths (u1 and u2 alternately),
/// as many pusher-js clients reconnecting at once would send.
pub async fn auth_storms(ctx: Arc<Ctx>, size: usize, every: Duration) {
    let mut round = 0u64;
    while !ctx.stopped() {
        let storm = (0..size).map(|i| {
            let who = if i % 2 == 0 { "u1" } else { "u2" };
            let socket = format!("{}.{}", 1000 + round, i);
            let req = ctx
                .client
                .post(ctx.stack.url("/api/chat/realtime/auth"))
                .form(&auth_form(&socket));
            let req = ctx.creds.apply(req, &user(who));
            ctx.call(Kind::Auth, req)
        });
        futures::future::join_all(storm).await;
        round += 1;
        tokio::time::sleep(every).await;
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_json(ws: &mut Socket, within: Duration) -> Result<Value, String> {
    loop {
        let frame = tokio::time::timeout(within, ws.next())
            .await
            .map_err(|_| "silent".to_string())?
            .ok_or("closed")?
            .map_err(|e| e.to_string())?;
        if let Ws::Text(t) = frame {
            let v: Value = serde_json::from_str(t.as_str()).map_err(|e| e.to_string())?;
            if v["event"] == "pusher:ping" {
                let pong = json!({"event": "pusher:pong", "data": {}}).to_string();
                ws.send(Ws::text(pong)).await.map_err(|e| e.to_string())?;
                continue;
            }
            return Ok(v);
        }
    }
}

/// Connect, authorize through cutover as u2, subscribe: the socket once subscribed.
async fn subscribe(ctx: &Ctx) -> Result<Socket, String> {
    let port = ctx.stack.soketi_port();
    let url = format!("ws://127.0.0.1:{port}/app/{APP_KEY}?protocol=7&client=soak&version=1.0");
    let (mut ws, _) = tokio_tungstenite::connect_async(url)
        .await
        .map_err(|e| e.to_string())?;
    let hello = next_json(&mut ws, Duration::from_secs(5)).await?;
    let data: Value =
        serde_json::from_str(hello["data"].as_str().unwrap_or("")).unwrap_or_default();
    let socket_id = data["socket_id"].as_str().ok_or("no socket_id")?.to_owned();
    let req = ctx
        .client
        .post(ctx.stack.url("/api/chat/realtime/auth"))
        .form(&auth_form(&socket_id));
    let (o, body) = ctx
        .call(Kind::Auth, ctx.creds.apply(req, &user("u2")))
        .await;
    if o.status != 200 {
        return Err(format!("auth {}", o.status));
    }
    let auth: Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
    let mut data = json!({"channel": CHANNEL, "auth": auth["auth"]});
    if let Some(cd) = auth.get("channel_data") {
        data["channel_data"] = cd.clone();
    }
    let frame = json!({"event": "pusher:subscribe", "data": data}).to_string();
    ws.send(Ws::text(frame)).await.map_err(|e| e.to_string())?;
    let answer = next_json(&mut ws, Duration::from_secs(5)).await?;
    if answer["event"] != "pusher_internal:subscription_succeeded" {
        return Err(format!("subscribe: {answer}"));
    }
    Ok(ws)
}

/// Stays subscribed; each connection is one epoch of received events.
pub async fn subscriber(ctx: Arc<Ctx>) {
    while !ctx.stopped() {
        let Ok(mut ws) = subscribe(&ctx).await else {
            tokio::time::sleep(Duration::from_millis(300)).await;
            continue;
        };
        let idx = {
            let mut epochs = ctx.rec.epochs.lock().expect("lock");
            epochs.push(Epoch {
                subscribed: ctx.rec.now(),
                ..Epoch::default()
            });
            epochs.len() - 1
        };
        // The subscriber's own stop flag is set after the final drain (soak.rs).
        loop {
            match next_json(&mut ws, Duration::from_millis(500)).await {
                Ok(v) if v["event"] == EVENT => {
                    let data: Value =
                        serde_json::from_str(v["data"].as_str().unwrap_or("")).unwrap_or_default();
                    let id = data["id"].as_str().unwrap_or("?").to_owned();
                    ctx.rec.epochs.lock().expect("lock")[idx].events.push(id);
                }
                Ok(_) => {}
                Err(e) if e == "silent" => {
                    if ctx.stopped() {
                        return;
                    }
                }
                Err(_) => {
                    ctx.rec.epochs.lock().expect("lock")[idx].ended = Some(ctx.rec.now());
                    break;
                }
            }
        }
    }
}
