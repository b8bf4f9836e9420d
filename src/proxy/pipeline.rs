//! The request path as named steps, in the order `request_filter` runs them:
//!
//! 1. [`guard_head`]: bound keep-alive and the body's time, refuse an
//!    ambiguous or oversized target, serve the override page;
//! 2. [`match_route`], or [`pass_through`] to next, untouched;
//! 3. `authenticate::take_token`, then `authenticate::authenticate` (once);
//! 4. `decide::decide`: which side answers (flag, guard, tester override);
//! 5. [`cap`]: the retry-storm caps, keyed on the verified identity;
//! 6. `serve::serve`: the embedded rust side answers here, else Pingora
//!    proxies.
//!
//! A step that answers writes the response and says so; the filter then
//! records the status and stops. Each step is its own function so it shows
//! by name in a profile (the synchronous ones are `#[inline(never)]`).
//! May use the proxy's shared state and context.

use pingora::Result;
use pingora::http::RequestHeader;
use pingora::proxy::Session;

use super::{Ctx, Cutover, body_deadline, caps, headers, r#override, response_headers, target};
use crate::config::Config;
use crate::metrics;
use crate::reload::Snapshot;
use crate::route::{Match, Route, RouteKind};

/// The request was answered by a step: `status` is what it wrote.
pub(super) fn answered(ctx: &mut Ctx, status: u16) -> Result<bool> {
    ctx.local_status = Some(status);
    Ok(true)
}

/// Before any route is matched. `Some(status)` when the request was
/// answered (a refused target, the override page).
pub(super) async fn guard_head(
    proxy: &Cutover,
    session: &mut Session,
    ctx: &mut Ctx,
    cfg: &Config,
) -> Option<u16> {
    // HTTP/1.1 keep-alive is unbounded in Pingora: bound the idle time.
    if session.get_keepalive() == Some(0) {
        session.set_keepalive(Some(cfg.live.client_keepalive.as_secs()));
    }
    body_deadline::arm(session, &cfg.live);
    if let Some(status) = target::refuse_if_ambiguous(session, cfg).await {
        return Some(status);
    }
    r#override::intercept(proxy, session, ctx, cfg).await
}

/// The route claiming this request, recorded in `ctx`; `None` when no
/// route claims it.
#[inline(never)]
pub(super) fn match_route<'c, 's>(
    session: &'s Session,
    ctx: &mut Ctx,
    cfg: &'c Config,
) -> Option<Match<'c, 's>> {
    let head = session.req_header();
    let m = cfg.routes.find(&head.method, head.uri.path())?;
    ctx.route = Some(m.route.id.clone());
    ctx.kind = m.route.kind;
    Some(m)
}

/// Unclaimed: next, untouched. Upgrades, event streams and Engine.IO
/// long-polls get no read timeout.
pub(super) fn pass_through(session: &Session, ctx: &mut Ctx) -> Result<bool> {
    let head = session.req_header();
    ctx.kind = RouteKind::of_unclaimed(
        session.is_upgrade_req(),
        accepts_event_stream(head),
        &head.method,
        head.uri.query(),
    );
    Ok(false)
}

/// Retry-storm caps, keyed on the verified identity. `Ok(true)` when the
/// request was answered here: refused, or another request's answer replayed
/// (a collapsed follower, a cache hit).
pub(super) async fn cap(
    proxy: &Cutover,
    session: &mut Session,
    ctx: &mut Ctx,
    snap: &Snapshot,
    route: &Route,
) -> Result<bool> {
    let Some(policy) = &route.cap else {
        return Ok(false);
    };
    let cfg = &snap.config;
    let client_ip = headers::client_ip(session, &cfg.live.trusted_proxies)
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let extra = response_headers(snap, route.id.as_str(), ctx.side.as_str());
    let local = response_headers(snap, route.id.as_str(), metrics::CUTOVER_BACKEND);
    let input = caps::Inputs {
        route: route.id.as_str(),
        policy,
        identity: ctx.identity.as_ref(),
        client_ip,
        extra_headers: &extra,
        local_headers: &local,
        body_clock: body_deadline::BodyClock::new(&cfg.live, ctx.start),
    };
    let (status, by_side) =
        match caps::admit(&proxy.caps, &proxy.metrics, session, &mut ctx.cap, input).await? {
            caps::Admission::Proceed => return Ok(false),
            caps::Admission::Answered(status) => (status, true),
            caps::Admission::Refused(status) => (status, false),
        };
    ctx.answered_by_side = by_side;
    ctx.shadow = None;
    answered(ctx, status)
}

fn accepts_event_stream(head: &RequestHeader) -> bool {
    head.headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"))
}
