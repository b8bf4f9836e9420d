//! JSON claims of a decrypted session or a verified JWT, and the time checks.
//!
//! Pure over `serde_json` values; every wrong type is `Malformed`, never a panic.

use serde_json::{Map, Value};

use super::RejectReason;

/// The claims object of a token.
pub(crate) struct Claims(Map<String, Value>);

impl Claims {
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, RejectReason> {
        match serde_json::from_slice(bytes) {
            Ok(Value::Object(map)) => Ok(Claims(map)),
            _ => Err(RejectReason::Malformed),
        }
    }

    pub(crate) fn from_value(value: Value) -> Result<Self, RejectReason> {
        match value {
            Value::Object(map) => Ok(Claims(map)),
            _ => Err(RejectReason::Malformed),
        }
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.0.get(name).is_some_and(|v| !v.is_null())
    }

    /// `sub` as a non-empty string.
    pub(crate) fn sub(&self) -> Result<String, RejectReason> {
        match self.0.get("sub") {
            Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
            _ => Err(RejectReason::Malformed),
        }
    }

    /// A string claim; a number is rendered as its decimal text; anything else is `None`.
    pub(crate) fn string(&self, name: &str) -> Option<String> {
        match self.0.get(name) {
            Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        }
    }

    /// A NumericDate claim in whole seconds; absent → `None`, wrong type → `Malformed`.
    pub(crate) fn numeric_date(&self, name: &str) -> Result<Option<u64>, RejectReason> {
        match self.0.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match (n.as_u64(), n.as_f64()) {
                (Some(v), _) => Ok(Some(v)),
                (None, Some(f)) if f.is_finite() => Ok(Some(if f <= 0.0 { 0 } else { f as u64 })),
                _ => Err(RejectReason::Malformed),
            },
            Some(_) => Err(RejectReason::Malformed),
        }
    }
}

/// Checks `exp` and `nbf` against `now` with `skew` seconds of tolerance, the way
/// jose does (`exp <= now - skew` is expired, `nbf > now + skew` is not yet valid).
/// Returns `exp`. A missing `exp` is `Malformed` when `require_exp`.
pub(crate) fn check_time(
    claims: &Claims,
    now: u64,
    skew: u64,
    require_exp: bool,
) -> Result<Option<u64>, RejectReason> {
    let exp = claims.numeric_date("exp")?;
    match exp {
        Some(exp) if exp.saturating_add(skew) <= now => return Err(RejectReason::Expired),
        None if require_exp => return Err(RejectReason::Malformed),
        _ => {}
    }
    if let Some(nbf) = claims.numeric_date("nbf")?
        && nbf > now.saturating_add(skew)
    {
        return Err(RejectReason::Expired);
    }
    Ok(exp)
}
