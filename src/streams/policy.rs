//! The `streams`, `max_age` and `pace` keys of a `[[route]]`, validated.

use std::num::NonZeroU32;
use std::time::Duration;

/// What a flag flip does to a route's open streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StreamPolicy {
    /// Streams stay on the side they opened on until they end (default).
    #[default]
    Keep,
    /// Streams stay, and each is ended once it is `max_age` old.
    Drain { max_age: Duration },
    /// After a flip that changes a stream's side, it is ended in paced,
    /// jittered waves so the client reconnects to the new side.
    Migrate { pace: Pace },
}

/// Streams ended per second by a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    pub per_second: NonZeroU32,
}

/// The default `pace` of `streams = "migrate"`.
pub const DEFAULT_PACE: Pace = Pace {
    per_second: NonZeroU32::new(50).expect("50 is not zero"),
};

/// Which key a problem is about, for the error's line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Streams,
    MaxAge,
    Pace,
}

impl StreamPolicy {
    /// Validate the three keys together. Errors say what to write instead.
    pub fn parse(
        streams: Option<&str>,
        max_age: Option<&str>,
        pace: Option<&str>,
    ) -> Result<StreamPolicy, (Key, String)> {
        let policy = match streams.unwrap_or("keep") {
            "keep" => StreamPolicy::Keep,
            "drain" => {
                let Some(age) = max_age else {
                    return Err((
                        Key::Streams,
                        "streams = \"drain\" needs max_age, e.g. max_age = \"1h\"".into(),
                    ));
                };
                StreamPolicy::Drain {
                    max_age: parse_age(age).map_err(|m| (Key::MaxAge, m))?,
                }
            }
            "migrate" => StreamPolicy::Migrate {
                pace: pace
                    .map_or(Ok(DEFAULT_PACE), parse_pace)
                    .map_err(|m| (Key::Pace, m))?,
            },
            other => {
                return Err((
                    Key::Streams,
                    format!("streams = \"{other}\" is not one of \"keep\", \"drain\", \"migrate\""),
                ));
            }
        };
        if max_age.is_some() && !matches!(policy, StreamPolicy::Drain { .. }) {
            return Err((
                Key::MaxAge,
                "max_age applies to streams = \"drain\" only: remove it or set streams = \"drain\""
                    .into(),
            ));
        }
        if pace.is_some() && !matches!(policy, StreamPolicy::Migrate { .. }) {
            return Err((
                Key::Pace,
                "pace applies to streams = \"migrate\" only: remove it or set streams = \"migrate\""
                    .into(),
            ));
        }
        Ok(policy)
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            StreamPolicy::Keep => "keep",
            StreamPolicy::Drain { .. } => "drain",
            StreamPolicy::Migrate { .. } => "migrate",
        }
    }
}

/// `"30s"`, `"15m"`, `"1h"`, `"2d"`: at least one second.
fn parse_age(s: &str) -> Result<Duration, String> {
    let bad = || format!("max_age = \"{s}\": write a whole number and s, m, h or d, e.g. \"1h\"");
    let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        "d" => n.checked_mul(86_400),
        _ => None,
    }
    .ok_or_else(bad)?;
    if secs == 0 {
        return Err(format!("max_age = \"{s}\" must be at least 1s"));
    }
    Ok(Duration::from_secs(secs))
}

/// `"50/s"` or `"600/m"`: at least one stream per second after rounding
/// down, at most 100000/s.
fn parse_pace(s: &str) -> Result<Pace, String> {
    let bad = || format!("pace = \"{s}\": write streams per second or minute, e.g. \"50/s\"");
    let (count, per) = s.split_once('/').ok_or_else(bad)?;
    if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let count: u32 = count.parse().map_err(|_| bad())?;
    let per_second = match per {
        "s" => count,
        "m" => count / 60,
        _ => return Err(bad()),
    };
    if !(1..=100_000).contains(&per_second) {
        return Err(format!("pace = \"{s}\" must be between 1/s and 100000/s"));
    }
    Ok(Pace {
        per_second: NonZeroU32::new(per_second).ok_or_else(bad)?,
    })
}

#[cfg(test)]
mod tests;
