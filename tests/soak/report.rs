//! Judging the run: each failed request against the windows of the
//! components it needed, sends against the database, events against the
//! subscriptions that stayed connected, resources against the baseline, the
//! log against the faults. Returns the figures and the violations.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::record::{Epoch, Kind, Outcome, Record};
use crate::sample::Sample;
use crate::stack::READ_TIMEOUT_MS;

/// Margins after load stops, against the baseline taken after warm-up.
pub const RSS_MARGIN_KIB: u64 = 64 * 1024;
pub const FD_MARGIN: u64 = 32;
pub const THREAD_MARGIN: u64 = 4;
/// The shipped realtime-auth breaker: a 10 s error window and a 5 s cooldown.
pub const BREAKER_LAG: Duration = Duration::from_secs(15);

#[derive(Default, Debug)]
pub struct Tally {
    pub ok: u64,
    /// cutover's own 429 (the realtime-auth cap), with Retry-After.
    pub capped: u64,
    /// cutover's JSON 502/503/504 inside a window of a needed component.
    pub excused: u64,
    /// The backend's own 5xx passed through while a component it needs was down.
    pub passed_through: u64,
    /// Answers whose body the dying backend cut off (the client saw the cut).
    pub cut_mid_body: u64,
    /// The realtime-auth breaker's JSON 503, opened by a window's errors and
    /// closing within `BREAKER_LAG` after it.
    pub breaker: u64,
    pub failed: Vec<String>,
}

fn ok(o: &Outcome) -> bool {
    match o.kind {
        Kind::Page => (200..400).contains(&o.status),
        Kind::Send => o.status == 201 || o.status == 200,
        Kind::Read | Kind::Auth | Kind::Stream | Kind::Upload | Kind::Download => o.status == 200,
    }
}

fn describe(o: &Outcome) -> String {
    format!(
        "{:?} at {:.1}s took {:.1}s: {} from {} ({})",
        o.kind,
        o.start.as_secs_f64(),
        o.took.as_secs_f64(),
        o.status,
        o.backend,
        o.detail
    )
}

/// Classify every recorded request against the fault windows.
pub fn judge_requests(rec: &Record) -> (Tally, BTreeMap<String, u64>) {
    let hang = Duration::from_millis(READ_TIMEOUT_MS + 2_000);
    let mut t = Tally::default();
    let mut by_backend = BTreeMap::new();
    for o in rec.outcomes.lock().expect("lock").iter() {
        *by_backend
            .entry(format!("{:?}/{}", o.kind, o.backend))
            .or_default() += 1;
        if o.took > hang {
            t.failed.push(format!("hang: {}", describe(o)));
            continue;
        }
        if ok(o) {
            t.ok += 1;
            continue;
        }
        if o.status == 429 && o.backend == "cutover" && o.retry_after {
            t.capped += 1;
            continue;
        }
        let in_window = rec.overlapping(&o.needs(), o.start, o.start + o.took);
        let cutovers = matches!(o.status, 502..=504) && o.json_error.is_some();
        // Documented: 503 rust_backend_unavailable carries Retry-After.
        let retry_ok = o.json_error.as_deref() != Some("rust_backend_unavailable") || o.retry_after;
        let breaker = o.status == 503
            && o.backend == "cutover"
            && o.retry_after
            && o.detail.contains("\"reason\":\"breaker\"")
            && rec.overlapping(&o.needs(), o.start.saturating_sub(BREAKER_LAG), o.start);
        if in_window && cutovers && retry_ok {
            t.excused += 1;
        } else if breaker {
            t.breaker += 1;
        } else if in_window && o.status == 0 && o.detail.starts_with("body cut off") {
            t.cut_mid_body += 1;
        } else if in_window && o.status >= 500 && o.backend == "next" {
            t.passed_through += 1;
        } else {
            let why = if in_window {
                "in window, not cutover's JSON"
            } else {
                "outside any window"
            };
            t.failed.push(format!("{why}: {}", describe(o)));
        }
    }
    (t, by_backend)
}

/// Every acknowledged send stored exactly once; no key stored twice.
pub fn judge_sends(rec: &Record, stored: &HashMap<String, (i64, String)>) -> Vec<String> {
    let mut bad = Vec::new();
    for a in rec.acks.lock().expect("lock").iter() {
        match stored.get(&a.key) {
            Some((1, id)) if *id == a.id => {}
            other => bad.push(format!(
                "acknowledged send {} ({}): stored {other:?}",
                a.key, a.id
            )),
        }
    }
    for (key, (n, _)) in stored {
        if *n > 1 {
            bad.push(format!("send {key} stored {n} times"));
        }
    }
    bad
}

/// For each subscription: each send acknowledged while it was connected
/// (from its subscribe to 1 s before it ended) received exactly once, and
/// no event twice.
pub fn judge_events(rec: &Record, epochs: &[Epoch], what: &str) -> (u64, Vec<String>) {
    let acks = rec.acks.lock().expect("lock").clone();
    let mut bad = Vec::new();
    let mut checked = 0;
    for (i, e) in epochs.iter().enumerate() {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for id in &e.events {
            *counts.entry(id).or_default() += 1;
        }
        for (id, n) in &counts {
            if *n > 1 {
                bad.push(format!("{what} {i}: event {id} received {n} times"));
            }
        }
        let until = e.ended.map(|d| d.saturating_sub(Duration::from_secs(1)));
        for a in &acks {
            if a.start < e.subscribed || until.is_some_and(|u| a.end > u) {
                continue;
            }
            checked += 1;
            if !counts.contains_key(a.id.as_str()) {
                bad.push(format!(
                    "{what} {i} ({:.1}s..{:?}): event for {} ({}) lost",
                    e.subscribed.as_secs_f64(),
                    e.ended,
                    a.key,
                    a.id
                ));
            }
        }
    }
    (checked, bad)
}

/// `peak_kib`: cutover's VmHWM at the end (the true peak, not a sample).
pub fn judge_resources(
    base: &Sample,
    after: &Sample,
    peak_kib: u64,
    samples: &[Sample],
) -> Vec<String> {
    let mut bad = Vec::new();
    if peak_kib > base.rss_kib + RSS_MARGIN_KIB {
        bad.push(format!(
            "peak RSS {peak_kib} KiB (VmHWM), baseline {} KiB: more than {} MiB above",
            base.rss_kib,
            RSS_MARGIN_KIB / 1024
        ));
    }
    if after.rss_kib > base.rss_kib + RSS_MARGIN_KIB {
        bad.push(format!(
            "RSS {} KiB after, baseline {} KiB",
            after.rss_kib, base.rss_kib
        ));
    }
    if after.fds > base.fds + FD_MARGIN {
        bad.push(format!("{} fds after, baseline {}", after.fds, base.fds));
    }
    if after.threads > base.threads + THREAD_MARGIN {
        bad.push(format!(
            "{} threads after, baseline {}",
            after.threads, base.threads
        ));
    }
    for w in samples.windows(2) {
        if w[1].generation < w[0].generation {
            bad.push(format!(
                "config generation went down: {} at {:.1}s, {} at {:.1}s",
                w[0].generation,
                w[0].at.as_secs_f64(),
                w[1].generation,
                w[1].at.as_secs_f64()
            ));
        }
    }
    bad
}

/// The reload errors a broken edit causes (it is rejected, loudly).
const REJECTED: [&str; 2] = ["config rejected", "flag file rejected"];

/// Panics, and ERROR lines outside every fault window (± 2 s) — a broken
/// edit's rejection only while that edit was on disk. Returns the ERROR
/// lines per message too.
pub fn judge_log(rec: &Record, log: &str) -> (BTreeMap<String, u64>, Vec<String>) {
    let windows = rec.windows.lock().expect("lock").clone();
    let edits = rec.edits.lock().expect("lock").clone();
    let mut errors = BTreeMap::new();
    let mut bad = Vec::new();
    for line in log.lines() {
        if line.contains("panicked") {
            bad.push(format!("panic: {line}"));
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
        if v["level"] != "ERROR" {
            continue;
        }
        let message = v["message"].as_str().unwrap_or("?");
        *errors.entry(message.to_owned()).or_default() += 1;
        let at = v["timestamp"]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| {
                (t.with_timezone(&chrono::Utc) - rec.wall0)
                    .to_std()
                    .unwrap_or_default()
            });
        let slack = Duration::from_secs(2);
        let rejected =
            REJECTED.iter().any(|r| message.starts_with(r)) && v["target"] == "cutover::reload";
        let caused = at.is_some_and(|at| {
            let edit = edits
                .iter()
                .any(|(from, to)| *from <= at + slack && at <= *to + slack);
            (rejected && edit)
                || windows
                    .iter()
                    .any(|w| w.start <= at + slack && at <= w.end + slack)
        });
        if !caused {
            bad.push(format!(
                "ERROR outside the faults: {}",
                &line[..line.len().min(400)]
            ));
        }
    }
    (errors, bad)
}
