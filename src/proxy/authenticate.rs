//! Pipeline steps "take the token" and "authenticate": the route's auth
//! policy, run once per request. `?token=` leaves the URL whether or not it
//! is valid; a required credential that fails is a JSON 401 written here; an
//! optional route treats a bad credential like none (as getServerSession
//! does). May use `auth`, `metrics` and the proxy's context.

use pingora::http::RequestHeader;
use pingora::proxy::Session;

use super::{Ctx, Cutover, headers, respond, response_headers, unix_now};
use crate::auth::{AuthMode, AuthOutcome, Credentials, take_query_token};
use crate::metrics;
use crate::reload::Snapshot;
use crate::route::{Match, Route};

/// The rust side's path and query, and the `?token=` taken out of the URL
/// (when the route reads one): next then gets the URL without it
/// (`ctx.next_path`), rust the rewritten path with the rest of the query.
#[inline(never)]
pub(super) fn take_token(
    m: &Match<'_, '_>,
    head: &RequestHeader,
    ctx: &mut Ctx,
) -> (Option<String>, Option<String>) {
    if m.route.auth.query_token
        && let Some(pq) = head.uri.path_and_query()
    {
        let (clean, token) = take_query_token(pq.as_str());
        if token.is_some() {
            let rust = m.rust_path_and_query(clean.split_once('?').map(|(_, q)| q));
            ctx.next_path = Some(clean);
            return (rust, token);
        }
    }
    (m.rust_path_and_query(head.uri.query()), None)
}

/// Sets `ctx.identity` for a valid credential; `Some(status)` when the
/// request was refused (the 401 is written).
pub(super) async fn authenticate(
    proxy: &Cutover,
    session: &mut Session,
    ctx: &mut Ctx,
    snap: &Snapshot,
    route: &Route,
    query_token: Option<&str>,
) -> Option<u16> {
    if matches!(route.auth.mode, AuthMode::None) {
        return None;
    }
    let cfg = &snap.config;
    let head = session.req_header();
    let cookies: Vec<&str> = head
        .headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let creds = Credentials {
        cookies: &cookies,
        authorization: head
            .headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok()),
        query_token,
        https: headers::scheme(session, &cfg.live.trusted_proxies) == "https",
    };
    let outcome = cfg
        .authenticator
        .authenticate(&route.auth, &creds, unix_now());
    if let Some(result) = outcome.result_label() {
        proxy
            .metrics
            .auth
            .with_label_values(&[route.id.as_str(), outcome.scheme_label(), result])
            .inc();
    }
    match outcome {
        AuthOutcome::Authenticated(id) => ctx.identity = Some(id),
        AuthOutcome::Rejected { reason, .. } if matches!(route.auth.mode, AuthMode::Required) => {
            let www = cfg.authenticator.www_authenticate(&route.auth);
            let extra = response_headers(snap, route.id.as_str(), metrics::CUTOVER_BACKEND);
            return Some(respond::unauthorized(session, reason.as_str(), www, &extra).await);
        }
        // Optional routes treat a bad credential like none, as getServerSession does.
        AuthOutcome::Rejected { .. } | AuthOutcome::Anonymous => {}
    }
    None
}
