//! Capturing a response for the shadow comparison while it streams to the
//! client: status and headers, then body bytes up to a cap. Never delays or
//! changes what the client gets. Used by the proxy's response filters and by
//! the embedded adapter; turns into a [`crate::shadow::Captured`].

use bytes::{Bytes, BytesMut};

use crate::shadow::{CaptureOutcome, Captured};

/// One response being captured (at most `cap` body bytes kept).
#[derive(Default)]
pub struct Capture {
    cap: usize,
    status: Option<u16>,
    headers: Vec<(String, String)>,
    body: BytesMut,
    truncated: bool,
}

impl Capture {
    pub fn new(cap: usize) -> Capture {
        Capture {
            cap,
            ..Capture::default()
        }
    }

    /// Records the status and headers (names lowercase, values as text).
    pub fn head<'a>(
        &mut self,
        status: u16,
        headers: impl Iterator<Item = (&'a http::HeaderName, &'a http::HeaderValue)>,
    ) {
        self.status = Some(status);
        self.headers = headers
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
    }

    /// Appends a body chunk, keeping at most the cap.
    pub fn body(&mut self, chunk: &[u8]) {
        let room = self.cap.saturating_sub(self.body.len());
        if chunk.len() > room {
            self.truncated = true;
        }
        self.body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }

    /// The captured response; `failure` when the side produced none.
    pub fn finish(self, failure: Option<CaptureOutcome>) -> Captured {
        match (self.status, failure) {
            (Some(status), None) => Captured {
                status,
                headers: self.headers,
                body: Bytes::from(self.body),
                truncated: self.truncated,
                outcome: CaptureOutcome::Ok,
            },
            (_, f) => Captured::failed(f.unwrap_or(CaptureOutcome::Error)),
        }
    }
}

#[cfg(test)]
mod tests;
