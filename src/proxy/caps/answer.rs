//! A bounded copy of a response as it streams to the client, whole or not at
//! all: what a collapsed leader shares with its followers and the cache.

use bytes::{Bytes, BytesMut};

/// Status, headers and up to `limit` body bytes of one response.
#[derive(Debug)]
pub struct AnswerCapture {
    pub status: u16,
    pub headers: http::HeaderMap,
    body: BytesMut,
    limit: usize,
    /// More than `limit` bytes went by: the copy is incomplete.
    pub truncated: bool,
    pub complete: bool,
}

impl AnswerCapture {
    pub fn new(limit: usize) -> AnswerCapture {
        AnswerCapture {
            status: 0,
            headers: http::HeaderMap::new(),
            body: BytesMut::new(),
            limit,
            truncated: false,
            complete: false,
        }
    }

    pub fn head(&mut self, status: u16, headers: &http::HeaderMap) {
        self.status = status;
        self.headers = headers.clone();
    }

    pub fn body(&mut self, chunk: &[u8]) {
        if self.truncated {
            return;
        }
        if self.body.len() + chunk.len() > self.limit {
            self.truncated = true;
            self.body.clear();
            return;
        }
        self.body.extend_from_slice(chunk);
    }

    pub fn finish(&mut self) {
        self.complete = true;
    }

    /// The whole response, if it was captured completely.
    pub fn take(&mut self) -> Option<(u16, http::HeaderMap, Bytes)> {
        (self.complete && !self.truncated && self.status != 0).then(|| {
            (
                self.status,
                std::mem::take(&mut self.headers),
                std::mem::take(&mut self.body).freeze(),
            )
        })
    }
}
