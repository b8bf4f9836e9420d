//! After the response: feed the judge (a fallback counts as a rust failure)
//! and hand a pending shadow copy to the background. Called once, from
//! `logging`. May use the proxy's shared state and context.

use std::time::{Duration, Instant};

use pingora::proxy::Session;

use super::shadow::Pending;
use super::{Ctx, Cutover};
use crate::flags::Side;

pub(super) fn after_response(
    proxy: &Cutover,
    session: &Session,
    ctx: &Ctx,
    status: u16,
    elapsed: Duration,
    pending_shadow: Option<Box<Pending>>,
) {
    if let (Some(snap), Some(id)) = (&ctx.snap, &ctx.route) {
        // A request that fell back counts as a rust failure for the judge.
        let (side, is_error) = match ctx.fallback {
            Some(_) => (Side::Rust, true),
            // A client that went away (status 0, no upstream error) is not the backend's fault.
            None => (ctx.side, status >= 500 || ctx.upstream_error.is_some()),
        };
        // A tester's override is not the judge's evidence either way.
        if !ctx.tester.overridden() {
            proxy
                .guard
                .record(snap, id, side, is_error, elapsed, Instant::now());
        }
        super::r#override::record(&proxy.metrics.overrides, ctx);
        if let Some(p) = pending_shadow {
            let failure = ctx.upstream_error.map(|k| {
                if k.contains("timeout") {
                    crate::shadow::CaptureOutcome::Timeout
                } else {
                    crate::shadow::CaptureOutcome::Error
                }
            });
            proxy.shadow.finish(
                p,
                session,
                snap,
                ctx.identity.as_ref(),
                failure,
                &proxy.rust,
            );
        }
    }
}
