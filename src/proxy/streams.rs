//! Glue between the proxy and [`crate::streams`]: registers each SSE
//! response and upgraded WebSocket as it starts, ends it at a boundary once
//! its route's policy says so, and re-decides every open stream's side after
//! each config snapshot. Metrics: `cutover_open_streams`,
//! `cutover_stream_migrations_total`.

use std::borrow::Cow;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use pingora::http::ResponseHeader;
use pingora::proxy::Session;

use crate::flags::{self, Side, StickyBy};
use crate::metrics::Metrics;
use crate::metrics::StreamMetrics;
use crate::reload::Snapshot;
use crate::route::RouteId;
use crate::streams::registry::{Entry, Reason, Registry, StickyKeys};
use crate::streams::sse::{SseBoundaries, retry_field};
use crate::streams::waves::retry_ms;
use crate::streams::ws::{FrameBoundaries, SERVICE_RESTART, close_frame};
use crate::streams::{Pace, StreamPolicy};

/// Every open stream of this process; outlives snapshots.
pub struct StreamState {
    registry: Mutex<Registry>,
    metrics: Arc<Metrics>,
    guard: Arc<super::guard::GuardState>,
}

impl StreamState {
    pub fn new(metrics: Arc<Metrics>, guard: Arc<super::guard::GuardState>) -> StreamState {
        StreamState {
            registry: Mutex::default(),
            metrics,
            guard,
        }
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// After a new snapshot: `drain` deadlines, paced `migrate` waves for
    /// streams whose route now decides another side for their sticky key.
    pub fn on_snapshot(&self, snap: &Snapshot) {
        let cfg = &snap.config;
        let m = &self.metrics.streams;
        for (route, policy) in &cfg.route_streams {
            if *policy != StreamPolicy::Keep {
                // Zero-valued series from the start, so rates and panels show.
                for side in [Side::Next, Side::Rust] {
                    m.open.with_label_values(&[route.as_str(), side.as_str()]);
                }
                for reason in [Reason::Migrate, Reason::MaxAge] {
                    m.migrations
                        .with_label_values(&[route.as_str(), reason.as_str()]);
                }
            }
        }
        let decide = |e: &Entry| {
            let side = flags::decide(&e.route, cfg.flag(&e.route), |by| sticky_key(&e.keys, by));
            self.guard.hold(cfg, &e.route, side)
        };
        let mut jitter = rand::random::<f64>;
        let scheduled = self.registry().reconcile(
            |r| cfg.stream_policy(r),
            decide,
            Instant::now(),
            &mut jitter,
        );
        if scheduled > 0 {
            tracing::info!(
                target: "cutover::streams",
                scheduled,
                "open streams scheduled to end so they reconnect to their new side"
            );
        }
    }
}

/// The sticky key `by` names, from what the stream's request carried.
fn sticky_key<'k>(keys: &'k StickyKeys, by: &StickyBy) -> Cow<'k, str> {
    let named = |name: &str| keys.named.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    let value = match by {
        StickyBy::User => keys.user.as_ref(),
        StickyBy::Ip => None,
        StickyBy::Cookie(name) => named(&format!("cookie:{name}")),
        StickyBy::Header(name) => named(&format!("header:{name}")),
    };
    Cow::Borrowed(value.unwrap_or(&keys.ip).as_str())
}

/// Where a stream may be ended.
enum Boundaries {
    Sse(SseBoundaries),
    Ws(FrameBoundaries),
}

/// One open stream of a request (in its `Ctx`); deregistered when dropped.
pub struct Open {
    id: u64,
    entry: Arc<Entry>,
    state: Arc<StreamState>,
    boundaries: Boundaries,
    pace: Option<Pace>,
    /// Cutover ended it (a WebSocket's later server bytes are dropped).
    ended: bool,
    /// A wake-up was handed out already (see [`Open::wakeup`]).
    woken: bool,
    closed: bool,
}

impl Open {
    /// Register the response `resp` starts, if it is a stream: a `101`
    /// upgrade or a `text/event-stream` body without a length. `keys` is
    /// only called for a stream.
    pub fn start(
        state: &Arc<StreamState>,
        resp: &ResponseHeader,
        cfg: &crate::config::Config,
        route: &RouteId,
        side: Side,
        keys: impl FnOnce() -> StickyKeys,
    ) -> Option<Box<Open>> {
        let boundaries = if resp.status.as_u16() == 101 {
            Boundaries::Ws(FrameBoundaries::default())
        } else if is_event_stream(resp) {
            Boundaries::Sse(SseBoundaries::default())
        } else {
            return None;
        };
        let policy = cfg.stream_policy(route);
        let keys = keys();
        let now = Instant::now();
        let (id, entry) = state
            .registry()
            .open(route.clone(), side, keys, policy, now);
        state
            .metrics
            .streams
            .open
            .with_label_values(&[route.as_str(), side.as_str()])
            .inc();
        let pace = match policy {
            StreamPolicy::Migrate { pace } => Some(pace),
            _ => None,
        };
        Some(Box::new(Open {
            id,
            entry,
            state: state.clone(),
            boundaries,
            pace,
            ended: false,
            woken: false,
            closed: false,
        }))
    }

    /// A future that resolves when this stream is due to end, so an idle
    /// stream (no bytes from its upstream) is ended on time: the relay loop
    /// then filters an empty chunk (vendored Pingora patch 5). `None` once
    /// cutover ended it. After a wake-up that could not end it (mid-event,
    /// mid-frame: the next bytes will), the next one waits for a new deadline
    /// (as when the migration gate moved this stream's turn later).
    pub fn wakeup(&mut self) -> Option<std::pin::Pin<Box<dyn Future<Output = ()> + Send>>> {
        if self.ended {
            return None;
        }
        let woken = std::mem::replace(&mut self.woken, true);
        Some(Box::pin(self.entry.wait_due(woken)))
    }

    /// Filter one relayed server→client chunk; `true`: the response ends
    /// with it (an SSE stream ended after its `retry:` line).
    pub fn filter(&mut self, body: &mut Option<Bytes>) -> bool {
        if self.ended {
            // A WebSocket after its close frame: nothing more for the client.
            *body = body.as_ref().map(|_| Bytes::new());
            return false;
        }
        let Some(chunk) = body.as_ref() else {
            return false;
        };
        let boundary = match &mut self.boundaries {
            Boundaries::Sse(t) => t.feed(chunk),
            Boundaries::Ws(t) => t.feed(chunk),
        };
        let Some(at) = boundary else {
            return false;
        };
        let now = Instant::now();
        // Lock-free until the deadline has passed; then the migration gate.
        if self.entry.due(now).is_none() {
            return false;
        }
        let mut jitter = rand::random::<f64>;
        let turn = self
            .state
            .registry()
            .take_turn(&self.entry, now, &mut jitter);
        let Some(reason) = turn else {
            return false;
        };
        let mut out = BytesMut::from(&chunk[..at]);
        let ends_response = match self.boundaries {
            Boundaries::Sse(_) => {
                let ms = retry_ms(self.pace, rand::random::<f64>());
                out.extend_from_slice(retry_field(ms).as_bytes());
                true
            }
            Boundaries::Ws(_) => {
                out.extend_from_slice(&close_frame(SERVICE_RESTART));
                false
            }
        };
        *body = Some(out.freeze());
        self.ended = true;
        self.metrics()
            .migrations
            .with_label_values(&[self.entry.route.as_str(), reason.as_str()])
            .inc();
        self.close();
        ends_response
    }

    fn metrics(&self) -> &StreamMetrics {
        &self.state.metrics.streams
    }

    fn close(&mut self) {
        if std::mem::replace(&mut self.closed, true) {
            return;
        }
        self.state.registry().close(self.id);
        self.metrics()
            .open
            .with_label_values(&[self.entry.route.as_str(), self.entry.side.as_str()])
            .dec();
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.close();
    }
}

/// What the flags need to decide a stream's side again, from its request.
/// `pinned`: a tester override or a fallback chose the side, not the flag.
pub fn keys(
    session: &Session,
    cfg: &crate::config::Config,
    route: &RouteId,
    user: Option<&str>,
    pinned: bool,
) -> StickyKeys {
    LaterKeys::of(session, cfg, route, pinned).keys(user)
}

/// [`keys`] for a response that may turn out to be a stream: the cheap
/// parts now (no allocation unless the flag is sticky on a cookie or
/// header), the rest only for a stream.
pub struct LaterKeys {
    ip: Option<std::net::IpAddr>,
    named: Vec<(String, String)>,
    pinned: bool,
}

impl LaterKeys {
    pub fn of(
        session: &Session,
        cfg: &crate::config::Config,
        route: &RouteId,
        pinned: bool,
    ) -> Self {
        LaterKeys {
            ip: super::headers::client_ip(session, &cfg.live.trusted_proxies),
            named: named_keys(session, cfg.flag(route)),
            pinned,
        }
    }

    pub fn keys(&self, user: Option<&str>) -> StickyKeys {
        StickyKeys {
            user: user.map(str::to_string),
            ip: self.ip.map(|ip| ip.to_string()).unwrap_or_default(),
            named: self.named.clone(),
            pinned: self.pinned,
        }
    }
}

/// The cookie or header a canary flag is sticky on, if the request had it.
fn named_keys(session: &Session, flag: Option<&flags::Flag>) -> Vec<(String, String)> {
    let head = session.req_header();
    let Some(flags::Rule::Canary { sticky_by, .. }) = flag.map(|f| &f.rule) else {
        return Vec::new();
    };
    let found = match sticky_by {
        StickyBy::Cookie(name) => {
            super::headers::cookie(head, name).map(|v| (format!("cookie:{name}"), v.to_string()))
        }
        StickyBy::Header(name) => head
            .headers
            .get(name.as_str())
            .and_then(|v| v.to_str().ok())
            .map(|v| (format!("header:{name}"), v.to_string())),
        StickyBy::User | StickyBy::Ip => None,
    };
    found.into_iter().collect()
}

fn is_event_stream(resp: &ResponseHeader) -> bool {
    let ct = resp
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    ct.trim_start().starts_with("text/event-stream")
        && !resp.headers.contains_key(http::header::CONTENT_LENGTH)
}
