//! `GET /api/whatsapp/media/{id}` (HEAD too): streams the stored file of a
//! media message to a member of the message's tenant, with the caching,
//! conditional and byte-range behaviour of contracts/whatsapp.md.
//!
//! Order: identity kind (401/403) → storage configured (503) → message
//! visible and with media (404 `Message not found`) → safe object name, file
//! present under the root (404 `Media not found`) → `If-None-Match` (304) →
//! `Range` (206/416) → the whole file (200). The body is read from disk in
//! 64 KiB chunks as the client consumes it. Pure parts: `object` (the name
//! rule), `range`, `headers`.

mod headers;
mod object;
mod range;
#[cfg(test)]
mod tests;

use std::io::SeekFrom;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use tokio::fs::File;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::io::ReaderStream;

use super::WaError;
use crate::handlers::extract::Caller;
use crate::handlers::{AppState, HandlerError};
use crate::store::whatsapp::media::{MediaRow, visible_media};
use object::OpenError;
use range::Selection;

/// Read size of the body stream (bounded memory per response).
const CHUNK: usize = 64 * 1024;

const MESSAGE_NOT_FOUND: WaError = WaError::NotFound("Message not found");
const MEDIA_NOT_FOUND: WaError = WaError::NotFound("Media not found");
const NOT_CONFIGURED: WaError = WaError::Unavailable("Media storage not configured");

pub fn router() -> Router<AppState> {
    Router::new().route("/api/whatsapp/media/{id}", get(serve))
}

async fn serve(
    State(state): State<AppState>,
    caller: Result<Caller, HandlerError>,
    id: Result<Path<String>, PathRejection>,
    req: HeaderMap,
) -> Result<Response, WaError> {
    let caller = caller.map_err(|_| WaError::Unauthorized)?;
    let user = caller.session_user().map_err(|_| WaError::Forbidden)?;
    let root = state.media_root.as_deref().ok_or(NOT_CONFIGURED)?;
    // An undecodable id names no row.
    let Ok(Path(id)) = id else {
        return Err(MESSAGE_NOT_FOUND);
    };
    let row = visible_media(&state.pool, &id, user)
        .await?
        .ok_or(MESSAGE_NOT_FOUND)?;
    let name = match row.media_url.as_deref() {
        Some(name) if !name.is_empty() => name,
        _ => return Err(MESSAGE_NOT_FOUND),
    };
    let (mut file, size) = object::open(root, name).await.map_err(|e| match e {
        OpenError::NotFound => MEDIA_NOT_FOUND,
        OpenError::Io(e) => WaError::from(e),
    })?;

    let etag = headers::etag(&row.id, size);
    if headers::none_match(&values(&req, header::IF_NONE_MATCH), &etag) {
        return respond(StatusCode::NOT_MODIFIED, &row, &etag, &[], no_body());
    }
    let if_range = req.get(header::IF_RANGE).map(|v| v.as_bytes());
    let (status, start, len) =
        match range::select(&values(&req, header::RANGE), if_range, &etag, size) {
            Selection::Full => (StatusCode::OK, 0, size),
            Selection::Part { start, len } => (StatusCode::PARTIAL_CONTENT, start, len),
            Selection::Unsatisfiable => return Ok(not_satisfiable(size)),
        };
    if start > 0 {
        file.seek(SeekFrom::Start(start)).await?;
    }
    let mut extra = vec![(header::CONTENT_LENGTH, len.to_string())];
    if status == StatusCode::PARTIAL_CONTENT {
        let last = start + len - 1;
        extra.push((
            header::CONTENT_RANGE,
            format!("bytes {start}-{last}/{size}"),
        ));
    }
    respond(status, &row, &etag, &extra, stream(file, len))
}

/// Every line of a request header, as bytes.
fn values(req: &HeaderMap, name: HeaderName) -> Vec<&[u8]> {
    req.get_all(name).iter().map(|v| v.as_bytes()).collect()
}

/// `len` bytes from the file's current position, read as they are sent.
fn stream(file: File, len: u64) -> Body {
    Body::from_stream(ReaderStream::with_capacity(file.take(len), CHUNK))
}

/// The empty body of a 304. Its length is left unknown on purpose: axum
/// would answer an exact 0 with `Content-Length: 0`, which on a 304 claims
/// the file is empty (RFC 9110 §8.6); servers send no body on a 304 anyway.
fn no_body() -> Body {
    Body::from_stream(futures::stream::empty::<Result<Bytes, std::io::Error>>())
}

/// 200/206/304 with the contract's media headers plus `extra`.
fn respond(
    status: StatusCode,
    row: &MediaRow,
    etag: &str,
    extra: &[(HeaderName, String)],
    body: Body,
) -> Result<Response, WaError> {
    let mut res = Response::builder()
        .status(status)
        .header(
            header::CONTENT_TYPE,
            headers::content_type(row.mime_type.as_deref()),
        )
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, "private, max-age=3600")
        .header(header::ETAG, etag)
        .header(
            header::CONTENT_DISPOSITION,
            headers::content_disposition(row.file_name.as_deref()),
        );
    for (name, value) in extra {
        res = res.header(name, value);
    }
    // Only an id with control characters can fail here.
    res.body(body)
        .map_err(|e| WaError::Internal(format!("media response headers: {e}")))
}

/// 416 with `Content-Range: bytes */<size>` and the JSON error body.
fn not_satisfiable(size: u64) -> Response {
    (
        StatusCode::RANGE_NOT_SATISFIABLE,
        [(header::CONTENT_RANGE, format!("bytes */{size}"))],
        axum::Json(json!({ "error": "Range not satisfiable" })),
    )
        .into_response()
}
