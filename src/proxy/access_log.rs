//! After each request, once (from `logging`): settle the cap permit, feed
//! passive health, record the request's metrics, hand off to `finish`, and
//! write the one access-log line (never a token: the path is redacted;
//! `access_line` writes it).
//! May use `metrics`, `health` and the proxy's shared state and context.

use std::time::Instant;

use pingora::Error;
use pingora::proxy::Session;

use super::{Ctx, Cutover, access_line, caps, finish, headers, unix_now};
use crate::config::RustBackend;
use crate::flags::Side;

pub(super) fn record(proxy: &Cutover, session: &Session, e: Option<&Error>, ctx: &mut Ctx) {
    let pending_shadow = ctx.shadow.take();
    let status = ctx
        .local_status
        .or_else(|| session.response_written().map(|r| r.status.as_u16()))
        .unwrap_or(0);
    ctx.cap.publish(e.is_none());
    if let Some(permit) = ctx.cap.permit.take() {
        permit.finish(caps::outcome(status, ctx.upstream_error), Instant::now());
    }
    let health_change = record_health(proxy, ctx, e, status);
    let route = ctx.route_label();
    let backend = ctx.backend_label();
    let elapsed = ctx.start.elapsed();
    let m = &proxy.metrics;
    m.record_request(route, backend, status, elapsed.as_secs_f64());
    if let Some(kind) = ctx.upstream_error {
        m.upstream_errors
            .with_label_values(&[route, backend, kind])
            .inc();
    }
    finish::after_response(proxy, session, ctx, status, elapsed, pending_shadow);
    let head = session.req_header();
    let path = headers::loggable_path(head);
    let line = access_line::Line {
        route,
        backend,
        decision: ctx.tester.decision_label(),
        method: head.method.as_str(),
        path: &path,
        status,
        micros: u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        bytes_in: session.body_bytes_read(),
        bytes_out: session.body_bytes_sent(),
        fallback: ctx.fallback,
    };
    let plain = e.is_none() && health_change.is_none();
    if !(plain && access_line::write(&line)) {
        access_line::trace(&line, e, health_change.as_deref());
    }
}

/// Passive health evidence: an upstream error, or a response that came
/// back from a proxied backend (the embedded handlers report their
/// dependencies themselves). Returns `"next down"` / `"next up"` when this
/// request changed the side's state: logged in its access line, once.
fn record_health(proxy: &Cutover, ctx: &Ctx, e: Option<&Error>, status: u16) -> Option<String> {
    use crate::health::{Backend, passive};
    let backend = match ctx.side {
        Side::Next => Backend::Next,
        Side::Rust => Backend::Rust,
    };
    let now = unix_now();
    let changed = if let Some(kind) = ctx.upstream_error {
        let failure = passive::upstream_failure(kind, e);
        proxy.health.observe_request(backend, Some(failure), now)
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
        proxy.health.observe_request(backend, None, now)
    };
    changed.map(|state| format!("{} {}", backend.as_str(), state.as_str()))
}
