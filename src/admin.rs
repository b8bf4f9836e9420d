//! The admin listener (its own port): `/` (the endpoint list), `/metrics`,
//! `/-/health`, `/-/ready`, `/-/config`, `/-/backends` (backend health,
//! `admin/backends.rs`), `/-/diffs?route=…` (recent shadow mismatches,
//! redacted; an unknown route is a 404 naming the known ones). A
//! Pingora `ServeHttp` app, so a graceful upgrade hands its socket over like
//! the proxy's. Never shows secrets. `/-/routes` (every route's live state,
//! `admin/routes.rs`) and the status page `/-/ui` over it (`admin/ui.rs`).

use std::sync::Arc;

use async_trait::async_trait;
use http::Response;
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;
use serde_json::{Value, json};

use crate::config::RustBackend;
use crate::metrics::Metrics;
use crate::proxy::caps::CapState;
use crate::reload::{FlagReport, Live, Snapshot};

mod backends;
mod routes;
mod ui;

pub struct Admin {
    /// Backend health, served at `/-/backends` and in `/-/ready`, `/-/config`.
    pub health: Arc<crate::health::Health>,
    pub live: Arc<Live>,
    pub metrics: Arc<Metrics>,
    pub caps: Arc<CapState>,
    /// Store fallbacks already exported as a counter.
    pub cap_fallbacks_seen: std::sync::atomic::AtomicU64,
    /// Recent shadow mismatches, served at `/-/diffs?route=…`.
    pub diffs: Arc<crate::shadow::DiffLog>,
    /// Judge windows, trip latch and fallback budgets (read by `/-/routes`).
    pub guard: Arc<crate::proxy::guard::GuardState>,
}

#[async_trait]
impl ServeHttp for Admin {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let path = session.req_header().uri.path().to_string();
        match path.as_str() {
            "/metrics" => {
                crate::proxy::caps::export(&self.caps, &self.metrics, &self.cap_fallbacks_seen);
                self.health.export(&self.metrics.backend_up);
                reply(
                    200,
                    "text/plain; version=0.0.4",
                    self.metrics.render().into_bytes(),
                )
            }
            "/-/health" => reply(200, "application/json", br#"{"status":"ok"}"#.to_vec()),
            "/-/ready" => {
                let mut body = ready_json(&self.live.load(), &self.live.flag_report());
                backends::add_to_ready(&mut body, &self.health);
                reply(200, "application/json", body.to_string().into_bytes())
            }
            "/-/backends" => {
                let body = backends::backends_json(&self.health);
                reply(200, "application/json", body.to_string().into_bytes())
            }
            "/" => reply(200, "application/json", index().to_string().into_bytes()),
            "/-/routes" => routes::response(self, std::time::Instant::now()),
            "/-/ui" => ui::response(&routes::routes_json(self, std::time::Instant::now())),
            "/-/diffs" => {
                let route = session.req_header().uri.query().and_then(route_param);
                let snap = self.live.load();
                let known = |r: &str| snap.config.routes.iter().any(|x| x.id.as_str() == r);
                match route {
                    Some(r) if !known(&r) => {
                        let routes: Vec<&str> =
                            snap.config.routes.iter().map(|x| x.id.as_str()).collect();
                        let body = json!({
                            "error": "unknown_route",
                            "route": r,
                            "hint": "use one of `routes` (route ids of routes.toml)",
                            "routes": routes,
                        });
                        reply(404, "application/json", body.to_string().into_bytes())
                    }
                    route => {
                        let body = self.diffs.to_json(route.as_deref());
                        reply(200, "application/json", body.to_string().into_bytes())
                    }
                }
            }
            "/-/config" => {
                let mut body = config_json(&self.live.load(), &self.live.flag_report());
                body["backends_health"] = self.health.to_json();
                reply(200, "application/json", body.to_string().into_bytes())
            }
            _ => {
                let mut body = index();
                body["error"] = json!("not_found");
                reply(404, "application/json", body.to_string().into_bytes())
            }
        }
    }
}

/// What the admin port serves (its root, like Envoy's admin index).
fn index() -> Value {
    json!({
        "endpoints": {
            "/metrics": "Prometheus metrics",
            "/-/health": "the process is up",
            "/-/ready": "ready to serve (200 even while a backend is down: see the README), with the config generation, any flag file not applied and any backend down",
            "/-/backends": "each backend (next, rust, and the embedded handlers' database and soketi): up/down/unknown, reason, since, last error, last check",
            "/-/config": "the effective routes, flags, flag file status and backends (no secrets)",
            "/-/diffs?route=ID": "recent shadow mismatches of a route (redacted)",
            "/-/routes": "every route's live state: stage, flag file, guard, per-side rate/errors/p99, shadow mismatches, fallback budget",
            "/-/ui": "the status page (HTML, refreshes itself) over /-/routes",
        }
    })
}

/// The `route` value of a query string (route ids need no decoding).
fn route_param(query: &str) -> Option<String> {
    query
        .split('&')
        .find_map(|kv| kv.strip_prefix("route="))
        .filter(|r| !r.is_empty())
        .map(str::to_string)
}

fn reply(status: u16, content_type: &str, body: Vec<u8>) -> Response<Vec<u8>> {
    let mut r = Response::new(body);
    *r.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    if let Ok(v) = http::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(http::header::CONTENT_TYPE, v);
    }
    let len = r.body().len();
    r.headers_mut()
        .insert(http::header::CONTENT_LENGTH, http::HeaderValue::from(len));
    r
}

/// `/-/ready`: always 200 once serving. A rejected flag file is listed
/// (`flag_files_invalid`) but does not make the replica unready: every
/// replica reads the same files, so a typo would pull them all at once, while
/// the route it concerns keeps its last good flag and is served.
pub fn ready_json(snap: &Snapshot, report: &FlagReport) -> Value {
    let invalid: Vec<Value> = report
        .bad
        .iter()
        .map(|b| {
            json!({
                "route": b.problem.route,
                "error": b.problem.error.to_string(),
                "since": b.since,
            })
        })
        .collect();
    json!({
        "status": "ready",
        "generation": snap.generation,
        "flag_files_invalid": invalid,
        "note": if invalid.is_empty() { Value::Null } else {
            json!("ready: each route with an invalid flag file keeps its last good flag; see /-/config")
        },
    })
}

/// One rejected flag file: where, why (`file:line: fix`), since when.
fn bad_file_json(b: &crate::reload::BadFlagFile) -> Value {
    json!({
        "file": b.problem.error.file.display().to_string(),
        "route": b.problem.route,
        "valid": false,
        "orphan": b.problem.orphan,
        "error": b.problem.error.to_string(),
        "line": b.problem.error.line,
        "since": b.since,
    })
}

/// The effective snapshot: routes, flags, backends (URLs only), generation,
/// and every flag file's status.
pub fn config_json(snap: &Snapshot, report: &FlagReport) -> Value {
    let cfg = &snap.config;
    let routes: Vec<Value> = cfg
        .routes
        .iter()
        .map(|r| {
            let flag = cfg.flag(&r.id);
            json!({
                "id": r.id.as_str(),
                "path": r.pattern.as_str(),
                "methods": r.methods.as_ref().map(|ms| ms.iter().map(|m| m.as_str()).collect::<Vec<_>>()),
                "rust_path": r.rust_path.as_ref().map(|p| p.as_str()),
                "kind": format!("{:?}", r.kind).to_lowercase(),
                "flag": flag.map_or_else(|| "next (no flag)".to_string(), |f| f.describe()),
                "rust_percent": flag.map_or(0, |f| f.rust_percent()),
                "flag_file": flag.map(|f| f.source.display().to_string()),
                "flag_sha256": flag.map(|f| hex::encode(f.fingerprint)),
                "flag_file_status": match report.for_route(r.id.as_str()) {
                    Some(b) => bad_file_json(b),
                    None => json!({ "valid": true }),
                },
            })
        })
        .collect();
    let mut files: Vec<Value> = cfg
        .flags
        .iter()
        .filter(|(id, _)| report.for_route(id.as_str()).is_none())
        .map(|(id, f)| json!({ "file": f.source.display().to_string(), "route": id.as_str(), "valid": true }))
        .collect();
    files.extend(report.bad.iter().map(bad_file_json));
    let last_error = report.bad.iter().max_by_key(|b| b.since).map(bad_file_json);
    json!({
        "generation": snap.generation,
        "routes_file": cfg.routes_file.display().to_string(),
        "flags_dir": cfg.flags_dir.display().to_string(),
        "backends": {
            "next": cfg.next.0.url,
            "rust": match &cfg.rust { RustBackend::Embedded => "embedded".to_string(), RustBackend::Remote(u) => u.url.clone() },
        },
        "response_headers": cfg.live.response_headers,
        "routes": routes,
        "flag_files": files,
        "flag_files_last_error": last_error,
    })
}
