//! Pipeline step "serve": a request decided for rust gets its rewritten
//! path; with the embedded handlers it is answered right here (the request
//! body streamed in, the response streamed out, a shadow copy and a cap
//! answer teed off), unless the handler fails early and the route may fall
//! back to next. Everything else is proxied by Pingora after
//! `request_filter`. May use `backend` and the proxy's shared state.

use std::time::Instant;

use pingora::Result;
use pingora::http::ResponseHeader;
use pingora::proxy::Session;

use super::{Ctx, Cutover, body_deadline, fallback, response_headers, shadow, streams};
use crate::backend;
use crate::config::RustBackend;
use crate::flags::Side;
use crate::reload::Snapshot;
use crate::route::Route;

/// `Ok(true)` when the embedded handler answered (the response is
/// written); `Ok(false)` when Pingora proxies the request (to next, or to a
/// remote rust).
pub(super) async fn serve(
    proxy: &Cutover,
    session: &mut Session,
    ctx: &mut Ctx,
    snap: &Snapshot,
    route: &Route,
    rust_target: Option<String>,
) -> Result<bool> {
    if ctx.side != Side::Rust {
        return Ok(false);
    }
    let cfg = &snap.config;
    let head = session.req_header();
    ctx.rust_path = rust_target.or_else(|| ctx.next_path.clone());
    if !matches!(cfg.rust, RustBackend::Embedded) {
        return Ok(false);
    }
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
    let extra = response_headers(snap, route.id.as_str(), Side::Rust.as_str());
    let method = head.method.clone();
    let mut replayable = shadow::request_body_len(head) == Some(0);
    let body_clock = body_deadline::BodyClock::new(&cfg.live, ctx.start);
    let mut prefetched = ctx.cap.body.take();
    if prefetched.is_none() {
        prefetched = fallback::prefetch_for_embedded(cfg, &route.id, session, body_clock).await?;
        replayable |= prefetched.is_some();
    }
    let mut decline = |early| {
        fallback::failure_of_early(early).is_some_and(|failure| {
            proxy.guard.try_fallback(
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
        streams::Open::start(&proxy.streams, resp, cfg, &route.id, Side::Rust, keys)
    };
    let hooks = backend::embedded::Hooks {
        capture: ctx.shadow.as_mut().map(|p| &mut p.capture),
        decline: Some(&mut decline),
        prefetched,
        answer: ctx.cap.capture.as_mut(),
        timeout: Some(cfg.embedded_timeout),
        stream: Some(&mut start_stream),
        body_clock,
    };
    let served =
        backend::embedded::serve_with(session, &proxy.rust, &target, ext, &extra, hooks).await?;
    match served {
        backend::embedded::Served::Written(status) => {
            ctx.local_status = Some(status);
            ctx.answered_by_side = true;
            Ok(true)
        }
        backend::embedded::Served::Declined(early) => {
            ctx.side = Side::Next;
            ctx.fallback = fallback::failure_of_early(early).map(fallback::label);
            ctx.shadow = None;
            Ok(false)
        }
    }
}
