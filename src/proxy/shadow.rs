//! Shadow glue: decides per request (via the pure `shadow::plan`) whether a
//! copy goes to the other side, captures the primary's response as it streams
//! to the client, and — once the client has its answer, in `logging` —
//! spawns the copy (and, for the noise floor, a second primary call) in the
//! background under a per-route bound, compares, counts and logs the diffs.
//! May use `shadow`, `config`, `metrics`, `identity` and the embedded router;
//! never delays or changes the primary response.

mod call;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use bytes::Bytes;
use pingora::proxy::Session;
use tokio::sync::Semaphore;

use super::capture::Capture;
use crate::config::RustBackend;
use crate::flags::Side;
use crate::identity::{Audience, Identity, SignedRequest, signed_identity};
use crate::metrics::Metrics;
use crate::reload::Snapshot;
use crate::route::{Route, RouteId};
use crate::shadow::{
    CaptureOutcome, Captured, CompareKind, DiffEntry, DiffLog, DiffLogLimits, Plan, ShadowResult,
    ShadowRoute, Verdict, compare, plan,
};
use call::{CopyRequest, Dest};

/// Shared by every request: the diff log, the HTTP client for copies and
/// the per-route bounds on copies in flight.
pub struct ShadowState {
    pub diffs: Arc<DiffLog>,
    client: reqwest::Client,
    queues: Mutex<HashMap<RouteId, (usize, Arc<Semaphore>)>>,
    metrics: Arc<Metrics>,
}

/// A request that will be shadowed once its response is done.
pub struct Pending {
    route: RouteId,
    settings: ShadowRoute,
    primary: Side,
    dry_run: bool,
    self_check: bool,
    /// Request body bytes to replay (0: none).
    body_len: u64,
    next_target: String,
    rust_target: String,
    /// The primary's response as the client gets it.
    pub capture: Capture,
}

impl ShadowState {
    pub fn new(metrics: Arc<Metrics>) -> ShadowState {
        ShadowState {
            diffs: Arc::new(DiffLog::new(DiffLogLimits::default())),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap_or_default(),
            queues: Mutex::new(HashMap::new()),
            metrics,
        }
    }

    /// Plans the request (after the side is decided). Counts skipped
    /// copies; turns on body buffering when a body must be replayed.
    /// `next_target`/`rust_target`: path and query each side gets.
    pub fn begin(
        &self,
        session: &mut Session,
        snap: &Snapshot,
        route: &Route,
        primary: Side,
        next_target: String,
        rust_target: Option<String>,
    ) -> Option<Box<Pending>> {
        let cfg = &snap.config;
        let flag = cfg.flag(&route.id)?.shadow?;
        if flag.percent == 0 || route.kind.is_streaming() {
            return None;
        }
        let settings = cfg.route_shadow(&route.id).map(|r| r.shadow.clone())?;
        let head = session.req_header();
        let body_len = request_body_len(head);
        let planned = plan(
            &flag,
            &settings,
            primary,
            &head.method,
            body_len,
            rand::random::<f64>(),
            rand::random::<f64>(),
        );
        let (dry_run, self_check) = match planned {
            Plan::Skip(reason) => {
                if let Some(result) = reason.result() {
                    self.count(&route.id, result);
                }
                return None;
            }
            Plan::Shadow {
                dry_run,
                self_check,
            } => (dry_run, self_check),
        };
        let body_len = body_len.unwrap_or(0);
        if body_len > 0 {
            session.as_downstream_mut().enable_retry_buffering();
        }
        let cap = settings.max_response_body_bytes;
        Some(Box::new(Pending {
            route: route.id.clone(),
            primary,
            dry_run,
            self_check,
            body_len,
            rust_target: rust_target.unwrap_or_else(|| next_target.clone()),
            next_target,
            settings,
            capture: Capture::new(cap),
        }))
    }

    /// Sends the copy in the background (call from `logging`). `failure`:
    /// the primary produced no response (cutover answered with an error).
    pub fn finish(
        self: &Arc<Self>,
        p: Box<Pending>,
        session: &Session,
        snap: &Snapshot,
        identity: Option<&Identity>,
        failure: Option<CaptureOutcome>,
        rust: &crate::app::Embedded,
    ) {
        let body = if p.body_len == 0 {
            Bytes::new()
        } else {
            match session.as_downstream().get_retry_buffer() {
                Some(b) if b.len() as u64 == p.body_len => b,
                _ => return self.count(&p.route, ShadowResult::SkippedBody),
            }
        };
        let Some(permit) = self.permit(&p.route, p.settings.queue) else {
            return self.count(&p.route, ShadowResult::Dropped);
        };
        let head = session.req_header();
        let cfg = &snap.config;
        let dest = |side: Side| match (side, &cfg.rust) {
            (Side::Next, _) => Dest::Upstream(cfg.next.0.clone()),
            (Side::Rust, RustBackend::Remote(up)) => Dest::Upstream(up.clone()),
            (Side::Rust, RustBackend::Embedded) => Dest::Embedded {
                router: rust.router.clone(),
                runtime: rust.runtime.clone(),
            },
        };
        let copy = |side: Side| {
            let mut headers = copy_headers(&head.headers);
            super::headers::set_forwarded(session, &mut headers, &cfg.live.trusted_proxies);
            let target = match side {
                Side::Next => &p.next_target,
                Side::Rust => &p.rust_target,
            };
            if let (Dest::Upstream(_), Some(id), Some(key)) =
                (dest(side), identity, cfg.authenticator.identity_key())
            {
                let signed = SignedRequest {
                    audience: match side {
                        Side::Next => Audience::Next,
                        Side::Rust => Audience::Rust,
                    },
                    method: head.method.as_str(),
                    target,
                };
                for (name, value) in signed_identity(id, key, &signed, super::unix_now()) {
                    headers.insert(name.name(), value);
                }
            }
            CopyRequest {
                method: head.method.clone(),
                target: target.clone(),
                headers,
                identity: identity.cloned(),
                body: body.clone(),
                dry_run: p.dry_run && side == Side::Rust,
            }
        };
        let other = p.primary.other();
        let job = Job {
            state: self.clone(),
            other_req: copy(other),
            other_dest: dest(other),
            again: p.self_check.then(|| (copy(p.primary), dest(p.primary))),
            primary_side: p.primary,
            method: head.method.to_string(),
            path: head.uri.path().to_string(),
            primary: p.capture.finish(failure),
            route: p.route,
            settings: p.settings,
        };
        tokio::spawn(async move {
            job.run().await;
            drop(permit);
        });
    }

    fn count(&self, route: &RouteId, result: ShadowResult) {
        self.metrics
            .shadow_requests
            .with_label_values(&[route.as_str(), result.as_str()])
            .inc();
    }

    /// One slot of the route's bound, or None when it is full.
    fn permit(&self, route: &RouteId, size: usize) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let sem = {
            let mut q = self.queues.lock().unwrap_or_else(|p| p.into_inner());
            let entry = q
                .entry(route.clone())
                .or_insert_with(|| (size, Arc::new(Semaphore::new(size))));
            if entry.0 != size {
                *entry = (size, Arc::new(Semaphore::new(size)));
            }
            entry.1.clone()
        };
        sem.try_acquire_owned().ok()
    }
}

/// Everything one background comparison needs.
struct Job {
    state: Arc<ShadowState>,
    route: RouteId,
    settings: ShadowRoute,
    primary_side: Side,
    primary: Captured,
    other_req: CopyRequest,
    other_dest: Dest,
    again: Option<(CopyRequest, Dest)>,
    method: String,
    path: String,
}

impl Job {
    async fn run(self) {
        let s = &self.settings;
        let client = &self.state.client;
        let cross = call::call(
            client,
            &self.other_dest,
            &self.other_req,
            s.max_response_body_bytes,
            s.timeout,
        );
        let again = async {
            match &self.again {
                Some((req, dest)) => {
                    Some(call::call(client, dest, req, s.max_response_body_bytes, s.timeout).await)
                }
                None => None,
            }
        };
        let (other, again) = futures::join!(cross, again);
        let result = if other.outcome == CaptureOutcome::Timeout {
            ShadowResult::Timeout
        } else {
            ShadowResult::Compared
        };
        self.state.count(&self.route, result);
        self.judge(CompareKind::Cross, self.primary_side.other(), &other);
        if let Some(again) = again {
            self.judge(CompareKind::SelfCheck, self.primary_side, &again);
        }
    }

    fn judge(&self, kind: CompareKind, other_side: Side, other: &Captured) {
        let m = &self.state.metrics;
        let route = self.route.as_str();
        m.shadow_compared
            .with_label_values(&[route, kind.as_str()])
            .inc();
        let Verdict::Differ { category, detail } =
            compare(&self.primary, other, &self.settings.policy)
        else {
            return;
        };
        m.shadow_mismatches
            .with_label_values(&[route, kind.as_str(), category.as_str()])
            .inc();
        self.state.diffs.record(
            route,
            DiffEntry {
                at: SystemTime::now(),
                method: self.method.clone(),
                path: self.path.clone(),
                kind,
                category,
                detail,
                primary_backend: self.primary_side.as_str(),
                other_backend: other_side.as_str(),
                primary_status: self.primary.status,
                other_status: other.status,
                primary_body: self.primary.body.clone(),
                other_body: other.body.clone(),
            },
        );
    }
}

/// The request body length: `Some(0)` without a body, `None` when unknown (chunked).
pub fn request_body_len(head: &pingora::http::RequestHeader) -> Option<u64> {
    match head.headers.get(http::header::CONTENT_LENGTH) {
        Some(v) => v.to_str().ok()?.trim().parse().ok(),
        None if head.headers.contains_key(http::header::TRANSFER_ENCODING) => None,
        None => Some(0),
    }
}

/// The client's headers for a copy: no hop-by-hop, framing or `x-cutover-*`
/// headers (the copy gets its own identity headers), no `Host`.
fn copy_headers(from: &http::HeaderMap) -> http::HeaderMap {
    let mut out = http::HeaderMap::with_capacity(from.len());
    for (name, value) in from {
        let n = name.as_str();
        if n != "host" && n != "content-length" && !crate::backend::is_hop_or_ours(n) {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests;
