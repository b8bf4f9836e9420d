//! Retry-storm caps in the request path (after auth, keyed on the verified
//! identity): per-client and per-channel rates, then collapsing of identical
//! in-flight requests (plus a short positive cache), then backend protection
//! (max in-flight, circuit breaker). The decisions are `crate::cap`'s; this
//! module only reads the form, writes refusals and shares answers.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use pingora::proxy::Session;
use tokio::sync::oneshot;

mod answer;
#[cfg(test)]
mod tests;

use super::respond;
use crate::cap::{
    CapPolicy, Caps, ClientKey, CollapseKey, CollapseRole, Collapser, Permit, Rejection,
};
use crate::identity::Identity;
use crate::metrics::Metrics;
pub use answer::AnswerCapture;

/// Largest request body read to find `socket_id` / `channel_name` (what
/// Pingora can replay to the upstream afterwards). A larger POST body on a
/// capped route is refused with 413: the cap is never skipped.
pub const MAX_FORM_BYTES: usize = 64 * 1024;
/// Largest response shared with collapsed followers or cached.
pub const MAX_SHARED_BYTES: usize = 64 * 1024;

/// A complete response, shareable between collapsed requests.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    fn failed() -> Arc<Answer> {
        Arc::new(Answer {
            status: 502,
            headers: http::HeaderMap::new(),
            body: Bytes::from_static(br#"{"error":"bad_gateway"}"#),
        })
    }
}

/// Shared by reference: followers and the cache hold the same answer.
type Shared = Result<Arc<Answer>, Arc<Answer>>;

/// Cap state that outlives config reloads.
pub struct CapState {
    pub caps: Arc<Caps>,
    pub collapser: Arc<Collapser<Arc<Answer>, Arc<Answer>>>,
}

impl CapState {
    pub fn new(caps: Caps) -> CapState {
        CapState {
            caps: Arc::new(caps),
            collapser: Arc::new(Collapser::new(100_000)),
        }
    }
}

/// Per-request cap state kept in the proxy context.
#[derive(Default)]
pub struct CapCtx {
    /// Backend slot; finished in `logging` with the outcome.
    pub permit: Option<Permit>,
    /// Set when this request leads a collapsed group: its answer goes here.
    pub leader: Option<oneshot::Sender<Shared>>,
    pub capture: Option<AnswerCapture>,
    /// The request body read to find the channel (replayed to the backend).
    pub body: Option<Bytes>,
}

impl CapCtx {
    /// Hand the leader's answer to its followers (and the cache, if 2xx).
    /// `completed`: the response went out whole (no error at the end).
    pub fn publish(&mut self, completed: bool) {
        let Some(tx) = self.leader.take() else { return };
        if completed && let Some(c) = self.capture.as_mut() {
            c.finish();
        }
        let answer = self.capture.as_mut().and_then(AnswerCapture::take);
        let shared = match answer {
            Some((status, headers, body)) => {
                let a = Arc::new(Answer {
                    status,
                    headers,
                    body,
                });
                if (200..300).contains(&status) {
                    Ok(a)
                } else {
                    Err(a)
                }
            }
            None => Err(Answer::failed()),
        };
        let _ = tx.send(shared);
    }
}

/// `socket_id` and `channel_name` from a pusher-js auth request.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AuthForm {
    pub socket_id: Option<String>,
    pub channel_name: Option<String>,
}

/// Parse the body the way a backend might: JSON when it is a JSON object
/// (under a JSON media type, compared case-insensitively, nothing else),
/// otherwise a form — whatever the content type says, since both backends
/// read any non-JSON body as a form. Unparseable gives an empty form.
pub fn parse_form(content_type: Option<&str>, body: &[u8]) -> AuthForm {
    #[derive(serde::Deserialize)]
    struct Form {
        socket_id: Option<String>,
        channel_name: Option<String>,
    }
    let json_type = content_type.is_some_and(|ct| {
        let media = ct.split(';').next().unwrap_or("").trim();
        media.eq_ignore_ascii_case("application/json")
    });
    let json = || {
        serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .filter(serde_json::Value::is_object)
            .and_then(|v| serde_json::from_value::<Form>(v).ok())
    };
    let parsed = if json_type {
        json()
    } else {
        json().or_else(|| serde_urlencoded::from_bytes(body).ok())
    };
    parsed.map_or_else(AuthForm::default, |f| AuthForm {
        socket_id: f.socket_id,
        channel_name: f.channel_name,
    })
}

/// What the caps decided.
pub enum Admission {
    /// Go on to the backend.
    Proceed,
    /// Answered with the backend's answer to another request (collapsed
    /// follower or cache hit): the status. Counted under the backend's side.
    Answered(u16),
    /// Refused by cutover itself (rate, in-flight, breaker, body too large):
    /// the status. Counted as `backend="cutover"`.
    Refused(u16),
}

/// Everything `admit` needs from the request.
pub struct Inputs<'a> {
    pub route: &'a str,
    pub policy: &'a CapPolicy,
    pub identity: Option<&'a Identity>,
    pub client_ip: IpAddr,
    pub extra_headers: &'a [(&'static str, &'a str)],
    /// The same headers for a refusal (`x-cutover-backend: cutover`).
    pub local_headers: &'a [(&'static str, &'a str)],
    /// The request body's deadline (a form is read here).
    pub body_clock: super::body_deadline::BodyClock,
}

pub async fn admit(
    state: &CapState,
    metrics: &Metrics,
    session: &mut Session,
    cctx: &mut CapCtx,
    input: Inputs<'_>,
) -> pingora::Result<Admission> {
    let Inputs {
        route,
        policy,
        identity,
        client_ip,
        extra_headers,
        local_headers,
        body_clock,
    } = input;
    // The form names the socket (the client key of last resort before the
    // IP) and the channel: read it when it is small enough to replay.
    let form = if session.req_header().method == http::Method::POST {
        match read_form(session, cctx, body_clock).await? {
            Some(form) => form,
            None => return too_large(session, route, local_headers).await,
        }
    } else {
        AuthForm::default()
    };
    let key = ClientKey::choose(identity, form.socket_id.as_deref(), client_ip);
    let now = Instant::now();
    let channel = form.channel_name.as_deref();
    if let Err(rej) = state
        .caps
        .admit_client(route, policy, &key, channel, now)
        .await
    {
        return refuse(session, metrics, route, &rej, local_headers).await;
    }

    let (Some(socket), Some(channel), true) = (form.socket_id.as_deref(), channel, policy.collapse)
    else {
        return backend_slot(
            state,
            metrics,
            session,
            cctx,
            (route, local_headers),
            policy,
            now,
        )
        .await;
    };

    // Collapse: the first caller leads (goes to the backend, its answer is
    // shared); identical callers meanwhile follow; repeats within the TTL
    // of a 2xx are cache hits.
    let ckey = CollapseKey::new(route, &key, socket, channel);
    let (lead_tx, lead_rx) = oneshot::channel::<()>();
    let (done_tx, done_rx) = oneshot::channel::<Shared>();
    let collapser = state.collapser.clone();
    let ttl = policy.cache_ttl;
    let mut group = tokio::spawn(async move {
        collapser
            .run(ckey, ttl, now, move || async move {
                let _ = lead_tx.send(());
                done_rx.await.unwrap_or_else(|_| Err(Answer::failed()))
            })
            .await
    });
    tokio::select! {
        biased;
        Ok(()) = lead_rx => {
            cctx.leader = Some(done_tx);
            cctx.capture = Some(AnswerCapture::new(MAX_SHARED_BYTES));
            backend_slot(state, metrics, session, cctx, (route, local_headers), policy, now).await
        }
        joined = &mut group => {
            let (shared, role) = joined.unwrap_or_else(|_| (Err(Answer::failed()), CollapseRole::Follower));
            let (answer, how) = match (shared, role) {
                (Ok(a), CollapseRole::CacheHit) => {
                    metrics.cap_cache_hits.with_label_values(&[route]).inc();
                    (a, "cache")
                }
                (Ok(a) | Err(a), _) => {
                    metrics.cap_collapsed.with_label_values(&[route]).inc();
                    (a, "follower")
                }
            };
            let status = write_answer(session, &answer, how, extra_headers).await?;
            Ok(Admission::Answered(status))
        }
    }
}

async fn backend_slot(
    state: &CapState,
    metrics: &Metrics,
    session: &mut Session,
    cctx: &mut CapCtx,
    (route, local_headers): (&str, &[(&'static str, &str)]),
    policy: &CapPolicy,
    now: Instant,
) -> pingora::Result<Admission> {
    match state.caps.admit_backend(route, policy, now).await {
        Ok(permit) => {
            cctx.permit = Some(permit);
            Ok(Admission::Proceed)
        }
        Err(rej) => {
            // Followers of a refused leader get the same refusal.
            if let Some(tx) = cctx.leader.take() {
                let _ = tx.send(Err(refusal_answer(route, &rej)));
            }
            refuse(session, metrics, route, &rej, local_headers).await
        }
    }
}

/// The body, read whole (and kept to replay to the backend), as a form; or
/// `None` when it is over [`MAX_FORM_BYTES`]: a capped route cannot check
/// what it cannot replay, so the caller refuses it.
async fn read_form(
    session: &mut Session,
    cctx: &mut CapCtx,
    clock: super::body_deadline::BodyClock,
) -> pingora::Result<Option<AuthForm>> {
    let declared = session
        .req_header()
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_FORM_BYTES) {
        return Ok(None);
    }
    session.as_downstream_mut().enable_retry_buffering();
    let mut body = BytesMut::new();
    while let Some(chunk) = super::body_deadline::read_chunk(session, clock).await? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_FORM_BYTES {
            return Ok(None);
        }
    }
    let body = body.freeze();
    let ct = session
        .req_header()
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let form = parse_form(ct.as_deref(), &body);
    cctx.body = Some(body);
    Ok(Some(form))
}

/// `413` for a body on a capped route too big to read for the cap.
async fn too_large(
    session: &mut Session,
    route: &str,
    local_headers: &[(&'static str, &str)],
) -> pingora::Result<Admission> {
    let body = serde_json::json!({
        "error": "payload_too_large",
        "reason": "body_over_cap_limit",
        "route": route,
        "limit_bytes": MAX_FORM_BYTES,
    });
    respond::write_json(session, 413, Bytes::from(body.to_string()), local_headers).await?;
    Ok(Admission::Refused(413))
}

fn refusal_body(route: &str, rej: &Rejection) -> (u16, Bytes) {
    let status = rej.reason.status();
    let error = if status == 429 {
        "rate_limited"
    } else {
        "overloaded"
    };
    let body = serde_json::json!({
        "error": error,
        "reason": rej.reason.as_str(),
        "route": route,
        "retry_after": rej.retry_after_secs(),
    });
    (status, Bytes::from(body.to_string()))
}

fn refusal_answer(route: &str, rej: &Rejection) -> Arc<Answer> {
    let (status, body) = refusal_body(route, rej);
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    headers.insert(
        http::header::RETRY_AFTER,
        http::HeaderValue::from(rej.retry_after_secs()),
    );
    Arc::new(Answer {
        status,
        headers,
        body,
    })
}

async fn refuse(
    session: &mut Session,
    metrics: &Metrics,
    route: &str,
    rej: &Rejection,
    local_headers: &[(&'static str, &str)],
) -> pingora::Result<Admission> {
    metrics
        .cap_rejections
        .with_label_values(&[route, rej.reason.as_str()])
        .inc();
    let (status, body) = refusal_body(route, rej);
    let retry_after = rej.retry_after_secs().to_string();
    let mut headers = vec![("retry-after", retry_after.as_str())];
    headers.extend_from_slice(local_headers);
    respond::write_json(session, status, body, &headers).await?;
    Ok(Admission::Refused(status))
}

/// Replay a shared answer to this client.
async fn write_answer(
    session: &mut Session,
    answer: &Answer,
    how: &'static str,
    extra_headers: &[(&'static str, &str)],
) -> pingora::Result<u16> {
    let mut h =
        pingora::http::ResponseHeader::build(answer.status, Some(answer.headers.len() + 4))?;
    for (name, value) in &answer.headers {
        let n = name.as_str();
        if n == "content-length" || crate::backend::is_hop_or_ours(n) {
            continue;
        }
        h.append_header(name.clone(), value.clone())?;
    }
    h.insert_header(http::header::CONTENT_LENGTH, answer.body.len().to_string())?;
    h.insert_header("x-cutover-collapsed", how)?;
    for (name, value) in extra_headers {
        h.insert_header(*name, *value)?;
    }
    session.write_response_header(Box::new(h), false).await?;
    session
        .write_response_body(Some(answer.body.clone()), true)
        .await?;
    Ok(answer.status)
}

/// The breaker's view of a finished request.
pub fn outcome(status: u16, upstream_error: Option<&str>) -> crate::cap::Outcome {
    match upstream_error {
        Some("timeout" | "connect_timeout") => crate::cap::Outcome::Timeout,
        Some(_) => crate::cap::Outcome::Error,
        None if status >= 500 || status == 0 => crate::cap::Outcome::Error,
        None => crate::cap::Outcome::Success,
    }
}

/// On every config snapshot: a route removed (or no longer capped) drops its
/// buckets, breaker and gauges; its counters stay, as counters do.
pub fn on_snapshot(state: &CapState, metrics: &Metrics, snap: &crate::reload::Snapshot) {
    use prometheus::core::Collector;
    let routes = &snap.config.routes;
    let capped = |id: &str| {
        routes
            .iter()
            .any(|r| r.id.as_str() == id && r.cap.is_some())
    };
    state.caps.retain_routes(capped);
    for gauge in [&metrics.inflight, &metrics.breaker_state] {
        let labelled: Vec<String> = gauge
            .collect()
            .iter()
            .flat_map(|family| family.get_metric())
            .flat_map(|m| m.get_label())
            .filter(|l| l.name() == "route")
            .map(|l| l.value().to_string())
            .collect();
        for id in labelled.iter().filter(|id| !capped(id)) {
            let _ = gauge.remove_label_values(&[id.as_str()]);
        }
    }
}

/// Export in-flight and breaker gauges and the store's fallback count.
pub fn export(state: &CapState, metrics: &Metrics, last_fallbacks: &std::sync::atomic::AtomicU64) {
    for g in state.caps.gauges(Instant::now()) {
        metrics
            .inflight
            .with_label_values(&[g.route.as_str()])
            .set(g.inflight as i64);
        metrics
            .breaker_state
            .with_label_values(&[g.route.as_str()])
            .set(g.breaker.as_gauge());
    }
    let stats = state.caps.store_stats();
    let prev = last_fallbacks.swap(stats.fallbacks_total, std::sync::atomic::Ordering::Relaxed);
    if stats.fallbacks_total > prev {
        metrics
            .cap_store_fallbacks
            .with_label_values(&["redis"])
            .inc_by(stats.fallbacks_total - prev);
    }
}
