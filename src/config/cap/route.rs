//! `TryFrom<RawCap> for CapPolicy`: a route's `cap = { … }` table, defaults
//! filled in and every value bounded (see the example in `config::cap`).
//! May use: `config::cap` helpers, `cap` policy types.

use std::num::{NonZeroU32, NonZeroUsize};
use std::time::Duration;

use super::{CapConfigError, RawBreaker, RawCap, in_range, parse_duration, parse_rate};
use crate::cap::{BreakerPolicy, CapPolicy, ClientRate};

impl TryFrom<RawCap> for CapPolicy {
    type Error = CapConfigError;

    fn try_from(raw: RawCap) -> Result<Self, Self::Error> {
        let RawCap {
            per_client,
            burst,
            per_channel,
            collapse,
            cache_ttl_ms,
            max_inflight,
            queue_timeout_ms,
            breaker,
            retry_after,
        } = raw;
        let defaults = CapPolicy::default();
        let per_client = match (per_client, burst) {
            (Some(rate), burst) => {
                let rate = parse_rate("cap.per_client", &rate)?;
                let burst = in_range(
                    "cap.burst",
                    burst.unwrap_or(rate.count.get()),
                    1..=100_000,
                    "1..=100000",
                    "allow at least one request at once",
                )?;
                Some(ClientRate {
                    rate,
                    burst: non_zero_u32(burst),
                })
            }
            (None, Some(_)) => {
                return Err(CapConfigError::Requires {
                    key: "cap.burst",
                    needs: "cap.per_client is not",
                    fix: "add per_client = \"20/10s\" or remove burst",
                });
            }
            (None, None) => None,
        };
        let per_channel = match per_channel {
            Some(rate) => {
                let rate = parse_rate("cap.per_channel", &rate)?;
                in_range(
                    "cap.per_channel",
                    rate.count.get(),
                    1..=1000,
                    "1..=1000 per window",
                    "use a shorter window with a smaller count",
                )?;
                Some(rate)
            }
            None => None,
        };
        let collapse = collapse.unwrap_or(defaults.collapse);
        let cache_ttl_ms = in_range(
            "cap.cache_ttl_ms",
            cache_ttl_ms.unwrap_or(0),
            0..=60_000,
            "0..=60000",
            "the cache is for exact repeats within seconds",
        )?;
        if cache_ttl_ms > 0 && !collapse {
            return Err(CapConfigError::Requires {
                key: "cap.cache_ttl_ms",
                needs: "cap.collapse is not true",
                fix: "set collapse = true or remove cache_ttl_ms",
            });
        }
        let max_inflight = match max_inflight {
            Some(max) => Some(in_range(
                "cap.max_inflight",
                max,
                1..=100_000,
                "1..=100000",
                "remove the key for no limit",
            )?),
            None => None,
        };
        let queue_timeout_ms = in_range(
            "cap.queue_timeout_ms",
            queue_timeout_ms.unwrap_or(50),
            0..=10_000,
            "0..=10000",
            "keep it short: queued requests hold client connections",
        )?;
        let retry_after = match retry_after {
            Some(text) => bounded("cap.retry_after", &text, Duration::from_secs(3600))?,
            None => defaults.retry_after,
        };
        Ok(CapPolicy {
            per_client,
            per_channel,
            collapse,
            cache_ttl: Duration::from_millis(cache_ttl_ms),
            max_inflight: max_inflight.and_then(NonZeroUsize::new),
            queue_timeout: Duration::from_millis(queue_timeout_ms),
            breaker: breaker.map(BreakerPolicy::try_from).transpose()?,
            retry_after,
        })
    }
}

impl TryFrom<RawBreaker> for BreakerPolicy {
    type Error = CapConfigError;

    fn try_from(raw: RawBreaker) -> Result<Self, Self::Error> {
        let RawBreaker {
            error_ratio,
            min_requests,
            window,
            cooldown,
            probes,
        } = raw;
        let error_ratio = error_ratio.unwrap_or(0.5);
        if !(error_ratio > 0.0 && error_ratio <= 1.0) {
            return Err(CapConfigError::OutOfRange {
                key: "cap.breaker.error_ratio",
                value: error_ratio.to_string(),
                range: "(0, 1]",
                fix: "use a fraction such as 0.5",
            });
        }
        let min_requests = in_range(
            "cap.breaker.min_requests",
            min_requests.unwrap_or(20),
            1..=1_000_000,
            "1..=1000000",
            "use e.g. 20 so a few errors do not open the breaker",
        )?;
        let day = Duration::from_secs(86_400);
        let window = match window {
            Some(text) => bounded("cap.breaker.window", &text, day)?,
            None => Duration::from_secs(10),
        };
        let cooldown = match cooldown {
            Some(text) => bounded("cap.breaker.cooldown", &text, day)?,
            None => Duration::from_secs(5),
        };
        let probes = in_range(
            "cap.breaker.probes",
            probes.unwrap_or(1),
            1..=100,
            "1..=100",
            "use 1 to 5 trial requests",
        )?;
        Ok(BreakerPolicy {
            error_ratio,
            min_requests: non_zero_u32(min_requests),
            window,
            cooldown,
            probes: non_zero_u32(probes),
        })
    }
}

/// A duration in `1ms..=max`.
fn bounded(key: &'static str, text: &str, max: Duration) -> Result<Duration, CapConfigError> {
    let duration = parse_duration(key, text)?;
    if duration.is_zero() || duration > max {
        return Err(CapConfigError::OutOfRange {
            key,
            value: format!("{text:?}"),
            range: if max.as_secs() == 3600 {
                "1ms..=1h"
            } else {
                "1ms..=24h"
            },
            fix: "use a positive duration such as \"1s\"",
        });
    }
    Ok(duration)
}

fn non_zero_u32(value: u32) -> NonZeroU32 {
    NonZeroU32::new(value).unwrap_or(NonZeroU32::MIN)
}
