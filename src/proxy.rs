//! The only `impl ProxyHttp`: Pingora glue around the pure decisions.
//!
//! `request_filter` loads the config snapshot once, matches the route, decides
//! the side and, for the embedded rust side, answers right there.
//! `upstream_peer` picks next or the remote rust peer; header hygiene happens
//! in `upstream_request_filter`; errors become JSON in `respond`; metrics and
//! the access log are written once, in `logging`.

pub mod caps;
pub mod capture;
mod fallback;
mod finish;
pub mod guard;
mod headers;
mod r#override;
pub mod respond;
pub mod shadow;
pub mod streams;
mod target;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::proxy::{FailToProxy, ProxyHttp, Session};
use pingora::upstreams::peer::HttpPeer;
use pingora::{Error, ErrorType, Result};

use crate::auth::{AuthMode, AuthOutcome, Credentials, take_query_token};
use crate::backend;
use crate::config::RustBackend;
use crate::flags::{self, Side, StickyBy};
use crate::identity::{Audience, Identity, SignedRequest, identity_headers};
use crate::metrics::{self, Metrics};
use crate::reload::{Live, Snapshot};
use crate::route::RouteKind;

/// The proxy: shared state only; everything per request lives in [`Ctx`].
pub struct Cutover {
    /// Backend health: fed from upstream errors and responses in `logging`.
    pub health: Arc<crate::health::Health>,
    pub live: Arc<Live>,
    pub metrics: Arc<Metrics>,
    /// The rust handlers, when embedded, and the runtime they run on.
    pub rust: crate::app::Embedded,
    /// Retry-storm cap state (outlives reloads).
    pub caps: Arc<caps::CapState>,
    /// Shadow copies, their bounds and the diff log.
    pub shadow: Arc<shadow::ShadowState>,
    /// The judge, the trip latch and the fallback budget.
    pub guard: Arc<guard::GuardState>,
    /// Open streams and their flip policy.
    pub streams: Arc<streams::StreamState>,
}

/// Per-request state.
pub struct Ctx {
    start: Instant,
    snap: Option<Arc<Snapshot>>,
    /// Index-free route info, copied out of the snapshot.
    route: Option<crate::route::RouteId>,
    kind: RouteKind,
    side: Side,
    /// Rewritten path for the rust side.
    rust_path: Option<String>,
    /// Status of a response written in `request_filter` (by cutover itself,
    /// unless `answered_by_side`).
    local_status: Option<u16>,
    /// The local response is a backend's: the embedded handler's, or another
    /// request's answer replayed by the caps (collapsed follower, cache hit).
    answered_by_side: bool,
    /// `fail_to_proxy` answered for a failure that was not the backend's
    /// (a bad request, cutover's own error).
    cutover_failure: bool,
    /// Why the upstream failed, for the metric.
    upstream_error: Option<&'static str>,
    /// The verified caller, if any.
    identity: Option<Identity>,
    /// Path and query for next when cutover rewrote it (`?token=` removed).
    next_path: Option<String>,
    /// Cap permit, collapse leadership, the answer to share.
    cap: caps::CapCtx,
    /// A shadow copy to send once the response is done.
    shadow: Option<Box<shadow::Pending>>,
    /// Why a failed rust request was retried on next (`x-cutover-fallback`).
    fallback: Option<&'static str>,
    /// The tester override cookie (taken out of the request) and what decided the side.
    tester: r#override::State,
    /// This response is an open stream (SSE, WebSocket): see `streams`.
    stream: Option<Box<streams::Open>>,
    /// Its policy ended it with the last body chunk.
    stream_ended: bool,
}

impl Ctx {
    /// The `backend` label of this request: `cutover` when cutover answered
    /// on its own (auth and cap refusals, ambiguous targets, bad requests,
    /// its own errors), else the side (a 502/504 written because that side
    /// failed is that side's: see `metrics`).
    fn backend_label(&self) -> &'static str {
        if (self.local_status.is_some() && !self.answered_by_side) || self.cutover_failure {
            metrics::CUTOVER_BACKEND
        } else {
            self.side.as_str()
        }
    }

    fn route_label(&self) -> &str {
        self.route
            .as_ref()
            .map_or(metrics::UNMATCHED, |r| r.as_str())
    }
}

#[async_trait]
impl ProxyHttp for Cutover {
    type CTX = Ctx;

    fn new_ctx(&self) -> Ctx {
        Ctx {
            start: Instant::now(),
            snap: None,
            route: None,
            kind: RouteKind::Http,
            side: Side::Next,
            rust_path: None,
            local_status: None,
            answered_by_side: false,
            cutover_failure: false,
            upstream_error: None,
            identity: None,
            next_path: None,
            cap: caps::CapCtx::default(),
            shadow: None,
            fallback: None,
            tester: r#override::State::default(),
            stream: None,
            stream_ended: false,
        }
    }

    /// Idle keep-alive and header slowloris bounds (`[server]
    /// client_keepalive_seconds`, `client_header_timeout_ms`).
    fn request_head_timeouts(&self) -> Option<(std::time::Duration, std::time::Duration)> {
        let live = &self.live.load().config.live;
        Some((live.client_keepalive, live.client_header_timeout))
    }

    async fn request_filter(&self, session: &mut Session, ctx: &mut Ctx) -> Result<bool> {
        let snap = self.live.load();
        ctx.snap = Some(snap.clone());
        let cfg = &snap.config;
        // HTTP/1.1 keep-alive is unbounded in Pingora: bound the idle time.
        if session.get_keepalive() == Some(0) {
            session.set_keepalive(Some(cfg.live.client_keepalive.as_secs()));
        }
        if let Some(status) = target::refuse_if_ambiguous(session, cfg).await {
            ctx.local_status = Some(status);
            return Ok(true);
        }
        if let Some(status) = r#override::intercept(self, session, ctx, cfg).await {
            ctx.local_status = Some(status);
            return Ok(true);
        }
        let head = session.req_header();
        let path = head.uri.path();
        let Some(m) = cfg.routes.find(&head.method, path) else {
            // Unclaimed: next, untouched. Upgrades, event streams and
            // Engine.IO long-polls get no read timeout.
            ctx.kind = RouteKind::of_unclaimed(
                session.is_upgrade_req(),
                accepts_event_stream(head),
                &head.method,
                head.uri.query(),
            );
            return Ok(false);
        };
        let route = m.route;
        ctx.route = Some(route.id.clone());
        ctx.kind = route.kind;

        // Auth, once. `?token=` leaves the URL whether or not it is valid.
        let mut query = head.uri.query().map(str::to_string);
        let mut query_token = None;
        if route.auth.query_token
            && let Some(pq) = head.uri.path_and_query()
        {
            let (clean, token) = take_query_token(pq.as_str());
            if token.is_some() {
                query = clean.split_once('?').map(|(_, q)| q.to_string());
                ctx.next_path = Some(clean);
                query_token = token;
            }
        }
        if !matches!(route.auth.mode, AuthMode::None) {
            let cookies: Vec<&str> = head
                .headers
                .get_all(http::header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .collect();
            let creds = Credentials {
                cookies: &cookies,
                authorization: head
                    .headers
                    .get(http::header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok()),
                query_token: query_token.as_deref(),
                https: headers::scheme(session, &cfg.live.trusted_proxies) == "https",
            };
            let outcome = cfg
                .authenticator
                .authenticate(&route.auth, &creds, unix_now());
            if let Some(result) = outcome.result_label() {
                self.metrics
                    .auth
                    .with_label_values(&[route.id.as_str(), outcome.scheme_label(), result])
                    .inc();
            }
            match outcome {
                AuthOutcome::Authenticated(id) => ctx.identity = Some(id),
                AuthOutcome::Rejected { reason, .. }
                    if matches!(route.auth.mode, AuthMode::Required) =>
                {
                    let www = cfg.authenticator.www_authenticate(&route.auth);
                    let extra =
                        response_headers(&snap, route.id.as_str(), metrics::CUTOVER_BACKEND);
                    let status = respond::unauthorized(session, reason.as_str(), www, &extra).await;
                    ctx.local_status = Some(status);
                    return Ok(true);
                }
                // Optional routes treat a bad credential like none, as getServerSession does.
                AuthOutcome::Rejected { .. } | AuthOutcome::Anonymous => {}
            }
        }

        let head = session.req_header();
        // Only a canary needs a sticky key; the client IP is its fallback.
        let ip = || {
            Cow::Owned(
                headers::client_ip(session, &cfg.live.trusted_proxies)
                    .map(|ip| ip.to_string())
                    .unwrap_or_default(),
            )
        };
        let user = ctx.identity.as_ref().map(|i| i.user_id.as_str());
        ctx.side = flags::decide(&route.id, cfg.flag(&route.id), |by| match by {
            StickyBy::User => user.map_or_else(ip, Cow::Borrowed),
            StickyBy::Ip => ip(),
            StickyBy::Cookie(name) => headers::cookie(head, name).map_or_else(ip, Cow::Borrowed),
            StickyBy::Header(name) => head
                .headers
                .get(name.as_str())
                .and_then(|v| v.to_str().ok())
                .map_or_else(ip, Cow::Borrowed),
        });
        ctx.side = self.guard.hold(cfg, &route.id, ctx.side);
        let (tester, id) = (&mut ctx.tester, ctx.identity.as_ref());
        let overridden = r#override::side(&self.metrics.overrides, cfg, tester, &route.id, id);
        ctx.side = overridden.unwrap_or(ctx.side);
        self.guard.count_request(cfg, &route.id, Instant::now());
        let original = head.uri.path_and_query().map_or("/", |p| p.as_str());
        let next_target = ctx
            .next_path
            .clone()
            .unwrap_or_else(|| original.to_string());
        let rust_target = m.rust_path_and_query(query.as_deref());
        // A tester's overridden request is theirs alone: no shadow copy.
        if !ctx.tester.overridden() {
            ctx.shadow = self.shadow.begin(
                session,
                &snap,
                route,
                ctx.side,
                next_target,
                rust_target.clone(),
            );
        }

        // Retry-storm caps, keyed on the verified identity.
        if let Some(policy) = &route.cap {
            let client_ip = headers::client_ip(session, &cfg.live.trusted_proxies)
                .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
            let extra = response_headers(&snap, route.id.as_str(), ctx.side.as_str());
            let local = response_headers(&snap, route.id.as_str(), metrics::CUTOVER_BACKEND);
            let input = caps::Inputs {
                route: route.id.as_str(),
                policy,
                identity: ctx.identity.as_ref(),
                client_ip,
                extra_headers: &extra,
                local_headers: &local,
            };
            let (status, by_side) =
                match caps::admit(&self.caps, &self.metrics, session, &mut ctx.cap, input).await? {
                    caps::Admission::Proceed => (None, false),
                    caps::Admission::Answered(status) => (Some(status), true),
                    caps::Admission::Refused(status) => (Some(status), false),
                };
            if let Some(status) = status {
                ctx.local_status = Some(status);
                ctx.answered_by_side = by_side;
                ctx.shadow = None;
                return Ok(true);
            }
        }

        let head = session.req_header();
        if ctx.side == Side::Rust {
            ctx.rust_path = rust_target.or_else(|| ctx.next_path.clone());
            if matches!(cfg.rust, RustBackend::Embedded) {
                let target = ctx.rust_path.clone().unwrap_or_else(|| {
                    head.uri
                        .path_and_query()
                        .map_or("/", |p| p.as_str())
                        .to_string()
                });
                let mut ext = http::Extensions::new();
                if let Some(id) = &ctx.identity {
                    ext.insert(id.clone());
                }
                let extra = response_headers(&snap, route.id.as_str(), Side::Rust.as_str());
                let method = head.method.clone();
                let mut replayable = shadow::request_body_len(head) == Some(0);
                let mut prefetched = ctx.cap.body.take();
                if prefetched.is_none() {
                    prefetched = fallback::prefetch_for_embedded(cfg, &route.id, session).await?;
                    replayable |= prefetched.is_some();
                }
                let mut decline = |early| {
                    fallback::failure_of_early(early).is_some_and(|failure| {
                        self.guard.try_fallback(
                            cfg,
                            &route.id,
                            fallback::Attempt {
                                method: &method,
                                failure,
                                response_started: false,
                                body_replayable: replayable,
                            },
                            Instant::now(),
                        ) == Some(crate::fallback::FallbackResult::Taken)
                    })
                };
                let keys = streams::LaterKeys::of(session, cfg, &route.id, ctx.tester.overridden());
                let user = ctx.identity.as_ref().map(|i| i.user_id.as_str());
                let mut start_stream = |resp: &ResponseHeader| {
                    let keys = || keys.keys(user);
                    streams::Open::start(&self.streams, resp, cfg, &route.id, Side::Rust, keys)
                };
                let hooks = backend::embedded::Hooks {
                    capture: ctx.shadow.as_mut().map(|p| &mut p.capture),
                    decline: Some(&mut decline),
                    prefetched,
                    answer: ctx.cap.capture.as_mut(),
                    timeout: Some(cfg.embedded_timeout),
                    stream: Some(&mut start_stream),
                };
                let served =
                    backend::embedded::serve_with(session, &self.rust, &target, ext, &extra, hooks)
                        .await?;
                match served {
                    backend::embedded::Served::Written(status) => {
                        ctx.local_status = Some(status);
                        ctx.answered_by_side = true;
                        return Ok(true);
                    }
                    backend::embedded::Served::Declined(early) => {
                        ctx.side = Side::Next;
                        ctx.fallback = fallback::failure_of_early(early).map(fallback::label);
                        ctx.shadow = None;
                    }
                }
            }
        }
        Ok(false)
    }

    async fn upstream_peer(&self, _session: &mut Session, ctx: &mut Ctx) -> Result<Box<HttpPeer>> {
        let snap = ctx
            .snap
            .as_ref()
            .ok_or_else(|| Error::explain(ErrorType::InternalError, "no snapshot"))?;
        let up = match (ctx.side, &snap.config.rust) {
            (Side::Rust, RustBackend::Remote(up)) => up,
            _ => &snap.config.next.0,
        };
        Ok(Box::new(backend::peer(up, !ctx.kind.has_read_timeout())))
    }

    async fn upstream_request_filter(
        &self,
        session: &mut Session,
        upstream: &mut RequestHeader,
        ctx: &mut Ctx,
    ) -> Result<()> {
        let rewrite = match ctx.side {
            Side::Rust => ctx.rust_path.as_deref(),
            Side::Next => ctx.next_path.as_deref(),
        };
        if let Some(p) = rewrite {
            let uri: http::Uri = p
                .parse()
                .map_err(|e| Error::because(ErrorType::InvalidHTTPHeader, "rewritten path", e))?;
            upstream.set_uri(uri);
        }
        headers::clean_request(upstream);
        let untrusted = crate::config::TrustedProxies::default();
        let trusted = ctx
            .snap
            .as_ref()
            .map_or(&untrusted, |s| &s.config.live.trusted_proxies);
        headers::add_forwarded(session, upstream, trusted)?;
        if let (Some(id), Some(snap)) = (&ctx.identity, &ctx.snap)
            && let Some(key) = snap.config.authenticator.identity_key()
        {
            // Bound to what this upstream receives: its audience, the method and
            // the (possibly rewritten) path and query.
            let target = upstream.uri.path_and_query().map_or("/", |p| p.as_str());
            let signed = SignedRequest {
                audience: match ctx.side {
                    Side::Rust => Audience::Rust,
                    Side::Next => Audience::Next,
                },
                method: upstream.method.as_str(),
                target,
            };
            for (name, value) in identity_headers(id, key, &signed, unix_now()) {
                upstream.insert_header(name, value)?;
            }
        }
        Ok(())
    }

    async fn upstream_response_filter(
        &self,
        session: &mut Session,
        upstream: &mut ResponseHeader,
        ctx: &mut Ctx,
    ) -> Result<()> {
        // A remote rust 5xx, not yet forwarded: maybe retry it on next.
        match fallback::retry_on_status(self, session, ctx, upstream.status.as_u16()) {
            Some(retry) => Err(retry),
            None => Ok(()),
        }
    }

    async fn response_filter(
        &self,
        session: &mut Session,
        resp: &mut ResponseHeader,
        ctx: &mut Ctx,
    ) -> Result<()> {
        if let Some(a) = ctx.cap.capture.as_mut() {
            a.head(resp.status.as_u16(), &resp.headers);
        }
        if let Some(snap) = &ctx.snap {
            for (name, value) in response_headers(snap, ctx.route_label(), ctx.side.as_str()) {
                resp.insert_header(name, value)?;
            }
        }
        if let Some(why) = ctx.fallback {
            resp.insert_header(crate::fallback::FALLBACK_HEADER, why)?;
        }
        if let Some(p) = ctx.shadow.as_mut() {
            p.capture.head(resp.status.as_u16(), resp.headers.iter());
        }
        if let (Some(snap), Some(route)) = (&ctx.snap, &ctx.route) {
            let user = ctx.identity.as_ref().map(|i| i.user_id.as_str());
            let pinned = ctx.tester.overridden() || ctx.fallback.is_some();
            let (cfg, side) = (&snap.config, ctx.side);
            let keys = || streams::keys(session, cfg, route, user, pinned);
            ctx.stream = streams::Open::start(&self.streams, resp, cfg, route, side, keys);
        }
        Ok(())
    }

    fn response_body_filter(
        &self,
        _session: &mut Session,
        body: &mut Option<bytes::Bytes>,
        end_of_stream: bool,
        ctx: &mut Ctx,
    ) -> Result<Option<std::time::Duration>> {
        if let (Some(p), Some(b)) = (ctx.shadow.as_mut(), body.as_ref()) {
            p.capture.body(b);
        }
        if let Some(a) = ctx.cap.capture.as_mut() {
            if let Some(b) = body.as_ref() {
                a.body(b);
            }
            if end_of_stream {
                a.finish();
            }
        }
        if let Some(s) = ctx.stream.as_mut() {
            ctx.stream_ended |= s.filter(body);
        }
        Ok(None)
    }

    /// An SSE stream its policy ended (after a `retry:` line) ends here.
    fn response_body_ends_early(&self, ctx: &Ctx) -> bool {
        ctx.stream_ended
    }

    fn fail_to_connect(
        &self,
        session: &mut Session,
        _peer: &HttpPeer,
        ctx: &mut Ctx,
        mut e: Box<Error>,
    ) -> Box<Error> {
        if fallback::retry_on_next(self, session, ctx, &e) {
            e.set_retry(true);
        }
        e
    }

    fn error_while_proxy(
        &self,
        peer: &HttpPeer,
        session: &mut Session,
        e: Box<Error>,
        ctx: &mut Ctx,
        client_reused: bool,
    ) -> Box<Error> {
        let mut e = e.more_context(format!("Peer: {peer}"));
        if !session.req_header().method.is_idempotent() || session.as_ref().retry_buffer_truncated()
        {
            e.set_retry(false);
        } else {
            e.retry.decide_reuse(client_reused);
        }
        if fallback::retry_on_next(self, session, ctx, &e) {
            e.set_retry(true);
        }
        e
    }

    async fn fail_to_proxy(&self, session: &mut Session, e: &Error, ctx: &mut Ctx) -> FailToProxy {
        let failure = respond::classify(e);
        match failure {
            respond::Failure::Upstream { kind, .. } => ctx.upstream_error = Some(kind),
            // A client that went away mid-response stays the side's request.
            respond::Failure::Downstream { status: 0 } => {}
            respond::Failure::Downstream { .. } | respond::Failure::Internal => {
                ctx.cutover_failure = true;
            }
        }
        let route = ctx.route_label();
        let side = ctx.backend_label();
        let extra = ctx
            .snap
            .as_ref()
            .map(|snap| response_headers(snap, route, side))
            .unwrap_or_default();
        let code = respond::write_failure(session, failure, route, side, &extra).await;
        FailToProxy {
            error_code: code,
            can_reuse_downstream: false,
        }
    }

    /// One line per request: Pingora's own "Fail to proxy" line is not
    /// written; its detail is in the access line (`error`, `error_source`,
    /// `error_detail`).
    fn suppress_error_log(&self, _session: &Session, _ctx: &Ctx, _error: &Error) -> bool {
        true
    }

    /// A failed rust attempt retried on next is in the access line
    /// (`fallback`); other retries (a stale pooled connection) keep Pingora's
    /// warning.
    fn suppress_proxy_warn_log(
        &self,
        _session: &Session,
        ctx: &Ctx,
        _error: &Error,
        _context: pingora::proxy::ProxyWarnLogContext,
    ) -> bool {
        ctx.fallback.is_some()
    }

    /// The request as Pingora's own error and retry lines show it: the query
    /// redacted like the access log's (`?token=` never reaches a log).
    fn request_summary(&self, session: &Session, _ctx: &Ctx) -> String {
        let head = session.req_header();
        let host = head
            .headers
            .get(http::header::HOST)
            .map_or(std::borrow::Cow::Borrowed("-"), |h| {
                String::from_utf8_lossy(h.as_bytes())
            });
        format!(
            "{} {}, Host: {host}",
            head.method,
            headers::loggable_path(head)
        )
    }

    async fn logging(&self, session: &mut Session, e: Option<&Error>, ctx: &mut Ctx) {
        let pending_shadow = ctx.shadow.take();
        let status = ctx
            .local_status
            .or_else(|| session.response_written().map(|r| r.status.as_u16()))
            .unwrap_or(0);
        ctx.cap.publish(e.is_none());
        if let Some(permit) = ctx.cap.permit.take() {
            permit.finish(caps::outcome(status, ctx.upstream_error), Instant::now());
        }
        let health_change = self.record_health(ctx, e, status);
        let route = ctx.route_label();
        let backend = ctx.backend_label();
        let elapsed = ctx.start.elapsed();
        let m = &self.metrics;
        m.record_request(route, backend, status, elapsed.as_secs_f64());
        if let Some(kind) = ctx.upstream_error {
            m.upstream_errors
                .with_label_values(&[route, backend, kind])
                .inc();
        }
        finish::after_response(self, session, ctx, status, elapsed, pending_shadow);
        let head = session.req_header();
        tracing::info!(
            target: "cutover::access",
            route,
            backend,
            decision = ctx.tester.decision_label(),
            method = %head.method,
            path = %headers::loggable_path(head),
            status,
            // Microsecond resolution: `0.098`, not `0.09797399999999999`.
            duration_ms = elapsed.as_micros() as f64 / 1000.0,
            bytes_in = session.body_bytes_read(),
            bytes_out = session.body_bytes_sent(),
            error = e.map(|e| e.etype().as_str()),
            error_source = e.map(|e| e.esource().as_str()),
            error_detail = e.map(|e| e.to_string()),
            fallback = ctx.fallback,
            // Set when this request changed the side's health (e.g. `next down`).
            backend_health = health_change.as_deref(),
        );
    }
}

impl Cutover {
    /// Passive health evidence: an upstream error, or a response that came
    /// back from a proxied backend (the embedded handlers report their
    /// dependencies themselves). Returns `"next down"` / `"next up"` when this
    /// request changed the side's state: logged in its access line, once.
    fn record_health(&self, ctx: &Ctx, e: Option<&Error>, status: u16) -> Option<String> {
        use crate::health::{Backend, passive};
        let backend = match ctx.side {
            Side::Next => Backend::Next,
            Side::Rust => Backend::Rust,
        };
        let now = unix_now();
        let changed = if let Some(kind) = ctx.upstream_error {
            let failure = passive::upstream_failure(kind, e);
            self.health.observe_request(backend, Some(failure), now)
        } else {
            let proxied = ctx.local_status.is_none() && !ctx.cutover_failure;
            let remote = ctx.side == Side::Next
                || ctx
                    .snap
                    .as_ref()
                    .is_some_and(|s| matches!(s.config.rust, RustBackend::Remote(_)));
            if !(proxied && remote && status != 0) {
                return None;
            }
            self.health.observe_request(backend, None, now)
        };
        changed.map(|state| format!("{} {}", backend.as_str(), state.as_str()))
    }
}

/// `x-cutover-route` / `x-cutover-backend` (`next`, `rust` or `cutover`),
/// unless turned off in config; `x-cutover-instance` when `[server]
/// instance` is set.
fn response_headers<'a>(
    snap: &'a Snapshot,
    route: &'a str,
    backend: &'a str,
) -> Vec<(&'static str, &'a str)> {
    headers_for(&snap.config.live, route, backend)
}

/// The headers of an answer cutover writes before any route is matched
/// (refused targets, the override page): route `(unmatched)`, backend `cutover`.
pub(super) fn own_headers(live: &crate::config::LiveSettings) -> Vec<(&'static str, &str)> {
    headers_for(live, metrics::UNMATCHED, metrics::CUTOVER_BACKEND)
}

fn headers_for<'a>(
    live: &'a crate::config::LiveSettings,
    route: &'a str,
    backend: &'a str,
) -> Vec<(&'static str, &'a str)> {
    let mut headers = Vec::with_capacity(3);
    if live.response_headers {
        headers.push(("x-cutover-route", route));
        headers.push(("x-cutover-backend", backend));
    }
    if let Some(instance) = &live.instance {
        headers.push(("x-cutover-instance", instance.as_str()));
    }
    headers
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn accepts_event_stream(head: &RequestHeader) -> bool {
    head.headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"))
}
