//! `compare`: one verdict for two captured responses, in a fixed order of
//! precedence — timeout/error, auth decision, status, selected headers, body.
//! JSON bodies are compared structurally after removing ignored paths
//! (numbers by value, key order irrelevant); other bodies by SHA-256 digest.

use super::redact::{REDACTED, is_secret_key, redact_text};
use super::{CaptureOutcome, Captured, Category, JsonPath, Verdict};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// What a route compares (from its `compare = { … }` config).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComparePolicy {
    /// Paths removed from both JSON bodies before comparing.
    pub ignore: Vec<JsonPath>,
    /// Header names compared, lowercase. Others are ignored.
    pub headers: Vec<String>,
}

/// Longest value shown in a verdict's detail.
const MAX_SHOWN: usize = 80;

pub fn compare(primary: &Captured, other: &Captured, policy: &ComparePolicy) -> Verdict {
    if let Some(v) = compare_outcomes(primary, other) {
        return v;
    }
    let (p, o) = (primary.status, other.status);
    if (is_denied(p) && is_2xx(o)) || (is_2xx(p) && is_denied(o)) {
        return differ(
            Category::AuthDecision,
            format!("auth decision: primary {p} vs other {o}"),
        );
    }
    if p != o {
        return differ(
            Category::Status,
            format!("status: primary {p} vs other {o}"),
        );
    }
    for name in &policy.headers {
        let (a, b) = (primary.header(name), other.header(name));
        if a != b {
            let show = |v: Option<String>| match v {
                None => "absent".to_string(),
                Some(_) if is_secret_key(name) || name == "set-cookie" => REDACTED.to_string(),
                Some(v) => format!("{:?}", shorten(&redact_text(&v))),
            };
            return differ(
                Category::Header,
                format!("header {name}: primary {} vs other {}", show(a), show(b)),
            );
        }
    }
    compare_bodies(primary, other, policy)
}

fn compare_outcomes(primary: &Captured, other: &Captured) -> Option<Verdict> {
    use CaptureOutcome::*;
    match (primary.outcome, other.outcome) {
        (Ok, Ok) => None,
        (a, b) if a == b => Some(Verdict::Same),
        (Timeout, _) | (_, Timeout) => Some(differ(
            Category::Timeout,
            format!(
                "outcome: primary {:?} vs other {:?}",
                primary.outcome, other.outcome
            ),
        )),
        _ => Some(differ(
            Category::Error,
            format!(
                "outcome: primary {:?} vs other {:?}",
                primary.outcome, other.outcome
            ),
        )),
    }
}

fn is_denied(s: u16) -> bool {
    s == 401 || s == 403
}

fn is_2xx(s: u16) -> bool {
    (200..300).contains(&s)
}

fn differ(category: Category, detail: String) -> Verdict {
    Verdict::Differ { category, detail }
}

fn compare_bodies(primary: &Captured, other: &Captured, policy: &ComparePolicy) -> Verdict {
    if primary.truncated != other.truncated {
        return differ(
            Category::Body,
            format!(
                "body: only the {} side exceeds the compare cap ({} vs {} bytes captured)",
                if primary.truncated {
                    "primary"
                } else {
                    "other"
                },
                primary.body.len(),
                other.body.len()
            ),
        );
    }
    if !primary.truncated && primary.is_json() && other.is_json() {
        let parsed = (
            serde_json::from_slice::<Value>(&primary.body),
            serde_json::from_slice::<Value>(&other.body),
        );
        if let (Result::Ok(mut a), Result::Ok(mut b)) = parsed {
            for path in &policy.ignore {
                path.remove_from(&mut a);
                path.remove_from(&mut b);
            }
            return match first_difference(&a, &b, &mut String::new()) {
                None => Verdict::Same,
                Some(detail) => differ(Category::Body, format!("body {detail}")),
            };
        }
    }
    let (da, db) = (Sha256::digest(&primary.body), Sha256::digest(&other.body));
    if da == db {
        return Verdict::Same;
    }
    differ(
        Category::Body,
        format!(
            "body digest: primary sha256:{} ({} bytes) vs other sha256:{} ({} bytes){}",
            &hex::encode(da)[..12],
            primary.body.len(),
            &hex::encode(db)[..12],
            other.body.len(),
            if primary.truncated {
                ", prefixes only"
            } else {
                ""
            }
        ),
    )
}

/// The first structural difference as "`/json/pointer`: a vs b", keys sorted.
fn first_difference(a: &Value, b: &Value, at: &mut String) -> Option<String> {
    let secret = at.rsplit('/').next().map(is_secret_key).unwrap_or(false);
    let here =
        |at: &str, what: String| Some(format!("{}: {what}", if at.is_empty() { "/" } else { at }));
    match (a, b) {
        (Value::Object(ma), Value::Object(mb)) => {
            let mut keys: Vec<&String> = ma.keys().chain(mb.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                match (ma.get(k), mb.get(k)) {
                    (Some(va), Some(vb)) => {
                        let len = at.len();
                        at.push('/');
                        at.push_str(&k.replace('~', "~0").replace('/', "~1"));
                        let d = first_difference(va, vb, at);
                        at.truncate(len);
                        if d.is_some() {
                            return d;
                        }
                    }
                    (Some(_), None) => return here(at, format!("key {k:?} only in primary")),
                    (None, Some(_)) => return here(at, format!("key {k:?} only in other")),
                    (None, None) => {}
                }
            }
            None
        }
        (Value::Array(xa), Value::Array(xb)) => {
            for (i, (va, vb)) in xa.iter().zip(xb).enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                let d = first_difference(va, vb, at);
                at.truncate(len);
                if d.is_some() {
                    return d;
                }
            }
            if xa.len() != xb.len() {
                return here(at, format!("array length {} vs {}", xa.len(), xb.len()));
            }
            None
        }
        (Value::Number(na), Value::Number(nb)) if na.as_f64() == nb.as_f64() => None,
        _ if a == b => None,
        _ if secret => here(at, format!("{REDACTED} vs {REDACTED}")),
        _ => here(at, format!("{} vs {}", show(a), show(b))),
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::Object(_) => "an object".to_string(),
        Value::Array(_) => "an array".to_string(),
        other => shorten(&redact_text(&other.to_string())),
    }
}

fn shorten(s: &str) -> String {
    let mut s = s.to_string();
    if super::redact::truncate(&mut s, MAX_SHOWN) {
        s.push('…');
    }
    s
}
