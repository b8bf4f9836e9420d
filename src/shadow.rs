//! Shadow comparison: the pure part of sending a copy of a request to the other
//! backend and comparing the two answers.
//!
//! Owns the captured-response type, the comparison verdict and its metric
//! categories (`compare`), JSON ignore paths (`path`), the bounded and redacted
//! diff log served at `/-/diffs` (`diffs`, `redact`) and the per-request shadow
//! decision (`plan`). May use `http`, `bytes`, `serde_json`, `sha2`; knows
//! nothing of Pingora, sockets, TOML or clocks (time is passed in). The proxy
//! glue spawns the calls, fills [`Captured`] and records the metrics.

mod compare;
mod diffs;
mod path;
mod plan;
mod redact;

pub use compare::{ComparePolicy, compare};
pub use diffs::{DiffEntry, DiffLog, DiffLogLimits};
pub use path::JsonPath;
pub use plan::{Plan, ShadowFlag, ShadowRoute, ShadowWrites, SkipReason, plan};
pub use redact::{redact_path, redact_text};

use bytes::Bytes;
use std::fmt;

/// Header set on a dry-run copy of a write: the rust handlers must not persist
/// or broadcast anything for such a request.
pub const SHADOW_HEADER: &str = "x-cutover-shadow";

/// Errors of this module (only configuration input can produce them).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShadowError {
    #[error("ignore path {path:?} {reason}")]
    InvalidPath { path: String, reason: &'static str },
}

/// How capturing one side's response ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureOutcome {
    /// A full response (possibly with a body truncated at the cap).
    Ok,
    /// No response within the shadow timeout.
    Timeout,
    /// Connect error, reset, or a malformed response.
    Error,
}

/// One side's response as captured by the proxy glue, body capped.
#[derive(Clone, PartialEq, Eq)]
pub struct Captured {
    pub status: u16,
    /// Response headers in arrival order; names in any case.
    pub headers: Vec<(String, String)>,
    /// The body, at most the route's `compare.max_body_bytes`.
    pub body: Bytes,
    /// The body was longer than the cap and `body` holds only its start.
    pub truncated: bool,
    pub outcome: CaptureOutcome,
}

impl Captured {
    /// A complete response (outcome `Ok`, not truncated).
    pub fn ok(status: u16, headers: Vec<(String, String)>, body: impl Into<Bytes>) -> Self {
        Captured {
            status,
            headers,
            body: body.into(),
            truncated: false,
            outcome: CaptureOutcome::Ok,
        }
    }

    /// A side that produced no response (`Timeout` or `Error`).
    pub fn failed(outcome: CaptureOutcome) -> Self {
        Captured {
            status: 0,
            headers: Vec::new(),
            body: Bytes::new(),
            truncated: false,
            outcome,
        }
    }

    /// All values of header `name` (case-insensitive), joined with ", ".
    pub fn header(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }

    /// The body is declared JSON (`application/json`, `…+json`).
    pub fn is_json(&self) -> bool {
        self.header("content-type")
            .map(|ct| ct.to_ascii_lowercase().contains("json"))
            .unwrap_or(false)
    }
}

/// Never prints header values or the body: they may hold cookies and tokens.
impl fmt::Debug for Captured {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("Captured")
            .field("status", &self.status)
            .field("header_names", &names)
            .field("body_len", &self.body.len())
            .field("truncated", &self.truncated)
            .field("outcome", &self.outcome)
            .finish()
    }
}

/// Mismatch category; `as_str` is the `category` label of
/// `cutover_shadow_mismatches_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    Status,
    Header,
    Body,
    /// One side answered 401/403 and the other 2xx.
    AuthDecision,
    Timeout,
    Error,
}

impl Category {
    pub const ALL: [Category; 6] = [
        Category::Status,
        Category::Header,
        Category::Body,
        Category::AuthDecision,
        Category::Timeout,
        Category::Error,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::Status => "status",
            Category::Header => "header",
            Category::Body => "body",
            Category::AuthDecision => "auth_decision",
            Category::Timeout => "timeout",
            Category::Error => "error",
        }
    }
}

/// Result of comparing two captured responses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Same,
    /// `detail` is human-readable and already redacted.
    Differ {
        category: Category,
        detail: String,
    },
}

impl Verdict {
    pub fn category(&self) -> Option<Category> {
        match self {
            Verdict::Same => None,
            Verdict::Differ { category, .. } => Some(*category),
        }
    }
}

/// Which comparison was made; `as_str` is the `kind` label of
/// `cutover_shadow_compared_total` / `cutover_shadow_mismatches_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareKind {
    /// Primary vs the other backend.
    Cross,
    /// Primary vs a second call to the primary: the noise floor.
    SelfCheck,
}

impl CompareKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareKind::Cross => "cross",
            CompareKind::SelfCheck => "self",
        }
    }
}

/// The `result` label of `cutover_shadow_requests_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShadowResult {
    Compared,
    /// The bounded shadow queue was full.
    Dropped,
    /// The request body is larger than can be replayed.
    SkippedBody,
    /// Not a safe method and the route does not allow dry-run writes.
    SkippedMethod,
    Timeout,
}

impl ShadowResult {
    pub fn as_str(self) -> &'static str {
        match self {
            ShadowResult::Compared => "compared",
            ShadowResult::Dropped => "dropped",
            ShadowResult::SkippedBody => "skipped_body",
            ShadowResult::SkippedMethod => "skipped_method",
            ShadowResult::Timeout => "timeout",
        }
    }
}

#[cfg(test)]
mod tests;
