//! What the soak remembers: every request's outcome (when, how long, which
//! backend answered and so which components it needed), every fault window,
//! every acknowledged send and every event a subscriber received, every
//! large transfer's bytes checked, and what the Socket.IO clients saw.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A component a request can need.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dep {
    Next,
    Postgres,
    Redis,
    Soketi,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Page,
    Read,
    Send,
    Auth,
    /// An SSE stream's opening (its answer, not its life).
    Stream,
    /// A multi-MiB `POST` to the custom server's upload endpoint (pass-through).
    Upload,
    /// A multi-MiB WhatsApp media file (`GET /api/whatsapp/media/{id}`).
    Download,
}

#[derive(Clone, Debug)]
pub struct Outcome {
    pub kind: Kind,
    pub start: Duration,
    pub took: Duration,
    /// 0: no response (transport error or client timeout).
    pub status: u16,
    /// `x-cutover-backend` (`next`, `rust`, `cutover`) or `-`.
    pub backend: String,
    /// The body's `error` field when the body is JSON with one.
    pub json_error: Option<String>,
    pub retry_after: bool,
    pub detail: String,
}

impl Outcome {
    /// Status, backend and `Retry-After` of the answer `res`.
    pub fn answered(&mut self, res: &reqwest::Response) {
        self.status = res.status().as_u16();
        let h = res.headers();
        self.backend = h
            .get("x-cutover-backend")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned();
        self.retry_after = h.contains_key("retry-after");
    }

    /// A request of `kind` started at `start`, nothing heard yet.
    pub fn started(kind: Kind, start: Duration) -> Outcome {
        Outcome {
            kind,
            start,
            took: Duration::ZERO,
            status: 0,
            backend: "-".into(),
            json_error: None,
            retry_after: false,
            detail: String::new(),
        }
    }

    /// The components this request needed, from the side that answered.
    pub fn needs(&self) -> BTreeSet<Dep> {
        let mut deps: BTreeSet<Dep> = match (self.kind, self.backend.as_str()) {
            (Kind::Page | Kind::Upload, _) => [Dep::Next].into(),
            (_, "rust") => [Dep::Postgres].into(),
            (_, "next") => [Dep::Next, Dep::Postgres].into(),
            _ => [Dep::Next, Dep::Postgres].into(),
        };
        if self.kind == Kind::Send {
            deps.insert(Dep::Soketi);
        }
        deps
    }
}

/// A time a component was down (or made slow), plus the recovery grace.
#[derive(Clone, Debug)]
pub struct Window {
    pub dep: Dep,
    pub what: String,
    pub start: Duration,
    pub end: Duration,
}

#[derive(Clone, Debug)]
pub struct Ack {
    pub key: String,
    pub id: String,
    pub start: Duration,
    pub end: Duration,
}

/// One subscription that stayed connected from `subscribed` to `ended`.
#[derive(Clone, Debug, Default)]
pub struct Epoch {
    pub subscribed: Duration,
    pub ended: Option<Duration>,
    /// Message ids of the events received, in order.
    pub events: Vec<String>,
}

pub struct Record {
    pub t0: Instant,
    pub wall0: chrono::DateTime<chrono::Utc>,
    pub outcomes: Mutex<Vec<Outcome>>,
    pub windows: Mutex<Vec<Window>>,
    pub acks: Mutex<Vec<Ack>>,
    /// Every send attempted (acknowledged or not), by client id.
    pub attempted: Mutex<Vec<String>>,
    pub epochs: Mutex<Vec<Epoch>>,
    /// The SSE reader's subscriptions (one, unless the server said `reset`).
    pub sse: Mutex<Vec<Epoch>>,
    /// Problems seen while running (broken edit accepted, …).
    pub problems: Mutex<Vec<String>>,
    /// When each broken edit was on disk (written .. fixed).
    pub edits: Mutex<Vec<(Duration, Duration)>>,
    /// Transfers whose bytes arrived whole but differ (length or SHA-256).
    pub corrupt: Mutex<Vec<String>>,
    /// What the Socket.IO clients reported (tests/soak/sockets.rs).
    pub sio: Mutex<Vec<crate::sockets::SioEvent>>,
    pub counts: Mutex<Counts>,
}

#[derive(Clone, Debug, Default)]
pub struct Counts {
    pub flips: u64,
    pub broken_edits: u64,
    pub sighups: u64,
    pub sse_connections: u64,
    /// Bytes moved by complete, checked uploads and downloads.
    pub transfer_bytes: u64,
    pub faults: Vec<String>,
}

impl Record {
    pub fn new() -> Record {
        Record {
            t0: Instant::now(),
            wall0: chrono::Utc::now(),
            outcomes: Mutex::default(),
            windows: Mutex::default(),
            acks: Mutex::default(),
            attempted: Mutex::default(),
            epochs: Mutex::default(),
            sse: Mutex::default(),
            problems: Mutex::default(),
            corrupt: Mutex::default(),
            edits: Mutex::default(),
            sio: Mutex::default(),
            counts: Mutex::default(),
        }
    }

    pub fn now(&self) -> Duration {
        self.t0.elapsed()
    }

    pub fn push(&self, o: Outcome) {
        self.outcomes.lock().expect("lock").push(o);
    }

    pub fn problem(&self, p: String) {
        eprintln!("soak: {p}");
        self.problems.lock().expect("lock").push(p);
    }

    pub fn window(&self, dep: Dep, what: &str, start: Duration, end: Duration) {
        self.windows.lock().expect("lock").push(Window {
            dep,
            what: what.to_owned(),
            start,
            end,
        });
        self.counts
            .lock()
            .expect("lock")
            .faults
            .push(what.to_owned());
    }

    /// The windows of `deps` that overlap `[start, end]`.
    pub fn overlapping(&self, deps: &BTreeSet<Dep>, start: Duration, end: Duration) -> bool {
        self.windows
            .lock()
            .expect("lock")
            .iter()
            .any(|w| deps.contains(&w.dep) && w.start <= end && start <= w.end)
    }
}
