//! Long-lived Socket.IO clients through cutover: one node process
//! (tests/socketio/soak-clients.cjs) runs the real socket.io-client, N on the
//! websocket transport and a few polling-only, each sending "say" with an
//! acknowledgement every 250 ms to the Next custom server's `/chat`
//! namespace. Its report lines are recorded with their time; judged here:
//! a disconnect, a refused connect or a lost ack only inside a Next window
//! (kill → restart + grace), every client connected and acknowledged again
//! after the last one, and every message sent either acked or failed.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::procs::SIO_TOKEN;
use crate::record::{Dep, Record};
use crate::stack::SoakStack;

/// Clock slack when placing a client's report (Unix ms) in a window.
const SLACK: Duration = Duration::from_secs(1);

/// One report line and when it happened (since the soak's start).
#[derive(Clone, Debug)]
pub struct SioEvent {
    pub at: Duration,
    pub v: Value,
}

pub struct Clients {
    child: Child,
    reader: tokio::task::JoinHandle<()>,
}

fn since_start(rec: &Record, unix_ms: i64) -> Duration {
    let ms = unix_ms - rec.wall0.timestamp_millis();
    Duration::from_millis(ms.max(0) as u64)
}

/// Start `websocket` + `polling` clients against cutover.
pub fn start(stack: &SoakStack, rec: Arc<Record>, websocket: usize, polling: usize) -> Clients {
    let mut child = Command::new("node")
        .arg("soak-clients.cjs")
        .arg(stack.url(""))
        .arg(SIO_TOKEN)
        .args([websocket.to_string(), polling.to_string(), "250".into()])
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/socketio"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs tests/socketio/soak-clients.cjs (npm ci in tests/socketio)");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let reader = tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            let v: Value =
                serde_json::from_str(&line).unwrap_or(json!({"ev": "garbled", "line": line}));
            let at = v["t"]
                .as_i64()
                .map_or_else(|| rec.now(), |t| since_start(&rec, t));
            rec.sio.lock().expect("lock").push(SioEvent { at, v });
        }
    });
    Clients { child, reader }
}

impl Clients {
    /// Close the clients' stdin: they stop sending, wait for the acks in
    /// flight and report; within 30 s.
    pub async fn stop(mut self) {
        drop(self.child.stdin.take());
        let done = tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await;
        if done.is_err() {
            let _ = self.child.kill().await;
        }
        let _ = self.reader.await;
    }
}

/// The figures and the violations.
pub fn judge(rec: &Record, expected: usize) -> (Value, Vec<String>) {
    let events = rec.sio.lock().expect("lock").clone();
    let next = [Dep::Next].into();
    let in_window = |from: Duration, to: Duration| {
        rec.overlapping(&next, from.saturating_sub(SLACK), to + SLACK)
    };
    let last_window_end = rec
        .windows
        .lock()
        .expect("lock")
        .iter()
        .filter(|w| w.dep == Dep::Next)
        .map(|w| w.end)
        .max();
    let mut bad = Vec::new();
    let (mut disconnects, mut refused, mut lost) = (0u64, 0u64, 0u64);
    let mut summaries = Vec::new();
    for e in &events {
        let v = &e.v;
        let what = || format!("at {:.1}s: {v}", e.at.as_secs_f64());
        match v["ev"].as_str().unwrap_or("") {
            "connect" | "done" => {}
            "disconnect" => {
                disconnects += 1;
                if !in_window(e.at, e.at) {
                    bad.push(format!("disconnect outside a Next window {}", what()));
                }
            }
            "connect_error" => {
                refused += 1;
                if !in_window(e.at, e.at) {
                    bad.push(format!("connect refused outside a Next window {}", what()));
                }
            }
            "ack_failed" => {
                lost += 1;
                let sent = since_start(rec, v["sent"].as_i64().unwrap_or(0));
                let echo = v["why"].as_str().unwrap_or("").starts_with("echo");
                if echo || !in_window(sent, e.at) {
                    bad.push(format!("ack lost outside a Next window {}", what()));
                }
            }
            "summary" => summaries.push((e.at, v.clone())),
            _ => bad.push(format!("unexpected client report {}", what())),
        }
    }
    let sum = |k: &str| {
        summaries
            .iter()
            .map(|(_, s)| s[k].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    let clients = summaries.len() as u64;
    if summaries.len() != expected {
        bad.push(format!(
            "{expected} clients started, {clients} reported at the end"
        ));
    }
    for (_, s) in &summaries {
        let c = &s["c"];
        if s["sent"].as_u64()
            != Some(s["acked"].as_u64().unwrap_or(0) + s["failed"].as_u64().unwrap_or(0))
        {
            bad.push(format!("client {c}: sends unaccounted for: {s}"));
        }
        if s["connected"] != true || s["acked"].as_u64().unwrap_or(0) == 0 {
            bad.push(format!(
                "client {c} not connected and acknowledged at the end: {s}"
            ));
        }
        let last_ack = since_start(rec, s["last_ack"].as_i64().unwrap_or(0));
        if last_window_end.is_some_and(|end| last_ack < end) {
            bad.push(format!(
                "client {c}: no ack after the last Next window ({last_window_end:?}): {s}"
            ));
        }
    }
    let figures = json!({
        "clients": clients,
        "websocket": summaries.iter().filter(|(_, s)| s["transport"] == "websocket").count(),
        "polling": summaries.iter().filter(|(_, s)| s["transport"] == "polling").count(),
        "sent": sum("sent"),
        "acked": sum("acked"),
        "acks_lost_in_next_windows": lost,
        "disconnects": disconnects,
        "connects": sum("connects"),
        "connects_refused_in_windows": refused,
        "slowest_ack_ms": summaries.iter().map(|(_, s)| s["slowest_ack_ms"].as_u64().unwrap_or(0)).max(),
    });
    (figures, bad)
}
