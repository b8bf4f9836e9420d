//! One shadow call: the copy of a finished request sent to one side (an
//! upstream over HTTP, or the embedded router on its own runtime), its
//! response captured up to the cap, all within the route's shadow timeout.
//! Runs in the background, after the client has its answer.

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::super::capture::Capture;
use crate::config::Upstream;
use crate::identity::Identity;
use crate::shadow::{CaptureOutcome, Captured, SHADOW_HEADER};

/// Where a copy goes.
#[derive(Clone)]
pub enum Dest {
    Upstream(Upstream),
    Embedded {
        router: axum::Router,
        runtime: tokio::runtime::Handle,
    },
}

/// The request as the copy sends it (client headers already cleaned).
#[derive(Clone)]
pub struct CopyRequest {
    pub method: http::Method,
    /// Path and query for this side.
    pub target: String,
    pub headers: http::HeaderMap,
    pub identity: Option<Identity>,
    pub body: Bytes,
    /// Adds `x-cutover-shadow: 1` (the rust handlers then persist nothing).
    pub dry_run: bool,
}

/// Send `req` to `dest`; capture at most `cap` body bytes; give up after `timeout`.
pub async fn call(
    client: &reqwest::Client,
    dest: &Dest,
    req: &CopyRequest,
    cap: usize,
    timeout: Duration,
) -> Captured {
    let work = async {
        match dest {
            Dest::Upstream(up) => upstream(client, up, req, cap).await,
            Dest::Embedded { router, runtime } => embedded(router, runtime, req, cap).await,
        }
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(c) => c,
        Err(_) => Captured::failed(CaptureOutcome::Timeout),
    }
}

async fn upstream(
    client: &reqwest::Client,
    up: &Upstream,
    req: &CopyRequest,
    cap: usize,
) -> Captured {
    let url = format!("{}{}", up.url.trim_end_matches('/'), req.target);
    let mut headers = req.headers.clone();
    if req.dry_run {
        headers.insert(SHADOW_HEADER, http::HeaderValue::from_static("1"));
    }
    let sent = client
        .request(req.method.clone(), url)
        .headers(headers)
        .body(req.body.clone())
        .send()
        .await;
    let resp = match sent {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return Captured::failed(CaptureOutcome::Timeout),
        Err(_) => return Captured::failed(CaptureOutcome::Error),
    };
    let mut capture = Capture::new(cap);
    capture.head(resp.status().as_u16(), resp.headers().iter());
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(b) => capture.body(&b),
            Err(_) => return Captured::failed(CaptureOutcome::Error),
        }
    }
    capture.finish(None)
}

async fn embedded(
    router: &axum::Router,
    runtime: &tokio::runtime::Handle,
    req: &CopyRequest,
    cap: usize,
) -> Captured {
    let mut builder = http::Request::builder()
        .method(req.method.clone())
        .uri(req.target.as_str());
    for (name, value) in &req.headers {
        builder = builder.header(name, value);
    }
    if req.dry_run {
        builder = builder.header(SHADOW_HEADER, "1");
    }
    let Ok(mut request) = builder.body(axum::body::Body::from(req.body.clone())) else {
        return Captured::failed(CaptureOutcome::Error);
    };
    if let Some(id) = &req.identity {
        request.extensions_mut().insert(id.clone());
    }
    let svc = router.clone();
    let joined = runtime
        .spawn(async move {
            let resp = match svc.oneshot(request).await {
                Ok(r) => r,
                Err(never) => match never {},
            };
            let (parts, mut body) = resp.into_parts();
            let mut capture = Capture::new(cap);
            capture.head(parts.status.as_u16(), parts.headers.iter());
            while let Some(frame) = body.frame().await {
                match frame {
                    Ok(f) => {
                        if let Ok(data) = f.into_data() {
                            capture.body(&data);
                        }
                    }
                    Err(_) => return Captured::failed(CaptureOutcome::Error),
                }
            }
            capture.finish(None)
        })
        .await;
    joined.unwrap_or_else(|_| Captured::failed(CaptureOutcome::Error))
}
