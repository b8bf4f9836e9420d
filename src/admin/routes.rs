//! `/-/routes`: every route's live state as one JSON document, the data
//! behind the status page (`ui`) and `cutover status`: stage, configured
//! side or canary percent, flag file status, guard state and last trip
//! reason, per-side requests/s, error ratio and p99 over the judge window,
//! shadow mismatch ratio and the places answers differ most often (redacted:
//! JSON pointers and header names, never values), fallback budget spent; the
//! config generation, last reload, last rejected flag edit and the backends.
//! Read-only over the live state; never secrets (backend URLs lose any
//! user:password).

use std::time::{Duration, Instant};

use prometheus::IntCounterVec;
use prometheus::core::Collector;
use serde_json::{Value, json};

use super::Admin;
use crate::judge::{SideSummary, Stage};

/// Places listed per route (the most frequent first).
const TOP_PLACES: usize = 3;

/// `/-/routes` as an HTTP response (live data: never cached).
pub fn response(a: &Admin, now: Instant) -> http::Response<Vec<u8>> {
    let body = routes_json(a, now).to_string().into_bytes();
    let mut r = super::reply(200, "application/json", body);
    r.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    r
}

/// The whole document, as of `now`.
pub fn routes_json(a: &Admin, now: Instant) -> Value {
    let snap = a.live.load();
    let report = a.live.flag_report();
    let cfg = &snap.config;
    let routes: Vec<Value> = cfg
        .routes
        .iter()
        .map(|r| {
            let id = r.id.as_str();
            let flag = cfg.flag(&r.id);
            let rust_percent = flag.map_or(0, |f| f.rust_percent());
            let shadow_percent = flag.map_or(0, |f| f.shadow_percent());
            let trip = a.guard.trip_reason(cfg, &r.id);
            let settings = cfg.route_shadow(&r.id);
            let stage = Stage::of(rust_percent, shadow_percent, trip.is_some());
            let flag_file = match report.for_route(id) {
                Some(b) => super::bad_file_json(b),
                None => json!({
                    "valid": true,
                    "file": flag.map(|f| f.source.display().to_string()),
                }),
            };
            let guard = match (settings.and_then(|s| s.guard), &trip) {
                (None, _) => json!({ "state": "off" }),
                (Some(_), Some(reason)) => {
                    json!({ "state": "tripped", "reason": reason.to_string() })
                }
                (Some(_), None) => json!({ "state": "armed" }),
            };
            let window = a.guard.judge.summary(id, now).map(|s| {
                json!({
                    "seconds": s.window.as_secs_f64(),
                    "next": side_json(&s.next, s.window),
                    "rust": side_json(&s.rust, s.window),
                })
            });
            let fallback = settings.and_then(|s| s.fallback).map(|policy| {
                let (requests, fallbacks) = a.guard.budget.usage(id, now).unwrap_or((0, 0));
                let allowed = policy.ratio * requests as f64;
                json!({
                    "ratio": policy.ratio,
                    "window_seconds": policy.window.as_secs_f64(),
                    "requests": requests,
                    "fallbacks": fallbacks,
                    "spent": if allowed > 0.0 { fallbacks as f64 / allowed } else { 0.0 },
                })
            });
            json!({
                "id": id,
                "path": r.pattern.as_str(),
                "stage": stage.as_str(),
                "side": side_label(rust_percent),
                "rust_percent": rust_percent,
                "shadow_percent": shadow_percent,
                "flag": flag.map_or_else(|| "next (no flag)".to_string(), |f| f.describe()),
                "flag_file": flag_file,
                "guard": guard,
                "window": window,
                "shadow": shadow_json(a, id),
                "fallback": fallback,
            })
        })
        .collect();
    let config = super::config_json(&snap, &report);
    let orphans: Vec<Value> = report
        .bad
        .iter()
        .filter(|b| b.problem.orphan)
        .map(super::bad_file_json)
        .collect();
    let now_unix = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    json!({
        "now_unix": now_unix,
        "generation": snap.generation,
        // Equal on replicas that apply the same flag files (compare across
        // replicas; the generation counts this replica's reloads only).
        "flags_fingerprint": hex::encode(snap.config.flags_fingerprint()),
        "instance": snap.config.live.instance,
        "last_reload_unix": a.metrics.last_success.get(),
        "reload_failures": counter(&a.metrics.reloads, &[("result", "failure")]),
        "last_rejected_flag_edit": config["flag_files_last_error"],
        "last_rejected_config_edit": a.live.last_rejected().map(|r| json!({
            "error": r.error,
            "since": r.at,
            "in_force_generation": r.generation,
            "still_rejected": r.generation == snap.generation,
        })),
        "orphan_flag_files": orphans,
        "backends": backends_json(&config["backends"], &a.health.to_json()),
        "routes": routes,
    })
}

/// `next`, `rust` or `canary N%`: who answers, as configured.
fn side_label(rust_percent: u8) -> String {
    match rust_percent {
        0 => "next".to_string(),
        100.. => "rust".to_string(),
        p => format!("canary {p}%"),
    }
}

fn side_json(s: &SideSummary, window: Duration) -> Value {
    let secs = window.as_secs_f64().max(0.001);
    json!({
        "requests": s.requests,
        "errors": s.errors,
        "rps": s.requests as f64 / secs,
        "error_ratio": if s.requests == 0 { 0.0 } else { s.errors as f64 / s.requests as f64 },
        "p99_ms": s.p99.as_secs_f64() * 1e3,
    })
}

/// Cross comparisons since start, the mismatches among them, and where the
/// kept mismatches differ most often.
fn shadow_json(a: &Admin, route: &str) -> Value {
    let m = &a.metrics;
    let cross = [("route", route), ("kind", "cross")];
    let compared = counter(&m.shadow_compared, &cross);
    let mismatched = counter(&m.shadow_mismatches, &cross);
    let (_, top) = a.diffs.top_places(route, TOP_PLACES);
    let places: Vec<Value> = top
        .into_iter()
        .map(|(place, count)| json!({ "place": place, "count": count }))
        .collect();
    json!({
        "compared": compared,
        "mismatches": mismatched,
        "mismatch_ratio": if compared == 0 { 0.0 } else { mismatched as f64 / compared as f64 },
        "top_places": places,
    })
}

/// Sum of a counter's series whose labels include every `want` pair. Reads
/// the collected values, so no series is created.
fn counter(vec: &IntCounterVec, want: &[(&str, &str)]) -> u64 {
    vec.collect()
        .iter()
        .flat_map(|family| family.get_metric())
        .filter(|m| {
            want.iter().all(|(k, v)| {
                m.get_label()
                    .iter()
                    .any(|l| l.name() == *k && l.value() == *v)
            })
        })
        .map(|m| m.get_counter().value() as u64)
        .sum()
}

/// Each backend: `/-/config`'s URL (any user:password removed) for next
/// and rust, and what `crate::health` knows (`state`, `reason`,
/// `errors_recent`) for every backend it watches (also the embedded
/// handlers' database and soketi).
fn backends_json(urls: &Value, health: &Value) -> Value {
    let strip = |v: &Value| match v.as_str().map(url::Url::parse) {
        Some(Ok(mut u)) if !u.username().is_empty() || u.password().is_some() => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            json!(u.as_str())
        }
        _ => v.clone(),
    };
    let mut out = serde_json::Map::new();
    for name in ["next", "rust", "database", "soketi"] {
        let (url, h) = (&urls[name], &health[name]);
        if url.is_null() && h.is_null() {
            continue;
        }
        out.insert(
            name.to_string(),
            json!({
                "url": strip(url),
                "state": h["state"],
                "reason": h["reason"],
                "errors_recent": h["errors_recent"],
            }),
        );
    }
    Value::Object(out)
}
