//! Passive evidence: failures seen while serving real requests.
//!
//! The proxy reports upstream errors ([`upstream_failure`]); the embedded
//! handlers mark a response that failed for want of a dependency with a
//! [`DependencyDown`] extension, which the layer around their router
//! ([`record_dependency`]) turns into a [`Failure`]. Also: the short, credential-free
//! cause of a database error that means "unreachable" ([`database_cause`]).

use super::{Backend, Failure, Health};

/// Upstream error kinds that mean the backend cannot be reached at all.
const UNREACHABLE_KINDS: [&str; 3] = ["connect", "connect_timeout", "tls"];

/// A proxy upstream error (`kind` from `respond::classify`) as evidence.
pub fn upstream_failure(kind: &'static str, e: Option<&pingora::Error>) -> Failure {
    let what = match kind {
        "connect" => "cannot connect",
        "connect_timeout" => "connect timed out",
        "tls" => "TLS handshake failed",
        "timeout" => "response timed out",
        "read" => "connection lost while reading the response",
        "write" => "connection lost while sending the request",
        _ => "failed",
    };
    let reason = match e {
        Some(e) => format!("{what} ({})", e.etype().as_str()),
        None => what.to_string(),
    };
    Failure {
        kind,
        reason,
        down: UNREACHABLE_KINDS.contains(&kind),
    }
}

/// Attached to a handler response (as an extension) that failed because a
/// dependency is unreachable.
#[derive(Debug, Clone)]
pub struct DependencyDown {
    pub backend: Backend,
    /// Short cause, e.g. `connection refused`.
    pub cause: String,
}

/// Record the [`DependencyDown`] a handler response carries, if any. A
/// vague cause (the pool only says it timed out) is replaced, in the record
/// and in the answer, by the one the background check found.
pub fn record_dependency(
    health: &Health,
    response: axum::response::Response,
) -> axum::response::Response {
    let Some(d) = response.extensions().get::<DependencyDown>().cloned() else {
        return response;
    };
    let prefix = format!("{} unreachable: ", d.backend.as_str());
    let checked = match health.state(d.backend) {
        (super::State::Down, Some(reason)) => reason.strip_prefix(&prefix).map(str::to_string),
        _ => None,
    };
    let vague = d.cause == POOL_TIMED_OUT;
    let cause = match checked {
        Some(c) if vague => c,
        _ => d.cause.clone(),
    };
    health.failure(
        d.backend,
        Failure {
            kind: "unreachable",
            reason: format!("{prefix}{cause}"),
            down: true,
        },
        crate::proxy::unix_now(),
    );
    if vague && cause != d.cause {
        crate::handlers::error::dependency_down(d.backend, cause)
    } else {
        response
    }
}

const POOL_TIMED_OUT: &str = "timed out waiting for a connection";

/// The short cause when `e` means the database cannot be reached (as opposed
/// to a failed query); `None` for query errors. Never includes the URL.
pub fn database_cause(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Io(io) => Some(io_cause(io)),
        sqlx::Error::PoolTimedOut => Some(POOL_TIMED_OUT.into()),
        sqlx::Error::PoolClosed => Some("connection pool closed".into()),
        sqlx::Error::Tls(_) => Some("TLS handshake failed".into()),
        sqlx::Error::Database(db) => {
            let code = db.code()?;
            // Class 08 connection exception, 28 authorization, 3D no such
            // database, 57P0x shutting down / cannot connect now, 53300 too
            // many connections.
            let what = match code.as_ref() {
                c if c.starts_with("08") => "connection failure",
                c if c.starts_with("28") => "authentication failed (check the DATABASE_URL user)",
                "3D000" => "database does not exist (create it, then run `cutover migrate`)",
                c if c.starts_with("57P") => "server shutting down or starting",
                "53300" => "too many connections",
                _ => return None,
            };
            Some(format!("{what} [{code}]"))
        }
        _ => None,
    }
}

fn io_cause(io: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match io.kind() {
        ConnectionRefused => {
            "connection refused (is PostgreSQL running at DATABASE_URL's host:port?)".into()
        }
        TimedOut => "connect timed out".into(),
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => {
            "connection lost".into()
        }
        NotFound => "host not found".into(),
        _ => io.kind().to_string(),
    }
}
