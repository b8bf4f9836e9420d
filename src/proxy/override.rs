//! Tester overrides in the proxy: the `/-/override` page on the public port
//! (sets or clears the cookie), the cookie taken out of every request before
//! any backend or shadow copy sees it, and the side it grants.
//!
//! A valid cookie beats the flag *and* a guard trip: it is one tester asking
//! for one side on purpose, and their requests are never in the judge's
//! windows nor shadowed, so they cannot move the guard either way. An
//! invalid one is counted and ignored: the request follows its flag. Uses
//! the pure `r#override` checks; cookies and tokens never reach a log.

use bytes::Bytes;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::proxy::Session;

use super::{Ctx, Cutover, headers, unix_now};
use crate::config::Config;
use crate::flags::Side;
use crate::identity::Identity;
use crate::metrics::OverrideMetrics;
use crate::r#override::{self as grant, Rejection};
use crate::route::RouteId;

/// Per-request override state.
#[derive(Default)]
pub struct State {
    /// The cookie's value, taken out of the request.
    token: Option<String>,
    /// `flag` or `override` once the side is decided.
    decision: Option<&'static str>,
}

impl State {
    pub fn overridden(&self) -> bool {
        self.decision == Some("override")
    }

    /// For the access log: `flag`, `override`, or `none` (no route, or
    /// answered before the side was decided).
    pub fn decision_label(&self) -> &'static str {
        self.decision.unwrap_or("none")
    }
}

/// Before route matching: answer `/-/override`, else take the override
/// cookie out of the request. `Some(status)` when the page was written.
pub(super) async fn intercept(
    proxy: &Cutover,
    session: &mut Session,
    ctx: &mut Ctx,
    cfg: &Config,
) -> Option<u16> {
    if session.req_header().uri.path() == grant::PAGE_PATH {
        return Some(page(proxy, session, cfg).await);
    }
    if let Some(o) = &cfg.overrides {
        ctx.tester.token = take_cookie(session.req_header_mut(), &o.cookie);
    }
    None
}

/// After auth: the side a valid cookie grants for `route`, if any. Records
/// the decision either way and counts an ignored cookie's reason.
pub(super) fn side(
    metrics: &OverrideMetrics,
    cfg: &Config,
    state: &mut State,
    route: &RouteId,
    identity: Option<&Identity>,
) -> Option<Side> {
    state.decision = Some("flag");
    let (token, o) = (state.token.as_deref()?, cfg.overrides.as_ref()?);
    let user = identity.map(|i| i.user_id.as_str());
    match grant::verify(token, &o.keys, route.as_str(), user, unix_now()) {
        Ok(side) => {
            state.decision = Some("override");
            Some(side)
        }
        Err(why) => {
            metrics.rejected.with_label_values(&[why.label()]).inc();
            None
        }
    }
}

/// `cutover_decisions_total`, once per routed request whose side was decided.
pub(super) fn record(metrics: &OverrideMetrics, ctx: &Ctx) {
    if let (Some(route), Some(decision)) = (&ctx.route, ctx.tester.decision) {
        metrics
            .decisions
            .with_label_values(&[route.as_str(), decision])
            .inc();
    }
}

/// Removes every `name=` pair from the `Cookie` headers; returns the first
/// value. Other cookies (and headers that are not UTF-8) are kept as sent.
fn take_cookie(head: &mut RequestHeader, name: &str) -> Option<String> {
    headers::cookie(head, name)?;
    let mut found = None;
    let mut kept: Vec<http::HeaderValue> = Vec::new();
    for value in head.headers.get_all(http::header::COOKIE) {
        let Ok(text) = value.to_str() else {
            kept.push(value.clone());
            continue;
        };
        let mut rest = Vec::new();
        for pair in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some((k, v)) if k == name => {
                    found.get_or_insert_with(|| v.to_string());
                }
                _ => rest.push(pair),
            }
        }
        if !rest.is_empty()
            && let Ok(v) = http::HeaderValue::from_str(&rest.join("; "))
        {
            kept.push(v);
        }
    }
    head.remove_header(&http::header::COOKIE);
    for v in kept {
        // Cannot fail: the name is static and valid.
        let _ = head.append_header(http::header::COOKIE, v);
    }
    found
}

/// `/-/override?token=…` sets the cookie, `?clear=1` clears it.
async fn page(proxy: &Cutover, session: &mut Session, cfg: &Config) -> u16 {
    let extra = super::own_headers(&cfg.live);
    let extra = extra.as_slice();
    let head = session.req_header();
    if !matches!(head.method, http::Method::GET | http::Method::HEAD) {
        return write(
            session,
            405,
            ("Use GET", "Open this page in a browser."),
            None,
            extra,
        )
        .await;
    }
    let Some(o) = &cfg.overrides else {
        let why = "Tester overrides are off on this proxy: add [override] to routes.toml.";
        return write(session, 404, ("Tester overrides are off", why), None, extra).await;
    };
    let query = head.uri.query().unwrap_or("");
    let mut token = None;
    let mut clear = false;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "token" => token = Some(v.into_owned()),
            "clear" => clear = true,
            _ => {}
        }
    }
    let https = headers::scheme(session, &cfg.live.trusted_proxies) == "https";
    let secure = if https { "; Secure" } else { "" };
    if clear {
        let cookie = format!(
            "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}",
            o.cookie
        );
        let text = "Your tester override is cleared: every route follows its flag again.";
        return write(
            session,
            200,
            ("Override cleared", text),
            Some(cookie),
            extra,
        )
        .await;
    }
    let Some(token) = token else {
        let text = "Open the link `cutover override` printed (…?token=…), or ?clear=1 to clear.";
        return write(session, 400, ("No override token", text), None, extra).await;
    };
    let now = unix_now();
    match grant::inspect(&token, &o.keys, now) {
        Ok(g) => {
            let cookie = format!(
                "{}={token}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{secure}",
                o.cookie,
                g.expires.saturating_sub(now)
            );
            let until = chrono::DateTime::from_timestamp(g.expires as i64, 0)
                .map_or_else(|| g.expires.to_string(), |t| t.to_rfc3339());
            let who = g
                .user
                .as_deref()
                .map_or(String::new(), |u| format!(" while signed in as {u}"));
            let text = format!(
                "In this browser, requests for {} go to {}{who} until {until}, whatever the flags say.",
                g.describe_routes(),
                g.side.as_str()
            );
            write(
                session,
                200,
                ("Tester override set", &text),
                Some(cookie),
                extra,
            )
            .await
        }
        Err(why) => {
            proxy
                .metrics
                .overrides
                .rejected
                .with_label_values(&[why.label()])
                .inc();
            invalid(session, why, extra).await
        }
    }
}

async fn invalid(session: &mut Session, why: Rejection, extra: &[(&'static str, &str)]) -> u16 {
    let wants_json = session
        .req_header()
        .headers
        .get(http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json") && !a.contains("text/html"));
    if wants_json {
        let body = serde_json::json!({ "error": "invalid_override", "reason": why.label(), "message": why.explain() });
        let body = Bytes::from(body.to_string());
        return match super::respond::write_json(session, 400, body, extra).await {
            Ok(()) => 400,
            Err(_) => 0,
        };
    }
    write(
        session,
        400,
        ("Override not valid", why.explain()),
        None,
        extra,
    )
    .await
}

/// A small HTML page (never the token), no caching, no referrer (the URL
/// carries the token).
async fn write(
    session: &mut Session,
    status: u16,
    (title, text): (&str, &str),
    set_cookie: Option<String>,
    extra: &[(&'static str, &str)],
) -> u16 {
    let body = Bytes::from(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body><h1>{t}</h1><p>{x}</p><p><a href=\"/\">Go to the app</a></p></body></html>\n",
        t = escape(title),
        x = escape(text)
    ));
    let result: pingora::Result<()> = async {
        let mut h = ResponseHeader::build(status, Some(8))?;
        h.insert_header(http::header::CONTENT_TYPE, "text/html; charset=utf-8")?;
        h.insert_header(http::header::CONTENT_LENGTH, body.len().to_string())?;
        h.insert_header(http::header::CACHE_CONTROL, "no-store")?;
        h.insert_header("referrer-policy", "no-referrer")?;
        h.insert_header("x-content-type-options", "nosniff")?;
        h.insert_header("content-security-policy", "default-src 'none'")?;
        if let Some(c) = set_cookie {
            h.insert_header(http::header::SET_COOKIE, c)?;
        }
        for (k, v) in extra {
            h.insert_header(*k, *v)?;
        }
        session.set_keepalive(None);
        session.write_response_header(Box::new(h), false).await?;
        session.write_response_body(Some(body), true).await
    }
    .await;
    if result.is_ok() { status } else { 0 }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
