//! The diff log behind `/-/diffs?route=…`: per route a bounded ring of recent
//! mismatches, sampled (the first `keep_first`, then one in `sample_every`),
//! with bodies truncated and secrets redacted when recorded — a secret never
//! sits in memory longer than the request that carried it.

use super::redact::{redact_json, redact_path, redact_text, truncate};
use super::{Category, CompareKind};
use bytes::Bytes;
use serde_json::{Value, json};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Bounds of a [`DiffLog`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DiffLogLimits {
    /// Entries kept per route (oldest dropped first).
    pub per_route: usize,
    /// Routes tracked; mismatches of further routes are not logged.
    pub max_routes: usize,
    /// Every mismatch is kept until a route has seen this many.
    pub keep_first: u64,
    /// After that, one mismatch in this many is kept (1 = all).
    pub sample_every: u64,
    /// Bytes of each body kept (after redaction).
    pub max_body_bytes: usize,
}

impl Default for DiffLogLimits {
    fn default() -> Self {
        DiffLogLimits {
            per_route: 50,
            max_routes: 256,
            keep_first: 20,
            sample_every: 10,
            max_body_bytes: 4096,
        }
    }
}

/// One mismatch as the proxy glue reports it (raw; redacted on record).
#[derive(Clone)]
pub struct DiffEntry {
    pub at: SystemTime,
    pub method: String,
    /// Request path; the query string is dropped on record.
    pub path: String,
    pub kind: CompareKind,
    pub category: Category,
    /// The verdict's detail (already redacted by `compare`).
    pub detail: String,
    pub primary_backend: &'static str,
    pub other_backend: &'static str,
    pub primary_status: u16,
    pub other_status: u16,
    pub primary_body: Bytes,
    pub other_body: Bytes,
}

/// Debug shows no bodies: they may hold secrets.
impl std::fmt::Debug for DiffEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiffEntry")
            .field("method", &self.method)
            .field("path", &redact_path(&self.path))
            .field("category", &self.category)
            .field("primary_status", &self.primary_status)
            .field("other_status", &self.other_status)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct RouteLog {
    seen: u64,
    entries: VecDeque<Value>,
}

/// Thread-safe; one per process, shared by the proxy and the admin endpoint.
pub struct DiffLog {
    limits: DiffLogLimits,
    routes: Mutex<HashMap<String, RouteLog>>,
}

impl DiffLog {
    pub fn new(limits: DiffLogLimits) -> Self {
        DiffLog {
            limits,
            routes: Mutex::new(HashMap::new()),
        }
    }

    /// Counts the mismatch and keeps it if the sampling says so.
    pub fn record(&self, route: &str, entry: DiffEntry) {
        let lim = self.limits;
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        if !routes.contains_key(route) && routes.len() >= lim.max_routes {
            return;
        }
        let log = routes.entry(route.to_string()).or_default();
        log.seen += 1;
        let keep = log.seen <= lim.keep_first
            || (log.seen - lim.keep_first).is_multiple_of(lim.sample_every.max(1));
        if !keep || lim.per_route == 0 {
            return;
        }
        if log.entries.len() >= lim.per_route {
            log.entries.pop_front();
        }
        log.entries
            .push_back(render(&entry, log.seen, lim.max_body_bytes));
    }

    /// Mismatches of `route` seen so far, and the `n` most frequent places
    /// they differ at among the entries kept (most frequent first, then by
    /// name). Places never hold values: see `place_of`.
    pub fn top_places(&self, route: &str, n: usize) -> (u64, Vec<(String, u64)>) {
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let Some(log) = routes.get(route) else {
            return (0, Vec::new());
        };
        let mut counts: HashMap<String, u64> = HashMap::new();
        for e in &log.entries {
            *counts.entry(place_of(e)).or_default() += 1;
        }
        let mut top: Vec<(String, u64)> = counts.into_iter().collect();
        top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        top.truncate(n);
        (log.seen, top)
    }

    /// `{"routes": {route: {"seen": n, "entries": [..newest last]}}}`, for one
    /// route when `route` is given (an unknown route gives an empty object).
    pub fn to_json(&self, route: Option<&str>) -> Value {
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let mut names: Vec<&String> = routes
            .keys()
            .filter(|r| route.is_none_or(|want| want == r.as_str()))
            .collect();
        names.sort();
        let mut out = serde_json::Map::new();
        for name in names {
            if let Some(log) = routes.get(name) {
                out.insert(
                    name.clone(),
                    json!({ "seen": log.seen, "entries": Vec::from(log.entries.clone()) }),
                );
            }
        }
        json!({ "routes": out })
    }
}

/// Where a kept mismatch differs, without any value: the JSON pointer of
/// the first differing body value (array indices as `*`), `header NAME`,
/// `body (not JSON)`, or the category.
fn place_of(entry: &Value) -> String {
    let category = entry["category"].as_str().unwrap_or("unknown");
    let detail = entry["detail"].as_str().unwrap_or("");
    let before_colon = |s: &str| s.split(": ").next().unwrap_or("").to_string();
    if let Some(rest) = detail.strip_prefix("body /") {
        let pointer = before_colon(rest);
        let segs: Vec<&str> = pointer
            .split('/')
            .map(|seg| {
                if !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_digit()) {
                    "*"
                } else {
                    seg
                }
            })
            .collect();
        return redact_text(&format!("/{}", segs.join("/")));
    }
    if detail.starts_with("body digest") {
        return "body (not JSON)".to_string();
    }
    if let Some(rest) = detail.strip_prefix("header ") {
        return redact_text(&format!("header {}", before_colon(rest)));
    }
    category.to_string()
}

fn render(e: &DiffEntry, seq: u64, max_body: usize) -> Value {
    let unix_ms =
        e.at.duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
    let (pb, pt) = body_text(&e.primary_body, max_body);
    let (ob, ot) = body_text(&e.other_body, max_body);
    json!({
        "seq": seq,
        "unix_ms": unix_ms,
        "method": e.method,
        "path": redact_path(&e.path),
        "kind": e.kind.as_str(),
        "category": e.category.as_str(),
        "detail": redact_text(&e.detail),
        "primary": { "backend": e.primary_backend, "status": e.primary_status,
                     "body": pb, "body_truncated": pt },
        "other": { "backend": e.other_backend, "status": e.other_status,
                   "body": ob, "body_truncated": ot },
    })
}

/// Redacted, truncated text of a body; binary bodies are summarised.
fn body_text(body: &[u8], max: usize) -> (String, bool) {
    let mut text = match serde_json::from_slice::<Value>(body) {
        Ok(mut v) => {
            redact_json(&mut v);
            v.to_string()
        }
        Err(_) => match std::str::from_utf8(body) {
            Ok(s) => redact_text(s),
            // A body cut by the capture cap in the middle of a character.
            Err(e) if e.error_len().is_none() => {
                redact_text(&String::from_utf8_lossy(&body[..e.valid_up_to()]))
            }
            Err(_) => format!("<{} bytes of binary>", body.len()),
        },
    };
    let cut = truncate(&mut text, max);
    (text, cut)
}

#[cfg(test)]
mod tests;
