//! Reads an SSE response body frame by frame (handler tests: the body of a
//! `oneshot` response), each read bounded by a deadline.

use std::time::Duration;

use axum::body::Body;
use http_body_util::BodyExt;

const DEADLINE: Duration = Duration::from_secs(10);

/// One SSE frame: its fields (`id`, `event`, `data`, `retry`, or `:` for a comment).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Frame {
    pub id: Option<i64>,
    pub event: Option<String>,
    pub data: Option<String>,
    pub retry: Option<u64>,
    pub comment: Option<String>,
}

pub struct Stream {
    pub body: Body,
    pub buf: String,
}

impl Stream {
    /// The next frame, or `None` when the stream ended.
    pub async fn next(&mut self) -> Option<Frame> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let text: String = self.buf.drain(..end + 2).collect();
                return Some(parse(&text));
            }
            let frame = tokio::time::timeout(DEADLINE, self.body.frame())
                .await
                .expect("a frame within the deadline");
            match frame {
                Some(Ok(f)) => {
                    if let Ok(data) = f.into_data() {
                        self.buf.push_str(std::str::from_utf8(&data).unwrap());
                    }
                }
                _ => return None,
            }
        }
    }

    /// The next frame that carries an event.
    pub async fn event(&mut self) -> Frame {
        loop {
            let f = self.next().await.expect("stream still open");
            if f.event.is_some() {
                return f;
            }
        }
    }
}

fn parse(text: &str) -> Frame {
    let mut f = Frame::default();
    for line in text.lines() {
        if let Some(c) = line.strip_prefix(':') {
            f.comment = Some(c.trim().to_string());
        } else if let Some((k, v)) = line.split_once(": ") {
            match k {
                "id" => f.id = v.parse().ok(),
                "event" => f.event = Some(v.to_string()),
                "data" => f.data = Some(v.to_string()),
                "retry" => f.retry = v.parse().ok(),
                _ => panic!("unexpected field {k}"),
            }
        }
    }
    f
}
