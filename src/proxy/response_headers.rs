//! The headers cutover adds to every response it sends or relays:
//! `x-cutover-route`, `x-cutover-backend` (unless `[server]
//! response_headers = false`) and `x-cutover-instance` (when `[server]
//! instance` is set).

use http::HeaderValue;
use pingora::http::{KnownHeaderName, ResponseHeader};
use pingora::{Error, ErrorType, Result};

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
    let route = route.map_or(UNMATCHED_VALUE, |r| r.header_value().clone());
    let values = each_header(
        live,
        Ok(route),
        Ok(side.header_value()),
        HeaderValue::from_str,
    );
    for (name, value) in values {
        let value = value
            .map_err(|e| Error::because(ErrorType::InvalidHTTPHeader, "x-cutover-instance", e))?;
        // A static name: inserted without parsing or allocating it.
        resp.insert_header(name, value)?;
    }
    Ok(())
}

const UNMATCHED_VALUE: HeaderValue = HeaderValue::from_static(metrics::UNMATCHED);

fn headers_for<'a>(
    live: &'a crate::config::LiveSettings,
    route: &'a str,
    backend: &'a str,
) -> Vec<(&'static str, &'a str)> {
    each_header(live, route, backend, |instance| instance)
        .map(|(name, value)| (name.name().as_str(), value))
        .collect()
}

static ROUTE: KnownHeaderName = KnownHeaderName::from_static("x-cutover-route");
static BACKEND: KnownHeaderName = KnownHeaderName::from_static("x-cutover-backend");
static INSTANCE: KnownHeaderName = KnownHeaderName::from_static("x-cutover-instance");

/// The one rule for which headers go out, without allocating: the route's
/// and backend's values as given, the instance's made by `instance`.
fn each_header<'a, V>(
    live: &'a crate::config::LiveSettings,
    route: V,
    backend: V,
    instance: impl FnOnce(&'a str) -> V,
) -> impl Iterator<Item = (&'static KnownHeaderName, V)> {
    let own = live.response_headers;
    [
        own.then_some((&ROUTE, route)),
        own.then_some((&BACKEND, backend)),
        live.instance
            .as_deref()
            .map(|name| (&INSTANCE, instance(name))),
    ]
    .into_iter()
    .flatten()
}
