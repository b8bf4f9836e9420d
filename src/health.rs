//! Backend health: what cutover has seen of each backend it depends on.
//!
//! Four backends at most: `next`, `rust` and, for the embedded handlers,
//! their dependencies `database` and `soketi`. Evidence comes from real
//! requests ([`passive`]: the proxy's upstream errors, the handlers'
//! dependency failures) and, where configured, from background checks
//! ([`probe`]: next's `health_path`, `SELECT 1` on the handlers' pool, a GET
//! of Soketi). A backend with an active check is marked up only by that
//! check; requests can still mark it down at once.
//!
//! Owned by the proxy and the admin (one `Arc<Health>` per process); shown at
//! `/-/backends`, in `/-/config` and `/-/ready`, and as
//! `cutover_backend_up{backend}`. A state change is logged once (up → down,
//! down → up), never once per failed request. Readiness never depends on it:
//! see the README's "Health and readiness".

pub mod passive;
pub mod probe;

use std::collections::VecDeque;
use std::sync::Mutex;

use serde_json::{Value, json};

/// How far back `errors_recent` counts.
pub const ERROR_WINDOW_SECS: u64 = 60;
/// Error timestamps kept per backend (enough to count a busy minute's worth roughly).
const MAX_RECENT: usize = 1024;

/// A backend cutover watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Next,
    Rust,
    Database,
    Soketi,
}

impl Backend {
    pub const ALL: [Backend; 4] = [
        Backend::Next,
        Backend::Rust,
        Backend::Database,
        Backend::Soketi,
    ];

    /// The label value (`cutover_backend_up{backend}`) and JSON key.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Next => "next",
            Backend::Rust => "rust",
            Backend::Database => "database",
            Backend::Soketi => "soketi",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// What is known of a backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum State {
    /// Nothing seen yet.
    #[default]
    Unknown,
    Up,
    Down,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Unknown => "unknown",
            State::Up => "up",
            State::Down => "down",
        }
    }
}

/// One piece of bad news about a backend.
#[derive(Debug, Clone)]
pub struct Failure {
    /// Short code: `connect`, `timeout`, `unreachable`, `probe`, …
    pub kind: &'static str,
    /// What happened, for a person (never credentials).
    pub reason: String,
    /// Whether this alone means the backend is down (it cannot be reached),
    /// rather than one slow or cut-off response.
    pub down: bool,
}

#[derive(Debug, Default)]
struct Entry {
    configured: bool,
    /// An active check decides `up`.
    probed: bool,
    state: State,
    reason: Option<String>,
    /// Unix seconds of the last state change (0: never changed).
    since: u64,
    last_error: Option<(Failure, u64)>,
    recent: VecDeque<u64>,
    /// Unix seconds and outcome of the last active check.
    last_probe: Option<(u64, bool)>,
}

impl Entry {
    fn errors_recent(&self, now: u64) -> usize {
        self.recent
            .iter()
            .filter(|t| now.saturating_sub(**t) < ERROR_WINDOW_SECS)
            .count()
    }
}

/// Health of every backend of this process.
#[derive(Debug, Default)]
pub struct Health {
    entries: [Mutex<Entry>; 4],
}

impl Health {
    pub fn new() -> Health {
        Health::default()
    }

    fn entry(&self, b: Backend) -> std::sync::MutexGuard<'_, Entry> {
        // A panic while holding the lock leaves plain data: keep using it.
        self.entries[b.index()]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Show `b` (`probed`: an active check decides when it is up).
    pub fn configure(&self, b: Backend, probed: bool) {
        let mut e = self.entry(b);
        e.configured = true;
        e.probed = probed;
    }

    /// Hide `b` (not a dependency of this deployment).
    pub fn unconfigure(&self, b: Backend) {
        *self.entry(b) = Entry::default();
    }

    /// Whether an active check currently decides `b`'s state.
    pub fn set_probed(&self, b: Backend, probed: bool) {
        self.entry(b).probed = probed;
    }

    /// Set the state outright (the embedded handlers are up by being here,
    /// or down for want of configuration).
    pub fn set(&self, b: Backend, state: State, reason: Option<String>, now: u64) {
        let mut e = self.entry(b);
        transition(b, &mut e, state, reason, now, Log::Yes);
    }

    /// A response came back from `b` (any status: it is reachable).
    /// Ignored while an active check decides `b`'s state.
    pub fn success(&self, b: Backend, now: u64) {
        self.observe(b, None, now, Log::Yes);
    }

    /// Something failed talking to `b`.
    pub fn failure(&self, b: Backend, f: Failure, now: u64) {
        self.observe(b, Some(f), now, Log::Yes);
    }

    /// What a proxied request saw of `b` (`None`: a response came back).
    /// Returns the new state when this changed it; the caller logs it (the
    /// proxy folds it into the request's access line).
    pub fn observe_request(&self, b: Backend, f: Option<Failure>, now: u64) -> Option<State> {
        self.observe(b, f, now, Log::No)
    }

    fn observe(&self, b: Backend, f: Option<Failure>, now: u64, log: Log) -> Option<State> {
        let mut e = self.entry(b);
        let Some(f) = f else {
            if e.probed || e.state == State::Up {
                return None;
            }
            return transition(b, &mut e, State::Up, None, now, log);
        };
        e.recent.push_back(now);
        while e.recent.len() > MAX_RECENT
            || e.recent
                .front()
                .is_some_and(|t| now.saturating_sub(*t) >= ERROR_WINDOW_SECS)
        {
            e.recent.pop_front();
        }
        let changed = if f.down {
            transition(b, &mut e, State::Down, Some(f.reason.clone()), now, log)
        } else {
            None
        };
        e.last_error = Some((f, now));
        changed
    }

    /// The outcome of an active check of `b`.
    pub fn probed(&self, b: Backend, outcome: Result<(), String>, now: u64) {
        self.entry(b).last_probe = Some((now, outcome.is_ok()));
        match outcome {
            Ok(()) => {
                let mut e = self.entry(b);
                transition(b, &mut e, State::Up, None, now, Log::Yes);
            }
            Err(reason) => self.failure(
                b,
                Failure {
                    kind: "probe",
                    reason,
                    down: true,
                },
                now,
            ),
        }
    }

    /// `b`'s state and reason.
    pub fn state(&self, b: Backend) -> (State, Option<String>) {
        let e = self.entry(b);
        (e.state, e.reason.clone())
    }

    /// Configured backends that are down: `(name, reason)`.
    pub fn unhealthy(&self) -> Vec<(&'static str, String)> {
        Backend::ALL
            .iter()
            .filter_map(|b| {
                let e = self.entry(*b);
                (e.configured && e.state == State::Down)
                    .then(|| (b.as_str(), e.reason.clone().unwrap_or_default()))
            })
            .collect()
    }

    /// `{"next": {"state": "up|down|unknown", "reason", "since", "last_error",
    /// "errors_recent", "last_probe"}, …}`; backends not configured are left out.
    pub fn to_json(&self) -> Value {
        let now = crate::proxy::unix_now();
        let mut out = serde_json::Map::new();
        for b in Backend::ALL {
            let e = self.entry(b);
            if !e.configured {
                continue;
            }
            let last_error = e
                .last_error
                .as_ref()
                .map(|(f, at)| json!({ "kind": f.kind, "reason": f.reason, "at": at }));
            let last_probe = e.last_probe.map(|(at, ok)| json!({ "at": at, "ok": ok }));
            out.insert(
                b.as_str().to_string(),
                json!({
                    "state": e.state.as_str(),
                    "reason": e.reason,
                    "since": (e.since > 0).then_some(e.since),
                    "last_error": last_error,
                    "errors_recent": e.errors_recent(now),
                    "errors_window_secs": ERROR_WINDOW_SECS,
                    "active_check": e.probed,
                    "last_probe": last_probe,
                }),
            );
        }
        Value::Object(out)
    }

    /// Set `cutover_backend_up{backend}`: 1 up, 0 down; no series while
    /// unknown or not configured.
    pub fn export(&self, gauge: &prometheus::IntGaugeVec) {
        for b in Backend::ALL {
            let e = self.entry(b);
            match (e.configured, e.state) {
                (true, State::Up) => gauge.with_label_values(&[b.as_str()]).set(1),
                (true, State::Down) => gauge.with_label_values(&[b.as_str()]).set(0),
                _ => {
                    let _ = gauge.remove_label_values(&[b.as_str()]);
                }
            }
        }
    }
}

/// Whether [`transition`] writes its own log line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Log {
    Yes,
    No,
}

/// Change state, logging the change once; returns the new state if it changed.
fn transition(
    b: Backend,
    e: &mut Entry,
    to: State,
    reason: Option<String>,
    now: u64,
    log: Log,
) -> Option<State> {
    let from = e.state;
    if from == to {
        // Same state, maybe a fresher reason; no log line.
        if to == State::Down {
            e.reason = reason;
        }
        return None;
    }
    e.state = to;
    e.reason = reason;
    e.since = now;
    if !e.configured || log == Log::No {
        return Some(to);
    }
    let backend = b.as_str();
    match to {
        State::Down => tracing::warn!(
            backend,
            from = from.as_str(),
            reason = e.reason.as_deref().unwrap_or(""),
            "backend down (logged once; see /-/backends)"
        ),
        State::Up if from == State::Down => {
            tracing::info!(backend, "backend up again");
        }
        State::Up | State::Unknown => {}
    }
    Some(to)
}

#[cfg(test)]
mod tests;
