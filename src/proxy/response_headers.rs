//! The headers cutover adds to every response it sends or relays:
//! `x-cutover-route`, `x-cutover-backend` (unless `[server]
//! response_headers = false`) and `x-cutover-instance` (when `[server]
//! instance` is set).

use http::HeaderValue;
use pingora::Result;
use pingora::http::{KnownHeaderName, ResponseHeader};

use crate::flags::Side;
use crate::metrics;
use crate::reload::Snapshot;
use crate::route::RouteId;

/// `x-cutover-route` / `x-cutover-backend` (`next`, `rust` or `cutover`),
/// unless turned off in config; `x-cutover-instance` when `[server]
/// instance` is set.
pub(super) fn response_headers<'a>(
    snap: &'a Snapshot,
    route: &'a str,
    backend: &'a str,
) -> Vec<(&'static str, &'a str)> {
    headers_for(&snap.config.live, route, backend)
}

/// The headers of an answer cutover writes before any route is matched
/// (refused targets, the override page): route `(unmatched)`, backend `cutover`.
pub(super) fn own_headers(live: &crate::config::LiveSettings) -> Vec<(&'static str, &str)> {
    headers_for(live, metrics::UNMATCHED, metrics::CUTOVER_BACKEND)
}

/// [`response_headers`] inserted into a relayed response, without building
/// a list first: every proxied response pays this. The route's value is the
/// one built with its id, the backend's a static one: nothing is copied.
pub(super) fn insert_response_headers(
    resp: &mut ResponseHeader,
    live: &crate::config::LiveSettings,
    route: Option<&RouteId>,
    side: Side,
) -> Result<()> {
    if live.response_headers {
        let route = route.map_or(UNMATCHED_VALUE, |r| r.header_value().clone());
        // Static names: inserted without parsing or allocating them.
        resp.insert_header(&ROUTE, route)?;
        resp.insert_header(&BACKEND, side.header_value())?;
    }
    if let Some(instance) = live.instance.as_deref() {
        resp.insert_header(&INSTANCE, instance)?;
    }
    Ok(())
}

const UNMATCHED_VALUE: HeaderValue = HeaderValue::from_static(metrics::UNMATCHED);

fn headers_for<'a>(
    live: &'a crate::config::LiveSettings,
    route: &'a str,
    backend: &'a str,
) -> Vec<(&'static str, &'a str)> {
    each_header(live, route, backend)
        .map(|(name, value)| (name.name().as_str(), value))
        .collect()
}

static ROUTE: KnownHeaderName = KnownHeaderName::from_static("x-cutover-route");
static BACKEND: KnownHeaderName = KnownHeaderName::from_static("x-cutover-backend");
static INSTANCE: KnownHeaderName = KnownHeaderName::from_static("x-cutover-instance");

/// The one rule for which headers go out, without allocating.
fn each_header<'a>(
    live: &'a crate::config::LiveSettings,
    route: &'a str,
    backend: &'a str,
) -> impl Iterator<Item = (&'static KnownHeaderName, &'a str)> {
    let own = live.response_headers;
    [
        own.then_some((&ROUTE, route)),
        own.then_some((&BACKEND, backend)),
        live.instance
            .as_deref()
            .map(|instance| (&INSTANCE, instance)),
    ]
    .into_iter()
    .flatten()
}
