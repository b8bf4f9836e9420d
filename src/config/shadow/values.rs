//! Value checks shared by the shadow config conversions: ranges, integer
//! keys with defaults, and durations written as `"250ms"`, `"30s"`, `"5m"`, `"1h"`.

use super::{Result, ShadowConfigError};
use std::time::Duration;

pub(super) const MS: Duration = Duration::from_millis(1);
pub(super) const SEC: Duration = Duration::from_secs(1);

pub(super) fn out_of_range(
    key: &'static str,
    v: impl ToString,
    range: impl ToString,
    fix: &'static str,
) -> ShadowConfigError {
    ShadowConfigError::OutOfRange {
        key,
        value: v.to_string(),
        range: range.to_string(),
        fix,
    }
}

pub(super) fn percent_u8(key: &'static str, v: i64, fix: &'static str) -> Result<u8> {
    u8::try_from(v)
        .ok()
        .filter(|p| *p <= 100)
        .ok_or_else(|| out_of_range(key, v, "0..=100", fix))
}

pub(super) fn int_in(
    key: &'static str,
    v: Option<i64>,
    default: i64,
    lo: i64,
    hi: i64,
    fix: &'static str,
) -> Result<i64> {
    let v = v.unwrap_or(default);
    if (lo..=hi).contains(&v) {
        return Ok(v);
    }
    let range = if hi == i64::MAX {
        format!("{lo}..")
    } else {
        format!("{lo}..={hi}")
    };
    Err(out_of_range(key, v, range, fix))
}

pub(super) fn duration_in(
    key: &'static str,
    v: Option<String>,
    default: &str,
    lo: Duration,
    hi: Duration,
) -> Result<Duration> {
    let text = v.unwrap_or_else(|| default.to_string());
    let d = parse_duration(&text).ok_or_else(|| ShadowConfigError::BadDuration {
        key,
        value: text.clone(),
    })?;
    if d < lo || d > hi {
        let range = format!("{}..={}", human(lo), human(hi));
        return Err(out_of_range(
            key,
            format!("{text:?}"),
            range,
            "use a duration inside the range",
        ));
    }
    Ok(d)
}

fn human(d: Duration) -> String {
    match d.as_millis() {
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
        ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    }
}

/// `"250ms"`, `"30s"`, `"5m"`, `"1h"`: a whole number and a unit.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    match unit {
        "ms" => Some(Duration::from_millis(n)),
        "s" => Some(Duration::from_secs(n)),
        "m" => n.checked_mul(60).map(Duration::from_secs),
        "h" => n.checked_mul(3600).map(Duration::from_secs),
        _ => None,
    }
}
