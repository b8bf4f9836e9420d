//! A minimal EventSource for the stream tests: connects, parses SSE frames,
//! remembers the last `id:` (an `id:` without data counts, as in the spec),
//! reconnects after the server's `retry:` hint with `Last-Event-ID`, and
//! records every event it dispatched, the backend that served each
//! connection (`x-cutover-backend`) and how many connections it made.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

#[derive(Default)]
struct State {
    events: Vec<(i64, String)>,
    last: Option<i64>,
    opened: bool,
    backend: String,
    connections: usize,
    /// When each connection was answered.
    connected_at: Vec<Instant>,
    /// When the request of each answered connection was sent: the
    /// client's reconnect, before the server's time to answer.
    attempted_at: Vec<Instant>,
}

/// One running client; dropping it stops it.
pub struct Progress {
    state: Arc<Mutex<State>>,
    task: JoinHandle<()>,
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Progress {
    /// Whether the first frame of a stream arrived.
    pub fn opened(&self) -> bool {
        self.state.lock().unwrap().opened
    }

    /// `(id, data)` of every event dispatched, in arrival order.
    pub fn events(&self) -> Vec<(i64, String)> {
        self.state.lock().unwrap().events.clone()
    }

    /// The backend of the current (or last) connection.
    pub fn backend(&self) -> String {
        self.state.lock().unwrap().backend.clone()
    }

    pub fn connections(&self) -> usize {
        self.state.lock().unwrap().connections
    }

    /// When each of its connections was answered, in order.
    pub fn connected_at(&self) -> Vec<Instant> {
        self.state.lock().unwrap().connected_at.clone()
    }

    /// When each of its answered connections was asked for, in order.
    pub fn attempted_at(&self) -> Vec<Instant> {
        self.state.lock().unwrap().attempted_at.clone()
    }
}

/// Start a client on `url` (its credentials in the query).
pub fn spawn(url: String) -> Progress {
    spawn_with(url, None)
}

/// Start a client on `url` sending `header` (e.g. a session cookie).
pub fn spawn_with(url: String, header: Option<(&'static str, String)>) -> Progress {
    let state = Arc::new(Mutex::new(State::default()));
    let task = tokio::spawn(run(url, header, state.clone()));
    Progress { state, task }
}

async fn run(url: String, header: Option<(&'static str, String)>, state: Arc<Mutex<State>>) {
    let http = reqwest::Client::new();
    let mut retry = Duration::from_millis(200);
    loop {
        let last = state.lock().unwrap().last;
        let mut req = http.get(&url).header("accept", "text/event-stream");
        if let Some((name, value)) = &header {
            req = req.header(*name, value);
        }
        if let Some(id) = last {
            req = req.header("last-event-id", id.to_string());
        }
        let attempted = Instant::now();
        if let Ok(mut res) = req.send().await
            && res.status().is_success()
        {
            {
                let mut s = state.lock().unwrap();
                s.connections += 1;
                s.connected_at.push(Instant::now());
                s.attempted_at.push(attempted);
                s.backend = res
                    .headers()
                    .get("x-cutover-backend")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string();
            }
            let mut buf = String::new();
            while let Ok(Some(chunk)) = res.chunk().await {
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find("\n\n") {
                    let frame: String = buf.drain(..end + 2).collect();
                    if let Some(ms) = dispatch(&frame, &state) {
                        retry = Duration::from_millis(ms);
                    }
                }
            }
        }
        tokio::time::sleep(retry).await;
    }
}

/// Apply one frame; returns its `retry:` value.
fn dispatch(frame: &str, state: &Mutex<State>) -> Option<u64> {
    let (mut id, mut event, mut data, mut retry) = (None, None, None, None);
    for line in frame.lines() {
        match line.split_once(": ") {
            Some(("id", v)) => id = v.parse::<i64>().ok(),
            Some(("event", v)) => event = Some(v.to_string()),
            Some(("data", v)) => data = Some(v.to_string()),
            Some(("retry", v)) => retry = v.parse().ok(),
            _ => {}
        }
    }
    let mut s = state.lock().unwrap();
    if let Some(id) = id {
        s.last = Some(id);
        s.opened = true;
        if let (Some(_), Some(data)) = (event, data) {
            s.events.push((id, data));
        }
    }
    retry
}
