//! Serve the in-process axum router from a Pingora session: no extra hop,
//! bodies streamed both ways (never buffered whole).
//!
//! Request body chunks are fed to the handler through a small channel while
//! its response streams back; whichever side is ready first makes progress.

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::BodyExt;
use pingora::http::ResponseHeader;
use pingora::proxy::Session;
use tower::ServiceExt;

use crate::proxy::body_deadline::{self, BodyClock};

/// Request body chunks in flight between the session and the handler.
const BODY_CHANNEL_DEPTH: usize = 8;

/// How often an idle open stream checks whether its policy ended it.
/// [`Hooks::stream`]: the open-stream handle of a response, if it is one.
pub type StartStream<'a> =
    dyn FnMut(&ResponseHeader) -> Option<Box<crate::proxy::streams::Open>> + Send + 'a;

/// The extras of [`serve_with`]: what the caller observes, decides or bounds.
pub struct Hooks<'a> {
    /// Tee of the response as written (for the shadow comparison).
    pub capture: Option<&'a mut crate::proxy::capture::Capture>,
    /// Asked with the handler's status, or with its timeout, before anything
    /// is written: `true` leaves the response unwritten (the caller falls
    /// back to next).
    pub decline: Option<&'a mut (dyn FnMut(Early) -> bool + Send)>,
    /// The request body when cutover already read it (caps read auth forms).
    pub prefetched: Option<Bytes>,
    /// Whole-or-nothing copy for a collapsed leader's followers.
    pub answer: Option<&'a mut crate::proxy::caps::AnswerCapture>,
    /// Deadline for the handler's response head (a 504 after it).
    pub timeout: Option<std::time::Duration>,
    /// The request body's deadline.
    pub body_clock: BodyClock,
    /// Registers an SSE response as an open stream; its route's `streams`
    /// policy may then end it at an event boundary (see `proxy::streams`).
    pub stream: Option<&'a mut StartStream<'a>>,
}

/// How the handler ended before anything was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Early {
    /// It answered with this status.
    Status(u16),
    /// It had not answered when `Hooks::timeout` ran out (it is aborted).
    TimedOut,
}

/// What [`serve_with`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Served {
    Written(u16),
    /// `decline` said so: nothing was written.
    Declined(Early),
}

/// Run the embedded router on the request in `session` (with
/// `path_and_query` as its URI and `extensions` attached) and write its
/// response, unless `hooks.decline` turns it down first.
pub async fn serve_with(
    session: &mut Session,
    rust: &crate::app::Embedded,
    path_and_query: &str,
    extensions: http::Extensions,
    extra_headers: &[(&'static str, &str)],
    mut hooks: Hooks<'_>,
) -> pingora::Result<Served> {
    let head = session.req_header();
    let mut builder = http::Request::builder()
        .method(head.method.clone())
        .uri(path_and_query);
    for (name, value) in head.headers.iter() {
        // Identity comes as a typed extension; client-sent copies never pass.
        if !super::is_hop_or_ours(name.as_str()) {
            builder = builder.header(name, value);
        }
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(BODY_CHANNEL_DEPTH);
    let body = axum::body::Body::from_stream(tokio_stream_from(rx));
    let mut request = builder.body(body).map_err(|e| {
        pingora::Error::because(
            pingora::ErrorType::InvalidHTTPHeader,
            "request for embedded handler",
            e,
        )
    })?;
    *request.extensions_mut() = extensions;

    let svc = rust.router.clone();
    let mut handler = rust
        .runtime
        .spawn(async move { svc.oneshot(request).await });
    let mut feed = Some(tx);
    if let Some(body) = hooks.prefetched.take() {
        // Already read whole: hand it over and close the body.
        let _ = feed.as_ref().map(|tx| tx.try_send(Ok(body)));
        feed = None;
    } else if session.as_downstream_mut().is_body_done() {
        feed = None;
    }

    // Phase 1: feed the body until the handler answers (or its time is up).
    let deadline = hooks.timeout.map(|t| tokio::time::Instant::now() + t);
    let response = loop {
        tokio::select! {
            joined = &mut handler => break joined,
            () = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } } => {
                handler.abort();
                if let Some(decline) = hooks.decline.as_mut()
                    && decline(Early::TimedOut)
                {
                    return Ok(Served::Declined(Early::TimedOut));
                }
                return Err(pingora::Error::new_up(pingora::ErrorType::ReadTimedout));
            }
            chunk = body_deadline::read_chunk(session, hooks.body_clock), if feed.is_some() => {
                forward_chunk(&mut feed, deadline_or(chunk)?).await;
            }
        }
    };
    let response = match response {
        Ok(Ok(r)) => r,
        Ok(Err(never)) => match never {},
        Err(join) => {
            return Err(pingora::Error::because(
                pingora::ErrorType::InternalError,
                "embedded handler panicked",
                join,
            ));
        }
    };

    let (parts, mut body) = response.into_parts();
    let status = parts.status.as_u16();
    if let Some(decline) = hooks.decline.as_mut()
        && decline(Early::Status(status))
    {
        return Ok(Served::Declined(Early::Status(status)));
    }
    if let Some(c) = hooks.capture.as_mut() {
        c.head(status, parts.headers.iter());
    }
    if let Some(a) = hooks.answer.as_mut() {
        a.head(status, &parts.headers);
    }
    let mut header = ResponseHeader::build(
        parts.status,
        Some(parts.headers.len() + extra_headers.len() + 1),
    )?;
    for (name, value) in parts.headers.iter() {
        if !super::HOP_BY_HOP.contains(&name.as_str()) {
            header.append_header(name.clone(), value.clone())?;
        }
    }
    for (name, value) in extra_headers {
        header.insert_header(*name, *value)?;
    }
    let no_body = head_or_bodyless(session, status);
    if !no_body && !parts.headers.contains_key(http::header::CONTENT_LENGTH) {
        match http_body::Body::size_hint(&body).exact() {
            Some(n) => header.insert_header(http::header::CONTENT_LENGTH, n.to_string())?,
            None => header.insert_header(http::header::TRANSFER_ENCODING, "chunked")?,
        }
    }
    let eos = no_body || http_body::Body::is_end_stream(&body);
    let mut stream = match hooks.stream.as_mut() {
        Some(start) if !eos => start(&header),
        _ => None,
    };
    // An idle stream (between events) is woken when it is due to end.
    let mut wake = stream.as_mut().and_then(|s| s.wakeup());
    session.write_response_header(Box::new(header), eos).await?;
    if eos {
        if let Some(a) = hooks.answer {
            a.finish();
        }
        return Ok(Served::Written(status));
    }

    // Phase 2: stream the response, still feeding any request body left.
    loop {
        tokio::select! {
            frame = body.frame() => match frame {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data()
                        && !data.is_empty()
                    {
                        if let Some(c) = hooks.capture.as_mut() {
                            c.body(&data);
                        }
                        if let Some(a) = hooks.answer.as_mut() {
                            a.body(&data);
                        }
                        if relay(session, &mut stream, data).await? {
                            break;
                        }
                    }
                }
                Some(Err(e)) => {
                    return Err(pingora::Error::because(
                        pingora::ErrorType::InternalError,
                        "embedded handler body",
                        e,
                    ));
                }
                None => break,
            },
            () = async { match wake.as_mut() { Some(w) => w.await, None => std::future::pending().await } } => {
                if relay(session, &mut stream, Bytes::new()).await? {
                    break;
                }
                wake = stream.as_mut().and_then(|s| s.wakeup());
            }
            chunk = body_deadline::read_chunk(session, hooks.body_clock), if feed.is_some() => {
                forward_chunk(&mut feed, deadline_or(chunk)?).await;
            }
        }
    }
    session.write_response_body(None, true).await?;
    if let Some(a) = hooks.answer {
        a.finish();
    }
    Ok(Served::Written(status))
}

/// Write `data` through the open stream's filter, if any; `true` when the
/// stream's policy ended the response with it.
async fn relay(
    session: &mut Session,
    stream: &mut Option<Box<crate::proxy::streams::Open>>,
    data: Bytes,
) -> pingora::Result<bool> {
    let mut body = Some(data);
    let ends = stream.as_mut().is_some_and(|s| s.filter(&mut body));
    if let Some(b) = body.filter(|b| !b.is_empty()) {
        session.write_response_body(Some(b), false).await?;
    }
    Ok(ends)
}

/// A chunk for the handler, or the body deadline's `408` for the client
/// (the handler never sees a body that came too slowly).
fn deadline_or(
    chunk: pingora::Result<Option<Bytes>>,
) -> pingora::Result<pingora::Result<Option<Bytes>>> {
    match chunk {
        Err(e) if body_deadline::is_deadline(&e) => Err(e),
        other => Ok(other),
    }
}

async fn forward_chunk(
    feed: &mut Option<tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>>,
    chunk: pingora::Result<Option<Bytes>>,
) {
    let Some(tx) = feed.as_ref() else { return };
    let item = match chunk {
        Ok(Some(b)) => Ok(b),
        Ok(None) => {
            *feed = None;
            return;
        }
        Err(e) => Err(std::io::Error::other(e.to_string())),
    };
    let failed = item.is_err();
    // The handler may drop its body without reading it: then stop feeding.
    if tx.send(item).await.is_err() || failed {
        *feed = None;
    }
}

fn head_or_bodyless(session: &Session, status: u16) -> bool {
    session.req_header().method == http::Method::HEAD
        || status == 204
        || status == 304
        || status < 200
}

fn tokio_stream_from<T: Send + 'static>(
    mut rx: tokio::sync::mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> + Send + 'static {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed()
}
