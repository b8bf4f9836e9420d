//! Pipeline step "decide": which side answers. The route's flag (a canary
//! keyed on the user, the client IP, a cookie or a header), then the guard's
//! trip latch, then a tester's override; counts the request for the fallback
//! budget and starts a shadow copy when the flag asks for one. May use
//! `flags` and the proxy's shared state.

use std::borrow::Cow;
use std::time::Instant;

use pingora::proxy::Session;

use super::{Ctx, Cutover, headers, r#override};
use crate::flags::{self, StickyBy};
use crate::reload::Snapshot;
use crate::route::Route;

/// Sets `ctx.side` (and `ctx.shadow`). `rust_target`: the rust side's path
/// and query, for a shadow copy.
#[inline(never)]
pub(super) fn decide(
    proxy: &Cutover,
    session: &mut Session,
    ctx: &mut Ctx,
    snap: &Snapshot,
    route: &Route,
    rust_target: Option<&str>,
) {
    let cfg = &snap.config;
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
    ctx.side = proxy.guard.hold(cfg, &route.id, ctx.side);
    let (tester, id) = (&mut ctx.tester, ctx.identity.as_ref());
    let overridden = r#override::side(&proxy.metrics.overrides, cfg, tester, &route.id, id);
    ctx.side = overridden.unwrap_or(ctx.side);
    proxy.guard.count_request(cfg, &route.id, Instant::now());
    let original = head.uri.path_and_query().map_or("/", |p| p.as_str());
    let next_target = ctx
        .next_path
        .clone()
        .unwrap_or_else(|| original.to_string());
    // A tester's overridden request is theirs alone: no shadow copy.
    if !ctx.tester.overridden() {
        ctx.shadow = proxy.shadow.begin(
            session,
            snap,
            route,
            ctx.side,
            next_target,
            rust_target.map(str::to_string),
        );
    }
}
