//! `plan`: whether one request is shadowed, and how. Pure: the dice rolls
//! are passed in. Write safety lives here: only GET/HEAD are copied, unless
//! the route allows dry-run writes and the copy goes to the rust side (the
//! only side that honours `x-cutover-shadow: 1`). The noise-floor self-check
//! (calling the primary twice) is only ever made for safe methods.

use super::ComparePolicy;
use crate::judge::Side;
use http::Method;
use std::time::Duration;

/// Route key `shadow_writes`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ShadowWrites {
    /// Writes are never shadowed (counted as `skipped_method`).
    #[default]
    Off,
    /// Writes are copied to rust with `x-cutover-shadow: 1`.
    DryRun,
}

/// The flag file's `shadow = { percent, noise_percent }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShadowFlag {
    /// Share of requests copied to the other side, 0..=100.
    pub percent: u8,
    /// Share of shadowed requests also sent twice to the primary, 0..=100.
    pub noise_percent: u8,
}

/// A route's shadow settings (from `routes.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShadowRoute {
    pub writes: ShadowWrites,
    /// Timeout of each shadow call.
    pub timeout: Duration,
    /// Shadow calls in flight for this route before copies are dropped.
    pub queue: usize,
    /// Larger request bodies are not copied (Pingora replays ≤ 64 KiB).
    pub max_request_body_bytes: u64,
    /// Response bytes captured per side for the comparison.
    pub max_response_body_bytes: usize,
    pub policy: ComparePolicy,
}

impl Default for ShadowRoute {
    fn default() -> Self {
        ShadowRoute {
            writes: ShadowWrites::Off,
            timeout: Duration::from_secs(2),
            queue: 64,
            max_request_body_bytes: 64 * 1024,
            max_response_body_bytes: 1024 * 1024,
            policy: ComparePolicy::default(),
        }
    }
}

/// Why a request is not shadowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// Not in the sampled percent (not counted).
    NotSampled,
    /// Counted as `result="skipped_method"`.
    Method,
    /// Counted as `result="skipped_body"`.
    Body,
}

impl SkipReason {
    /// The `cutover_shadow_requests_total` result, if this skip is counted.
    pub fn result(self) -> Option<super::ShadowResult> {
        match self {
            SkipReason::NotSampled => None,
            SkipReason::Method => Some(super::ShadowResult::SkippedMethod),
            SkipReason::Body => Some(super::ShadowResult::SkippedBody),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plan {
    Skip(SkipReason),
    Shadow {
        /// The copy must carry `x-cutover-shadow: 1`.
        dry_run: bool,
        /// Also call the primary a second time and compare it with itself.
        self_check: bool,
    },
}

/// Decides for one request. `primary` is the side answering the client;
/// `body_len` is the request body length (`None` when unknown, e.g.
/// chunked); the rolls are uniform in `[0, 1)`.
pub fn plan(
    flag: &ShadowFlag,
    route: &ShadowRoute,
    primary: Side,
    method: &Method,
    body_len: Option<u64>,
    shadow_roll: f64,
    noise_roll: f64,
) -> Plan {
    if shadow_roll * 100.0 >= f64::from(flag.percent) {
        return Plan::Skip(SkipReason::NotSampled);
    }
    let safe = *method == Method::GET || *method == Method::HEAD;
    let dry_run = !safe;
    if dry_run && (route.writes == ShadowWrites::Off || primary == Side::Rust) {
        return Plan::Skip(SkipReason::Method);
    }
    match body_len {
        Some(n) if n <= route.max_request_body_bytes => {}
        _ => return Plan::Skip(SkipReason::Body),
    }
    Plan::Shadow {
        dry_run,
        self_check: safe && noise_roll * 100.0 < f64::from(flag.noise_percent),
    }
}
