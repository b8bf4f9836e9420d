//! Strict parsers for the cap table's durations (`"500ms"`, `"10s"`, `"5m"`,
//! `"1h"`) and rates (`"20/10s"`, `"5/s"`). No spaces, signs, fractions or
//! missing units. May use: `cap::Rate`.

use std::num::NonZeroU32;
use std::time::Duration;

use super::CapConfigError;
use crate::cap::Rate;

/// A whole number followed by one of `ms`, `s`, `m`, `h`; zero is allowed
/// here (callers bound it).
pub fn parse_duration(key: &'static str, value: &str) -> Result<Duration, CapConfigError> {
    let bad = |why| CapConfigError::BadDuration {
        key,
        value: value.to_string(),
        why,
    };
    let digits_end = value
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| bad("missing unit"))?;
    let (number, unit) = value.split_at(digits_end);
    if number.is_empty() {
        return Err(bad("must start with a whole number"));
    }
    let number: u64 = number.parse().map_err(|_| bad("number too large"))?;
    let unit_ms = unit_millis(unit).ok_or_else(|| bad("unit must be ms, s, m or h"))?;
    number
        .checked_mul(unit_ms)
        .map(Duration::from_millis)
        .ok_or_else(|| bad("number too large"))
}

/// `<count>/<duration>` with count ≥ 1 and a duration > 0; a bare unit means
/// one of it (`"5/s"` = `"5/1s"`). The emission interval must be ≥ 1 µs.
pub fn parse_rate(key: &'static str, value: &str) -> Result<Rate, CapConfigError> {
    let bad = |why| CapConfigError::BadRate {
        key,
        value: value.to_string(),
        why,
    };
    let (count, per) = value.split_once('/').ok_or_else(|| bad("missing '/'"))?;
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad("count must be a whole number"));
    }
    let count: u32 = count.parse().map_err(|_| bad("count too large"))?;
    let count = NonZeroU32::new(count).ok_or_else(|| bad("count must be at least 1"))?;
    let per = match unit_millis(per) {
        Some(ms) => Duration::from_millis(ms),
        None => parse_duration(key, per).map_err(|_| bad("bad duration after '/'"))?,
    };
    let rate = Rate::new(count, per).ok_or_else(|| bad("duration must be above zero"))?;
    if rate.emission_interval() < Duration::from_micros(1) {
        return Err(bad("more than one per microsecond"));
    }
    Ok(rate)
}

fn unit_millis(unit: &str) -> Option<u64> {
    match unit {
        "ms" => Some(1),
        "s" => Some(1_000),
        "m" => Some(60_000),
        "h" => Some(3_600_000),
        _ => None,
    }
}
