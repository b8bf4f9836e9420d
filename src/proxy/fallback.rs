//! Fallback glue: when the rust side fails before any response byte on an
//! eligible request of a route with `fallback = "next"` (an idempotent one,
//! or POST/PATCH with `fallback_non_idempotent = true`), retry on next
//! within the route's budget, count `cutover_fallbacks_total{route,result}`
//! and mark the response with `x-cutover-fallback`.
//!
//! Remote rust: connect errors (`fail_to_connect`), timeouts or read errors
//! before the response header (`error_while_proxy`) and a 5xx response head
//! (`upstream_response_filter`, which runs before anything is forwarded) all
//! switch the context to next and hand Pingora a retryable error, so it
//! calls `upstream_peer` again and replays the request (its retry buffer
//! holds up to 64 KiB of body; larger bodies are not eligible). The failed
//! response's body is never read. Embedded rust: a 5xx status or the handler
//! timeout, both known before anything is written (`embedded::Early`), for
//! requests without a body, and for POST/PATCH of `fallback_non_idempotent`
//! routes whose body (≤ 64 KiB) is read into the retry buffer before the
//! handler runs ([`prefetch_for_embedded`]).
//! May use `fallback`, `flags`, `config`, `metrics`.

use std::time::Instant;

use http::Method;

use super::guard::GuardState;
use crate::backend::embedded::Early;
use crate::config::Config;
use crate::fallback::{Failure, FallbackResult, eligible};
use crate::route::RouteId;

/// One failed rust attempt, as the eligibility rule needs it.
pub struct Attempt<'a> {
    pub method: &'a Method,
    pub failure: Failure,
    /// Some response byte already reached the client.
    pub response_started: bool,
    /// The request body can be sent again.
    pub body_replayable: bool,
}

impl GuardState {
    /// Whether a failed rust request may be retried on next now; counts the
    /// decision. None when the route has no fallback or the request is not
    /// eligible (method not allowed by the route's `fallback_non_idempotent`,
    /// response started, body not replayable).
    pub fn try_fallback(
        &self,
        cfg: &Config,
        route: &RouteId,
        a: Attempt<'_>,
        now: Instant,
    ) -> Option<FallbackResult> {
        let policy = cfg.route_shadow(route)?.fallback?;
        if !eligible(
            a.method,
            policy.methods,
            a.failure,
            a.response_started,
            a.body_replayable,
        ) {
            return None;
        }
        let result = if self
            .budget
            .try_take(route.as_str(), policy.ratio, policy.window, now)
        {
            FallbackResult::Taken
        } else {
            FallbackResult::OverBudget
        };
        self.metrics
            .fallbacks
            .with_label_values(&[route.as_str(), result.as_str()])
            .inc();
        if result == FallbackResult::OverBudget {
            tracing::warn!(route = %route, "rust failed and the fallback budget is spent");
        }
        Some(result)
    }
}

/// The `x-cutover-fallback` value for a failure.
pub fn label(f: Failure) -> &'static str {
    match f {
        Failure::Connect => "connect",
        Failure::Status5xx => "status",
        Failure::Timeout => "timeout",
    }
}

/// The fallback failure for a Pingora error while talking to rust, if any.
pub fn failure_of(e: &pingora::Error) -> Option<Failure> {
    use pingora::ErrorType::*;
    match e.etype() {
        ConnectTimedout | ReadTimedout | WriteTimedout => Some(Failure::Timeout),
        ConnectRefused | ConnectNoRoute | ConnectError | ConnectionClosed | ReadError => {
            Some(Failure::Connect)
        }
        _ => None,
    }
}

/// The fallback failure for an embedded handler that ended early, if any.
pub fn failure_of_early(e: Early) -> Option<Failure> {
    match e {
        Early::Status(s) if s >= 500 => Some(Failure::Status5xx),
        Early::Status(_) => None,
        Early::TimedOut => Some(Failure::Timeout),
    }
}

/// From `fail_to_connect` / `error_while_proxy`: whether to retry the
/// request on next. Switches a failed rust request to next when the route
/// allows it and the budget has room. Also true for the error
/// `retry_on_status` returned, which reaches `error_while_proxy` after the
/// switch: Pingora's default rule there has just refused to retry it if the
/// method is not idempotent, but the route's `fallback_non_idempotent`
/// already allowed it.
pub fn retry_on_next(
    proxy: &super::Cutover,
    session: &pingora::proxy::Session,
    ctx: &mut super::Ctx,
    e: &pingora::Error,
) -> bool {
    switched_on_status(ctx, e)
        || failure_of(e).is_some_and(|f| switch_to_next(proxy, session, ctx, f))
}

/// `e` is the retryable error of `retry_on_status`: the request is already
/// on next for a rust 5xx head (next's own answers never raise it).
fn switched_on_status(ctx: &super::Ctx, e: &pingora::Error) -> bool {
    ctx.side == crate::flags::Side::Next
        && ctx.fallback == Some(label(Failure::Status5xx))
        && matches!(e.etype(), pingora::ErrorType::HTTPStatus(s) if *s >= 500)
}

/// From `upstream_response_filter`: a remote rust 5xx head, not yet
/// forwarded. `Some(error)` — retryable, for Pingora to try next — when the
/// request falls back; `None` lets the response through.
pub fn retry_on_status(
    proxy: &super::Cutover,
    session: &pingora::proxy::Session,
    ctx: &mut super::Ctx,
    status: u16,
) -> Option<Box<pingora::Error>> {
    if status < 500 || !switch_to_next(proxy, session, ctx, Failure::Status5xx) {
        return None;
    }
    let mut e = pingora::Error::explain(
        pingora::ErrorType::HTTPStatus(status),
        format!("rust answered {status}; retrying on next"),
    );
    e.set_retry(true);
    Some(e)
}

/// Switches a failed rust request to next when the route allows it and the
/// budget has room; counts the decision.
fn switch_to_next(
    proxy: &super::Cutover,
    session: &pingora::proxy::Session,
    ctx: &mut super::Ctx,
    failure: Failure,
) -> bool {
    if ctx.side != crate::flags::Side::Rust || ctx.fallback.is_some() {
        return false;
    }
    let (Some(snap), Some(route)) = (&ctx.snap, &ctx.route) else {
        return false;
    };
    let started = session.response_written().is_some();
    let replayable = !session.as_ref().retry_buffer_truncated();
    let attempt = Attempt {
        method: &session.req_header().method,
        failure,
        response_started: started,
        body_replayable: replayable,
    };
    let taken = proxy
        .guard
        .try_fallback(&snap.config, route, attempt, Instant::now())
        == Some(FallbackResult::Taken);
    if taken {
        ctx.side = crate::flags::Side::Next;
        ctx.fallback = Some(label(failure));
        ctx.upstream_error = None;
        // The client now gets next's answer: no primary to compare.
        ctx.shadow = None;
    }
    taken
}

/// Largest request body buffered so an embedded rust POST can be replayed
/// on next (Pingora's retry buffer holds 64 KiB).
const MAX_REPLAY_BODY: u64 = 64 * 1024;

/// For an embedded rust request that could fall back with a body (POST or
/// PATCH on a `fallback_non_idempotent` route, a declared length of at most
/// 64 KiB): read the whole body into Pingora's retry buffer first, so the
/// handler gets it as prefetched bytes and next can be sent it again.
/// `None` when the request is not such a one (the handler streams it).
pub async fn prefetch_for_embedded(
    cfg: &Config,
    route: &RouteId,
    session: &mut pingora::proxy::Session,
    clock: super::body_deadline::BodyClock,
) -> pingora::Result<Option<bytes::Bytes>> {
    let head = session.req_header();
    let allowed = cfg
        .route_shadow(route)
        .and_then(|s| s.fallback.as_ref())
        .is_some_and(|p| p.methods.allow(&head.method));
    let len = super::shadow::request_body_len(head);
    if !allowed || !len.is_some_and(|n| n > 0 && n <= MAX_REPLAY_BODY) {
        return Ok(None);
    }
    session.as_downstream_mut().enable_retry_buffering();
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = super::body_deadline::read_chunk(session, clock).await? {
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body.freeze()))
}
