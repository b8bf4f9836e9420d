//! Fallback glue: when the rust side fails before any response byte on an
//! idempotent request of a route with `fallback = "next"`, retry on next
//! within the route's budget, count `cutover_fallbacks_total{route,result}`
//! and mark the response with `x-cutover-fallback`.
//!
//! Supported: remote rust connect errors (`fail_to_connect`) and timeouts or
//! read errors before the response header (`error_while_proxy`), by marking
//! the error retryable and switching the context to next, so Pingora calls
//! `upstream_peer` again; and any 5xx of the embedded rust router (its status
//! is known before anything is written). NOT supported: a 5xx status from a
//! remote rust upstream — Pingora forwards the header before a filter could
//! retry, and buffering every response to allow it would delay all of them.
//! May use `fallback`, `flags`, `config`, `metrics`.

use std::time::Instant;

use http::Method;

use super::guard::GuardState;
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
    /// eligible (method, response started, body not replayable).
    pub fn try_fallback(
        &self,
        cfg: &Config,
        route: &RouteId,
        a: Attempt<'_>,
        now: Instant,
    ) -> Option<FallbackResult> {
        let policy = cfg.route_shadow(route)?.fallback?;
        if !eligible(a.method, a.failure, a.response_started, a.body_replayable) {
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

/// From `fail_to_connect` / `error_while_proxy`: switch a failed rust
/// request to next when the route allows it and the budget has room.
pub fn retry_on_next(
    proxy: &super::Cutover,
    session: &pingora::proxy::Session,
    ctx: &mut super::Ctx,
    e: &pingora::Error,
) -> bool {
    if ctx.side != crate::flags::Side::Rust || ctx.fallback.is_some() {
        return false;
    }
    let (Some(snap), Some(route), Some(failure)) = (&ctx.snap, &ctx.route, failure_of(e)) else {
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
