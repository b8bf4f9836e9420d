//! The single place errors become responses: status, JSON body, headers.
//!
//! Client-side failures are not logged as errors; internals never leak: the
//! body names the route and backend, not addresses or error chains.

use bytes::Bytes;
use pingora::http::ResponseHeader;
use pingora::proxy::Session;
use pingora::{Error, ErrorSource, ErrorType};

/// What went wrong, decided from a Pingora error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The backend could not be reached or failed mid-response.
    Upstream { status: u16, kind: &'static str },
    /// The client went away or sent garbage.
    Downstream { status: u16 },
    /// Our own bug or a limit.
    Internal,
}

pub fn classify(e: &Error) -> Failure {
    use ErrorType::*;
    match (e.esource(), e.etype()) {
        (_, HTTPStatus(code)) => Failure::Downstream { status: *code },
        (ErrorSource::Upstream, ConnectTimedout) => Failure::Upstream {
            status: 504,
            kind: "connect_timeout",
        },
        (ErrorSource::Upstream, ReadTimedout | WriteTimedout) => Failure::Upstream {
            status: 504,
            kind: "timeout",
        },
        (
            ErrorSource::Upstream,
            ConnectRefused | ConnectNoRoute | ConnectError | ConnectProxyFailure,
        ) => Failure::Upstream {
            status: 502,
            kind: "connect",
        },
        (ErrorSource::Upstream, TLSHandshakeFailure | TLSHandshakeTimedout | InvalidCert) => {
            Failure::Upstream {
                status: 502,
                kind: "tls",
            }
        }
        (ErrorSource::Upstream, ReadError | ConnectionClosed) => Failure::Upstream {
            status: 502,
            kind: "read",
        },
        (ErrorSource::Upstream, WriteError) => Failure::Upstream {
            status: 502,
            kind: "write",
        },
        (ErrorSource::Upstream, _) => Failure::Upstream {
            status: 502,
            kind: "other",
        },
        (ErrorSource::Downstream, ReadError | WriteError | ConnectionClosed) => {
            Failure::Downstream { status: 0 }
        }
        (ErrorSource::Downstream, _) => Failure::Downstream { status: 400 },
        _ => Failure::Internal,
    }
}

/// JSON error body: `{"error": code, "route": id, "backend": side}`.
pub fn json_body(error: &str, route: &str, backend: &str) -> Bytes {
    Bytes::from(
        serde_json::json!({ "error": error, "route": route, "backend": backend }).to_string(),
    )
}

/// Write the response for `failure` (if the client can still take one).
/// Returns the status written, 0 for none.
/// `extra`: the `x-cutover-route` / `x-cutover-backend` headers, when on.
pub async fn write_failure(
    session: &mut Session,
    failure: Failure,
    route: &str,
    backend: &str,
    extra: &[(&'static str, &str)],
) -> u16 {
    let (status, code) = match failure {
        Failure::Upstream { status: 504, .. } => (504, "upstream_timeout"),
        Failure::Upstream { status, .. } => (status, "bad_gateway"),
        Failure::Downstream { status: 0 } => return 0,
        Failure::Downstream { status: 408 } => (408, "request_timeout"),
        Failure::Downstream { status } => (status, "bad_request"),
        Failure::Internal => (500, "internal"),
    };
    // Not logged here: the request's access line carries the error
    // (`error`, `error_source`, `error_detail`), one line per request.
    // Too late to answer once a response has started.
    if session.response_written().is_some() {
        return status;
    }
    let body = json_body(code, route, backend);
    if write_json(session, status, body, extra).await.is_err() {
        return 0;
    }
    status
}

/// How long a failed request's unread body is still read (and dropped)
/// before its connection closes: see [`linger`].
pub const LINGER: std::time::Duration = std::time::Duration::from_secs(5);

/// After an answer written before the request body was read to its end (a
/// backend down during an upload, a refused token on one): read and drop
/// the rest of the body for up to [`LINGER`] before the connection closes.
/// Closing a socket with unread bytes sends a TCP reset, which can destroy
/// the answer in the client's buffers before it reads it: the client then
/// sees "connection reset" instead of cutover's JSON answer (nginx's
/// `lingering_close`). Not for a `408`: that client is the slow one. Bounded
/// in time; nothing is kept.
async fn linger(session: &mut Session, status: u16) {
    if status == 408 || session.as_downstream_mut().is_body_done() {
        return;
    }
    let drain = session.as_downstream_mut().drain_request_body();
    let _ = tokio::time::timeout(LINGER, drain).await;
}

/// Write a complete JSON response with extra headers.
pub async fn write_json(
    session: &mut Session,
    status: u16,
    body: Bytes,
    extra: &[(&'static str, &str)],
) -> pingora::Result<()> {
    let mut h = ResponseHeader::build(status, Some(4 + extra.len()))?;
    h.insert_header(http::header::CONTENT_TYPE, "application/json")?;
    h.insert_header(http::header::CONTENT_LENGTH, body.len().to_string())?;
    h.insert_header(http::header::CACHE_CONTROL, "no-store")?;
    for (k, v) in extra {
        h.insert_header(*k, *v)?;
    }
    session.set_keepalive(None);
    session.write_response_header(Box::new(h), false).await?;
    session.write_response_body(Some(body), true).await?;
    linger(session, status).await;
    Ok(())
}

/// `401` with `{"error":"unauthorized","reason":…}` and `WWW-Authenticate`.
/// The reason is a short code; details stay in the log and the metric.
/// `extra`: `x-cutover-route` / `x-cutover-backend: cutover`, when on.
pub async fn unauthorized(
    session: &mut Session,
    reason: &str,
    www_authenticate: String,
    extra: &[(&'static str, &str)],
) -> u16 {
    let body =
        Bytes::from(serde_json::json!({ "error": "unauthorized", "reason": reason }).to_string());
    let mut headers = vec![("www-authenticate", www_authenticate.as_str())];
    headers.extend_from_slice(extra);
    match write_json(session, 401, body, &headers).await {
        Ok(()) => 401,
        Err(_) => 0,
    }
}
