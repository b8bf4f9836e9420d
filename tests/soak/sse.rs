//! An `EventSource`-like reader of `GET /api/chat/user-threads/th1/stream`
//! (u2's session cookie) through cutover: on any end it reconnects with
//! `Last-Event-ID`, as a browser does, so its whole life is one subscription
//! that must see every acknowledged send's event exactly once (a new one
//! starts only if the server answers `event: reset`).

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

use crate::harness::user;
use crate::record::{Epoch, Kind, Outcome};
use crate::traffic::Ctx;

const EVENT: &str = "tenant-user-message";

/// What one connection ended with.
enum End {
    /// Ended; resume from the last id.
    Resume,
    /// `event: reset`: the resume point is gone, a new subscription starts.
    Reset,
}

/// Open one connection; `Err` when it never got to a 200.
async fn open(ctx: &Ctx, last: &Option<String>) -> Result<reqwest::Response, ()> {
    let mut req = ctx
        .client
        .get(ctx.stack.url("/api/chat/user-threads/th1/stream"))
        .header("accept", "text/event-stream");
    if let Some(id) = last {
        req = req.header("last-event-id", id);
    }
    let req = ctx.creds.apply(req, &user("u2"));
    let start = ctx.rec.now();
    let mut o = Outcome::started(Kind::Stream, start);
    let res = tokio::time::timeout(Duration::from_secs(15), req.send()).await;
    o.took = ctx.rec.now() - start;
    let res = match res {
        Ok(Ok(res)) => res,
        Ok(Err(e)) => {
            o.detail = format!("{e:?}").chars().take(300).collect();
            ctx.rec.push(o);
            return Err(());
        }
        Err(_) => {
            o.took = Duration::from_secs(3600);
            o.detail = "no response headers within 15 s".into();
            ctx.rec.push(o);
            return Err(());
        }
    };
    o.status = res.status().as_u16();
    o.backend = res
        .headers()
        .get("x-cutover-backend")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_owned();
    o.retry_after = res.headers().contains_key("retry-after");
    if o.status == 200 {
        ctx.rec.push(o);
        return Ok(res);
    }
    let body = res.text().await.unwrap_or_default();
    let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    o.json_error = v["error"].as_str().map(str::to_owned);
    o.detail = body.chars().take(200).collect();
    ctx.rec.push(o);
    Err(())
}

/// Read frames until the stream ends (or 20 s of silence: heartbeats come
/// every 15 s); events go into `ctx.rec.sse[idx]`.
async fn read(ctx: &Ctx, res: reqwest::Response, idx: usize, last: &mut Option<String>) -> End {
    let mut body = res.bytes_stream();
    let mut buf = String::new();
    loop {
        let chunk = match tokio::time::timeout(Duration::from_secs(20), body.next()).await {
            Ok(Some(Ok(c))) => c,
            _ => return End::Resume,
        };
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let frame: String = buf.drain(..end + 2).collect();
            let (mut event, mut data) = (None, String::new());
            for line in frame.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    *last = Some(v.trim().to_owned());
                } else if let Some(v) = line.strip_prefix("event:") {
                    event = Some(v.trim().to_owned());
                } else if let Some(v) = line.strip_prefix("data:") {
                    data.push_str(v.strip_prefix(' ').unwrap_or(v));
                }
            }
            match event.as_deref() {
                Some("reset") => return End::Reset,
                Some(EVENT) => {
                    let v: Value = serde_json::from_str(&data).unwrap_or_default();
                    let id = v["id"].as_str().unwrap_or("?").to_owned();
                    ctx.rec.sse.lock().expect("lock")[idx].events.push(id);
                }
                _ => {}
            }
            if ctx.stopped() {
                return End::Resume;
            }
        }
    }
}

pub async fn reader(ctx: Arc<Ctx>) {
    let mut last: Option<String> = None;
    let mut idx: Option<usize> = None;
    while !ctx.stopped() {
        let Ok(res) = open(&ctx, &last).await else {
            tokio::time::sleep(Duration::from_millis(300)).await;
            continue;
        };
        let i = *idx.get_or_insert_with(|| {
            let mut sse = ctx.rec.sse.lock().expect("lock");
            sse.push(Epoch {
                subscribed: ctx.rec.now(),
                ..Epoch::default()
            });
            sse.len() - 1
        });
        ctx.rec.counts.lock().expect("lock").sse_connections += 1;
        if let End::Reset = read(&ctx, res, i, &mut last).await {
            ctx.rec.sse.lock().expect("lock")[i].ended = Some(ctx.rec.now());
            idx = None;
            last = None;
        }
    }
}
