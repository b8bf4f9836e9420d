//! Config edge for shadowing, comparison, fallback and the guard: serde
//! mirrors of the flag-file key `shadow = { … }` and of the route keys
//! `shadow_writes`, `shadow_limits`, `compare`, `fallback`, `fallback_budget`,
//! `fallback_non_idempotent` and `guard`, converted with `TryFrom` into the
//! serde-free types of `shadow`, `fallback` and `judge`. Errors name the key
//! and the fix; the caller prefixes the file, line and route id.

use crate::fallback::{BudgetPolicy, RetryMethods};
use crate::judge::Guard;
use crate::shadow::{ComparePolicy, JsonPath, ShadowFlag, ShadowRoute, ShadowWrites};
use serde::Deserialize;
use values::{MS, SEC, duration_in, int_in, out_of_range, percent_u8};

mod spans;
mod values;

pub use spans::SpannedShadowKeys;

pub use values::parse_duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShadowConfigError {
    #[error("{key} = {value} is out of range {range}; {fix}")]
    OutOfRange {
        key: &'static str,
        value: String,
        range: String,
        fix: &'static str,
    },
    #[error(
        "{key} = {value:?} is not a duration; write a whole number with a unit: \"250ms\", \"30s\", \"5m\", \"1h\""
    )]
    BadDuration { key: &'static str, value: String },
    #[error(
        "compare.ignore[{index}]: {source}; write a JSON pointer (\"/a/0/id\") or a glob (\"/items/*/createdAt\", \"**/id\")"
    )]
    BadIgnorePath {
        index: usize,
        source: crate::shadow::ShadowError,
    },
    #[error(
        "compare.headers[{index}] = {value:?} is not a valid header name; use a name like \"content-type\""
    )]
    BadHeaderName { index: usize, value: String },
    #[error(
        "fallback_budget is set but fallback is not; add fallback = \"next\" or remove fallback_budget"
    )]
    BudgetWithoutFallback,
    #[error(
        "fallback_non_idempotent is set but fallback is not; add fallback = \"next\" (the key only lets POST and PATCH fall back too) or remove fallback_non_idempotent"
    )]
    NonIdempotentWithoutFallback,
}

type Result<T> = std::result::Result<T, ShadowConfigError>;

/// Flag file: `shadow = { percent = 0..=100, noise_percent = 0..=100 }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShadowFlag {
    pub percent: i64,
    /// Default 10.
    pub noise_percent: Option<i64>,
}

impl TryFrom<RawShadowFlag> for ShadowFlag {
    type Error = ShadowConfigError;
    fn try_from(raw: RawShadowFlag) -> Result<Self> {
        let RawShadowFlag {
            percent,
            noise_percent,
        } = raw;
        let fix = "use a whole number of percent from 0 to 100";
        Ok(ShadowFlag {
            percent: percent_u8("shadow.percent", percent, fix)?,
            noise_percent: percent_u8("shadow.noise_percent", noise_percent.unwrap_or(10), fix)?,
        })
    }
}

/// Route key `shadow_writes = "off" | "dry-run"`.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub enum RawShadowWrites {
    #[serde(rename = "off")]
    Off,
    #[serde(rename = "dry-run")]
    DryRun,
}

/// Route key `fallback = "next"` (the only fallback target).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub enum RawFallbackTarget {
    #[serde(rename = "next")]
    Next,
}

/// Route key `shadow_limits = { timeout = "2s", queue = 64, max_request_body_bytes = 65536 }`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShadowLimits {
    pub timeout: Option<String>,
    pub queue: Option<i64>,
    pub max_request_body_bytes: Option<i64>,
}

/// Route key `compare = { ignore = [..], headers = [..], max_body_bytes = 1048576 }`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCompare {
    #[serde(default)]
    pub ignore: Vec<String>,
    /// Default `["content-type"]`.
    pub headers: Option<Vec<String>>,
    pub max_body_bytes: Option<i64>,
}

/// Route key `fallback_budget = { ratio = 0.05, window = "60s" }`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFallbackBudget {
    pub ratio: Option<f64>,
    pub window: Option<String>,
}

/// Route key `guard = { max_error_ratio_delta = 0.02, max_p99_ratio = 1.5, min_requests = 50, window = "5m" }`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGuard {
    pub max_error_ratio_delta: Option<f64>,
    pub max_p99_ratio: Option<f64>,
    pub min_requests: Option<i64>,
    pub window: Option<String>,
}

/// The shadow-related keys of one `[[route]]`, moved out of the route's raw
/// struct by the caller (serde `flatten` does not mix with `deny_unknown_fields`).
#[derive(Debug, Clone, Default)]
pub struct RawRouteShadowKeys {
    pub shadow_writes: Option<RawShadowWrites>,
    pub shadow_limits: Option<RawShadowLimits>,
    pub compare: Option<RawCompare>,
    pub fallback: Option<RawFallbackTarget>,
    pub fallback_budget: Option<RawFallbackBudget>,
    /// Route key `fallback_non_idempotent = true | false` (default false).
    pub fallback_non_idempotent: Option<bool>,
    pub guard: Option<RawGuard>,
}

/// A route's validated shadow, fallback and guard settings.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteShadowConfig {
    pub shadow: ShadowRoute,
    /// Some when the route declares `fallback = "next"`; its budget and the
    /// methods it may retry.
    pub fallback: Option<BudgetPolicy>,
    pub guard: Option<Guard>,
}

impl TryFrom<RawRouteShadowKeys> for RouteShadowConfig {
    type Error = ShadowConfigError;
    fn try_from(raw: RawRouteShadowKeys) -> Result<Self> {
        let RawRouteShadowKeys {
            shadow_writes,
            shadow_limits,
            compare,
            fallback,
            fallback_budget,
            fallback_non_idempotent,
            guard,
        } = raw;
        let writes = match shadow_writes {
            None | Some(RawShadowWrites::Off) => ShadowWrites::Off,
            Some(RawShadowWrites::DryRun) => ShadowWrites::DryRun,
        };
        let RawShadowLimits {
            timeout,
            queue,
            max_request_body_bytes,
        } = shadow_limits.unwrap_or_default();
        let (policy, max_response_body_bytes) = compare_policy(compare.unwrap_or_default())?;
        let shadow = ShadowRoute {
            writes,
            timeout: duration_in("shadow_limits.timeout", timeout, "2s", MS, 60 * SEC)?,
            queue: int_in(
                "shadow_limits.queue",
                queue,
                64,
                1,
                10_000,
                "the number of shadow calls in flight before copies are dropped",
            )? as usize,
            max_request_body_bytes: int_in(
                "shadow_limits.max_request_body_bytes",
                max_request_body_bytes,
                65_536,
                0,
                65_536,
                "Pingora replays at most 64 KiB of a request body",
            )? as u64,
            max_response_body_bytes,
            policy,
        };
        let fallback = match fallback {
            None if fallback_budget.is_some() => {
                return Err(ShadowConfigError::BudgetWithoutFallback);
            }
            None if fallback_non_idempotent.is_some() => {
                return Err(ShadowConfigError::NonIdempotentWithoutFallback);
            }
            None => None,
            Some(RawFallbackTarget::Next) => {
                let methods = match fallback_non_idempotent {
                    None | Some(false) => RetryMethods::Idempotent,
                    Some(true) => RetryMethods::AlsoNonIdempotent,
                };
                Some(budget_policy(fallback_budget.unwrap_or_default(), methods)?)
            }
        };
        let guard = guard.map(guard_policy).transpose()?;
        Ok(RouteShadowConfig {
            shadow,
            fallback,
            guard,
        })
    }
}

fn compare_policy(raw: RawCompare) -> Result<(ComparePolicy, usize)> {
    let RawCompare {
        ignore,
        headers,
        max_body_bytes,
    } = raw;
    let ignore = ignore
        .iter()
        .enumerate()
        .map(|(index, p)| {
            JsonPath::parse(p).map_err(|source| ShadowConfigError::BadIgnorePath { index, source })
        })
        .collect::<Result<Vec<_>>>()?;
    let headers = headers
        .unwrap_or_else(|| vec!["content-type".to_string()])
        .into_iter()
        .enumerate()
        .map(
            |(index, h)| match http::HeaderName::from_bytes(h.as_bytes()) {
                Ok(name) => Ok(name.as_str().to_string()),
                Err(_) => Err(ShadowConfigError::BadHeaderName { index, value: h }),
            },
        )
        .collect::<Result<Vec<_>>>()?;
    let max = int_in(
        "compare.max_body_bytes",
        max_body_bytes,
        1 << 20,
        1,
        16 << 20,
        "bytes captured per side; longer bodies are compared by their first bytes",
    )?;
    Ok((ComparePolicy { ignore, headers }, max as usize))
}

fn budget_policy(raw: RawFallbackBudget, methods: RetryMethods) -> Result<BudgetPolicy> {
    let RawFallbackBudget { ratio, window } = raw;
    let ratio = ratio.unwrap_or(0.05);
    if !(ratio > 0.0 && ratio <= 1.0) {
        return Err(out_of_range(
            "fallback_budget.ratio",
            ratio,
            "(0, 1]",
            "use a share such as 0.05 for 5 %; to disable fallback remove `fallback`",
        ));
    }
    let window = duration_in("fallback_budget.window", window, "60s", SEC, 3600 * SEC)?;
    Ok(BudgetPolicy {
        ratio,
        window,
        methods,
    })
}

fn guard_policy(raw: RawGuard) -> Result<Guard> {
    let RawGuard {
        max_error_ratio_delta,
        max_p99_ratio,
        min_requests,
        window,
    } = raw;
    let delta = max_error_ratio_delta.unwrap_or(0.02);
    if !(0.0..=1.0).contains(&delta) {
        let fix = "use a share such as 0.02 (rust may fail 2 points more often than next)";
        return Err(out_of_range(
            "guard.max_error_ratio_delta",
            delta,
            "0..=1",
            fix,
        ));
    }
    let p99 = max_p99_ratio.unwrap_or(1.5);
    if !(1.0..=100.0).contains(&p99) {
        let fix = "use a factor such as 1.5 (rust's p99 may be 1.5 x next's)";
        return Err(out_of_range("guard.max_p99_ratio", p99, "1..=100", fix));
    }
    let min = int_in(
        "guard.min_requests",
        min_requests,
        50,
        1,
        i64::MAX,
        "requests each side needs in the window before the guard judges",
    )?;
    Ok(Guard {
        max_error_ratio_delta: delta,
        max_p99_ratio: p99,
        min_requests: min as u64,
        window: duration_in("guard.window", window, "5m", SEC, 24 * 3600 * SEC)?,
    })
}

#[cfg(test)]
mod tests;
