//! The headers cutover adds to every response it sends or relays:
//! `x-cutover-route`, `x-cutover-backend` (unless `[server]
//! response_headers = false`) and `x-cutover-instance` (when `[server]
//! instance` is set).

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
