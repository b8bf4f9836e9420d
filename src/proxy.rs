//! The only `impl ProxyHttp`: Pingora glue around the pure decisions.
//!
//! `request_filter` loads the config snapshot once and runs the request path
//! as named steps (`pipeline`: match, authenticate, decide, cap, serve); the
//! embedded rust side answers right there. `request_body_filter` bounds a
//! slow body (`body_deadline`). `upstream_peer` picks next or the remote rust
//! peer; the upstream's head is prepared in `upstream_head`; errors become
//! JSON in `respond`; metrics and the access log are written once, in
//! `logging` (`access_log`). Per-request state is [`Ctx`].

mod access_line;
mod access_log;
mod authenticate;
pub(crate) mod body_deadline;
pub mod caps;
pub mod capture;
mod ctx;
mod decide;
mod fallback;
mod finish;
pub mod guard;
mod headers;
mod r#override;
mod pipeline;
pub mod respond;
mod response_headers;
mod serve;
pub mod shadow;
pub mod streams;
mod target;
mod upstream_head;

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::proxy::{FailToProxy, ProxyHttp, Session};
use pingora::upstreams::peer::HttpPeer;
use pingora::{Error, ErrorSource, ErrorType, Result};

use authenticate::authenticate;
pub use ctx::Ctx;
use decide::decide;
use response_headers::{insert_response_headers, own_headers, response_headers};
use serve::serve;

use crate::backend;
use crate::config::RustBackend;
use crate::flags::Side;
use crate::metrics::Metrics;
use crate::reload::Live;

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

#[async_trait]
impl ProxyHttp for Cutover {
    type CTX = Ctx;

    fn new_ctx(&self) -> Ctx {
        Ctx::new()
    }

    /// Idle keep-alive and header slowloris bounds (`[server]
    /// client_keepalive_seconds`, `client_header_timeout_ms`).
    fn request_head_timeouts(&self) -> Option<(std::time::Duration, std::time::Duration)> {
        let live = &self.live.load().config.live;
        Some((live.client_keepalive, live.client_header_timeout))
    }

    /// The request path: match, authenticate, decide, cap, serve (see
    /// `pipeline`). One snapshot load per request.
    /// No downstream modules. Pingora's default registers a response
    /// compression module at level 0 (off) that still builds a context for
    /// every request and runs in every header and body filter; cutover never
    /// compresses (the backends answer as they always did).
    fn init_downstream_modules(&self, _modules: &mut pingora::modules::http::HttpModules) {}

    async fn request_filter(&self, session: &mut Session, ctx: &mut Ctx) -> Result<bool> {
        let snap = self.live.load();
        ctx.snap = Some(snap.clone());
        let cfg = &snap.config;
        if let Some(status) = pipeline::guard_head(self, session, ctx, cfg).await {
            return pipeline::answered(ctx, status);
        }
        let Some(m) = pipeline::match_route(session, ctx, cfg) else {
            return pipeline::pass_through(session, ctx);
        };
        let route = m.route;
        let (rust_target, query_token) = authenticate::take_token(&m, session.req_header(), ctx);
        let token = query_token.as_deref();
        if let Some(status) = authenticate(self, session, ctx, &snap, route, token).await {
            return pipeline::answered(ctx, status);
        }
        decide(self, session, ctx, &snap, route, rust_target.as_deref());
        if pipeline::cap(self, session, ctx, &snap, route).await? {
            return Ok(true);
        }
        serve(self, session, ctx, &snap, route, rust_target).await
    }

    /// Slow request bodies: the whole body has a deadline (see `body_deadline`).
    async fn request_body_filter(
        &self,
        session: &mut Session,
        _body: &mut Option<bytes::Bytes>,
        end_of_stream: bool,
        ctx: &mut Ctx,
    ) -> Result<()> {
        let Some(snap) = &ctx.snap else {
            return Ok(());
        };
        let live = &snap.config.live;
        let clock = body_deadline::BodyClock::new(live, ctx.start);
        body_deadline::rearm(session, clock, end_of_stream, Instant::now())
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
        upstream_head::prepare(session, upstream, ctx)
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
            insert_response_headers(resp, &snap.config.live, ctx.route.as_ref(), ctx.side)?;
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

    /// An idle stream is ended at its deadline, not at its next bytes.
    fn response_body_wakeup(
        &self,
        ctx: &mut Ctx,
    ) -> Option<std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>> {
        ctx.stream.as_mut()?.wakeup()
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
        // A client that failed or stalled its body is not rust's failure.
        let body_done = session.as_downstream_mut().is_body_done();
        let clients = e.esource() == &ErrorSource::Downstream
            || body_deadline::client_stalled(&e, true, body_done);
        if !clients && fallback::retry_on_next(self, session, ctx, &e) {
            e.set_retry(true);
        }
        e
    }

    async fn fail_to_proxy(&self, session: &mut Session, e: &Error, ctx: &mut Ctx) -> FailToProxy {
        let embedded = ctx.side == Side::Rust
            && ctx
                .snap
                .as_ref()
                .is_some_and(|s| matches!(s.config.rust, RustBackend::Embedded));
        let body_done = session.as_downstream_mut().is_body_done();
        let failure = body_deadline::classify(e, !embedded, body_done);
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
        access_log::record(self, session, e, ctx);
    }
}

pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
