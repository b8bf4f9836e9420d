//! The headers cutover adds to every response it sends or relays:
//! `x-cutover-route`, `x-cutover-backend` (unless `[server]
//! response_headers = false`) and `x-cutover-instance` (when `[server]
//! instance` is set).

use http::HeaderValue;
use pingora::Result;
use pingora::http::ResponseHeader;

use crate::metrics;
use crate::reload::Snapshot;

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
/// a list first: every proxied response pays this. `backend` and the
/// unmatched route are static values (no copy).
pub(super) fn insert_response_headers(
    resp: &mut ResponseHeader,
    snap: &Snapshot,
    route: &str,
    backend: &'static str,
) -> Result<()> {
    let live = &snap.config.live;
    if live.response_headers {
        if route == metrics::UNMATCHED {
            resp.insert_header(
                "x-cutover-route",
                HeaderValue::from_static(metrics::UNMATCHED),
            )?;
        } else {
            resp.insert_header("x-cutover-route", route)?;
        }
        resp.insert_header("x-cutover-backend", HeaderValue::from_static(backend))?;
    }
    if let Some(instance) = &live.instance {
        resp.insert_header("x-cutover-instance", instance.as_str())?;
    }
    Ok(())
}

fn headers_for<'a>(
    live: &'a crate::config::LiveSettings,
    route: &'a str,
    backend: &'a str,
) -> Vec<(&'static str, &'a str)> {
    let mut headers = Vec::with_capacity(3);
    if live.response_headers {
        headers.push(("x-cutover-route", route));
        headers.push(("x-cutover-backend", backend));
    }
    if let Some(instance) = &live.instance {
        headers.push(("x-cutover-instance", instance.as_str()));
    }
    headers
}
