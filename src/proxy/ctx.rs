//! The per-request context: everything cutover knows about one request,
//! from `new_ctx` (the clock starts after its head was read) to `logging`.
//! Plain data and the two metric labels derived from it.

use std::sync::Arc;
use std::time::Instant;

use super::{caps, r#override, shadow, streams};
use crate::flags::Side;
use crate::identity::Identity;
use crate::metrics;
use crate::reload::Snapshot;
use crate::route::RouteKind;

/// Per-request state.
pub struct Ctx {
    pub(super) start: Instant,
    pub(super) snap: Option<Arc<Snapshot>>,
    /// Index-free route info, copied out of the snapshot.
    pub(super) route: Option<crate::route::RouteId>,
    pub(super) kind: RouteKind,
    pub(super) side: Side,
    /// Rewritten path for the rust side.
    pub(super) rust_path: Option<String>,
    /// Status of a response written in `request_filter` (by cutover itself,
    /// unless `answered_by_side`).
    pub(super) local_status: Option<u16>,
    /// The local response is a backend's: the embedded handler's, or another
    /// request's answer replayed by the caps (collapsed follower, cache hit).
    pub(super) answered_by_side: bool,
    /// `fail_to_proxy` answered for a failure that was not the backend's
    /// (a bad request, cutover's own error).
    pub(super) cutover_failure: bool,
    /// Why the upstream failed, for the metric.
    pub(super) upstream_error: Option<&'static str>,
    /// The verified caller, if any.
    pub(super) identity: Option<Identity>,
    /// Path and query for next when cutover rewrote it (`?token=` removed).
    pub(super) next_path: Option<String>,
    /// Cap permit, collapse leadership, the answer to share.
    pub(super) cap: caps::CapCtx,
    /// A shadow copy to send once the response is done.
    pub(super) shadow: Option<Box<shadow::Pending>>,
    /// Why a failed rust request was retried on next (`x-cutover-fallback`).
    pub(super) fallback: Option<&'static str>,
    /// The tester override cookie (taken out of the request) and what decided the side.
    pub(super) tester: r#override::State,
    /// This response is an open stream (SSE, WebSocket): see `streams`.
    pub(super) stream: Option<Box<streams::Open>>,
    /// Its policy ended it with the last body chunk.
    pub(super) stream_ended: bool,
}

impl Ctx {
    /// An empty context; the request's clock starts now.
    pub(super) fn new() -> Ctx {
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

    /// The `backend` label of this request: `cutover` when cutover answered
    /// on its own (auth and cap refusals, ambiguous targets, bad requests,
    /// its own errors), else the side (a 502/504 written because that side
    /// failed is that side's: see `metrics`).
    pub(super) fn backend_label(&self) -> &'static str {
        if (self.local_status.is_some() && !self.answered_by_side) || self.cutover_failure {
            metrics::CUTOVER_BACKEND
        } else {
            self.side.as_str()
        }
    }

    pub(super) fn route_label(&self) -> &str {
        self.route
            .as_ref()
            .map_or(metrics::UNMATCHED, |r| r.as_str())
    }
}
