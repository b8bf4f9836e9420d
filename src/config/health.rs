//! The `health_*` keys of a `[backends.*]` table and `[server] instance`,
//! validated at the config edge.

use std::time::Duration;

use toml::Spanned;

use super::backend::HealthCheck;

/// Default `health_interval_ms`.
pub const DEFAULT_INTERVAL_MS: u64 = 5_000;
/// Default `health_timeout_ms`.
pub const DEFAULT_TIMEOUT_MS: u64 = 2_000;

/// The raw keys of one backend.
pub struct HealthKeys {
    pub path: Option<Spanned<String>>,
    pub interval_ms: Option<Spanned<u64>>,
    pub timeout_ms: Option<Spanned<u64>>,
}

impl HealthKeys {
    /// Where the first health key was written, if any.
    pub fn first_span(&self) -> Option<usize> {
        [
            self.path.as_ref().map(|s| s.span().start),
            self.interval_ms.as_ref().map(|s| s.span().start),
            self.timeout_ms.as_ref().map(|s| s.span().start),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The check, or `(offset, "key: what to fix")`.
    pub fn check(self) -> Result<Option<Box<HealthCheck>>, (usize, String)> {
        let Some(path) = self.path else {
            return match self.first_span() {
                None => Ok(None),
                Some(at) => Err((
                    at,
                    "health_interval_ms / health_timeout_ms need health_path (e.g. \"/api/health\")"
                        .into(),
                )),
            };
        };
        let p = path.get_ref();
        if !p.starts_with('/') || p.contains(char::is_whitespace) || p.contains('#') {
            return Err((
                path.span().start,
                format!(
                    "health_path: `{p}` must be a path starting with `/`, e.g. \"/api/health\""
                ),
            ));
        }
        let interval = match self.interval_ms {
            Some(ms) if !(100..=300_000).contains(ms.get_ref()) => {
                return Err((
                    ms.span().start,
                    format!(
                        "health_interval_ms must be in 100..=300000 (default {DEFAULT_INTERVAL_MS})"
                    ),
                ));
            }
            Some(ms) => ms.into_inner(),
            None => DEFAULT_INTERVAL_MS,
        };
        let timeout = match self.timeout_ms {
            Some(ms) if *ms.get_ref() == 0 || *ms.get_ref() > interval => {
                return Err((
                    ms.span().start,
                    format!(
                        "health_timeout_ms must be in 1..=health_interval_ms ({interval}) (default {DEFAULT_TIMEOUT_MS})"
                    ),
                ));
            }
            Some(ms) => ms.into_inner(),
            None => DEFAULT_TIMEOUT_MS.min(interval),
        };
        Ok(Some(Box::new(HealthCheck {
            path: p.clone(),
            interval: Duration::from_millis(interval),
            timeout: Duration::from_millis(timeout),
        })))
    }
}

/// `[server] instance`: a literal, or `${VAR}` parts replaced by the
/// environment (`${HOSTNAME}` falls back to the machine's host name). The
/// result must be a short header value.
pub fn instance(raw: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("`{raw}`: `${{` without a closing `}}`"))?;
        let name = &after[..end];
        let value = std::env::var(name)
            .ok()
            .filter(|v| !v.is_empty())
            .or_else(|| (name == "HOSTNAME").then(host_name).flatten())
            .ok_or_else(|| {
                format!("`{raw}`: {name} is not set (set it, or write the instance name literally)")
            })?;
        out.push_str(&value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    if out.is_empty() || out.len() > 128 || !out.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
        return Err(format!(
            "`{out}` must be 1..=128 printable ASCII characters (it is sent as a header)"
        ));
    }
    Ok(out)
}

fn host_name() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

#[cfg(test)]
mod tests;
