//! Signed identity headers: what the proxy adds upstream and a remote handler checks.
//!
//! `x-cutover-identity-sig: t=<unix>,v1=<hex HMAC-SHA256>` over
//! `v1\n<t>\n<auth>\n<user-id>\n<email>\n<tenant-id>` (the header values as sent,
//! absent = empty). Values are percent-encoded outside visible ASCII (and `%`), so
//! any claim is a valid header value. Uses `hmac`, `sha2`, `http`.

use std::fmt;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{AuthScheme, Identity};

pub const HEADER_USER_ID: &str = "x-cutover-user-id";
pub const HEADER_USER_EMAIL: &str = "x-cutover-user-email";
pub const HEADER_TENANT_ID: &str = "x-cutover-tenant-id";
pub const HEADER_AUTH: &str = "x-cutover-auth";
pub const HEADER_IDENTITY_SIG: &str = "x-cutover-identity-sig";
/// Every identity header; the proxy strips client-sent copies of these (and of any
/// other `x-cutover-*` header) before adding its own.
pub const IDENTITY_HEADERS: [&str; 5] = [
    HEADER_USER_ID,
    HEADER_USER_EMAIL,
    HEADER_TENANT_ID,
    HEADER_AUTH,
    HEADER_IDENTITY_SIG,
];
/// A signature older (or further in the future) than this is rejected.
pub const MAX_SIGNATURE_AGE_SECS: u64 = 60;
const MIN_KEY_BYTES: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("identity key is {0} bytes; use at least {MIN_KEY_BYTES} random bytes")]
    KeyTooShort(usize),
    #[error("identity headers without {HEADER_IDENTITY_SIG}")]
    MissingSignature,
    #[error("{HEADER_IDENTITY_SIG} is not `t=<unix>,v1=<hex>`")]
    MalformedSignature,
    #[error("header {0} is missing, repeated or not valid")]
    MalformedHeader(&'static str),
    #[error("identity signature is older than {MAX_SIGNATURE_AGE_SECS} s or from the future")]
    Stale,
    #[error("identity signature does not match")]
    BadSignature,
}

/// The shared HMAC key (cheap to clone). `Debug` never prints it.
#[derive(Clone, PartialEq, Eq)]
pub struct IdentityKey(Arc<[u8]>);

impl IdentityKey {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, IdentityError> {
        let bytes = bytes.into();
        if bytes.len() < MIN_KEY_BYTES {
            return Err(IdentityError::KeyTooShort(bytes.len()));
        }
        Ok(IdentityKey(bytes.into()))
    }

    fn mac(&self, ts: u64, values: &[&str; 4]) -> Hmac<Sha256> {
        // HMAC accepts keys of any length; new_from_slice cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(format!("v1\n{ts}").as_bytes());
        for value in values {
            mac.update(b"\n");
            mac.update(value.as_bytes());
        }
        mac
    }
}

impl fmt::Debug for IdentityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdentityKey(<redacted>)")
    }
}

fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if (0x21..=0x7e).contains(&b) && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Headers to add upstream for `id`, signed at `now_unix`. Email and tenant headers
/// are left out when absent.
pub fn identity_headers(
    id: &Identity,
    key: &IdentityKey,
    now_unix: u64,
) -> Vec<(&'static str, String)> {
    let user = encode(&id.user_id);
    let email = id.email.as_deref().map(encode).unwrap_or_default();
    let tenant = id.tenant_id.as_deref().map(encode).unwrap_or_default();
    let auth = id.scheme.as_str();
    let sig = key
        .mac(now_unix, &[auth, &user, &email, &tenant])
        .finalize()
        .into_bytes();
    let mut out = vec![(HEADER_USER_ID, user)];
    if !email.is_empty() {
        out.push((HEADER_USER_EMAIL, email));
    }
    if !tenant.is_empty() {
        out.push((HEADER_TENANT_ID, tenant));
    }
    out.push((HEADER_AUTH, auth.to_string()));
    out.push((
        HEADER_IDENTITY_SIG,
        format!("t={now_unix},v1={}", hex::encode(sig)),
    ));
    out
}

/// One header's value: `Ok(None)` if absent, error if repeated or not visible ASCII.
fn single<'h>(
    headers: &'h http::HeaderMap,
    name: &'static str,
) -> Result<Option<&'h str>, IdentityError> {
    let mut values = headers.get_all(name).iter();
    let first = values.next();
    if values.next().is_some() {
        return Err(IdentityError::MalformedHeader(name));
    }
    first
        .map(|v| v.to_str().map_err(|_| IdentityError::MalformedHeader(name)))
        .transpose()
}

fn parse_sig(value: &str) -> Result<(u64, Vec<u8>), IdentityError> {
    let (t, v1) = value
        .split_once(',')
        .ok_or(IdentityError::MalformedSignature)?;
    let ts = t
        .strip_prefix("t=")
        .and_then(|t| t.parse().ok())
        .ok_or(IdentityError::MalformedSignature)?;
    let sig = v1
        .strip_prefix("v1=")
        .and_then(|s| hex::decode(s).ok())
        .ok_or(IdentityError::MalformedSignature)?;
    Ok((ts, sig))
}

/// Verifies the identity headers a request came with. `Ok(None)`: no identity
/// headers at all (an anonymous request through the proxy).
pub fn verify_identity_headers(
    headers: &http::HeaderMap,
    key: &IdentityKey,
    now_unix: u64,
) -> Result<Option<Identity>, IdentityError> {
    let sig = single(headers, HEADER_IDENTITY_SIG)?;
    let user = single(headers, HEADER_USER_ID)?;
    let Some(sig) = sig else {
        return match user {
            None => Ok(None),
            Some(_) => Err(IdentityError::MissingSignature),
        };
    };
    let (ts, sig) = parse_sig(sig)?;
    if now_unix.abs_diff(ts) > MAX_SIGNATURE_AGE_SECS {
        return Err(IdentityError::Stale);
    }
    let user = user.ok_or(IdentityError::MalformedHeader(HEADER_USER_ID))?;
    let auth = single(headers, HEADER_AUTH)?.ok_or(IdentityError::MalformedHeader(HEADER_AUTH))?;
    let email = single(headers, HEADER_USER_EMAIL)?.unwrap_or("");
    let tenant = single(headers, HEADER_TENANT_ID)?.unwrap_or("");
    key.mac(ts, &[auth, user, email, tenant])
        .verify_slice(&sig)
        .map_err(|_| IdentityError::BadSignature)?;
    let scheme = AuthScheme::from_name(auth).ok_or(IdentityError::MalformedHeader(HEADER_AUTH))?;
    let decoded = |v: &str, name| decode(v).ok_or(IdentityError::MalformedHeader(name));
    let optional = |v: &str, name| match v {
        "" => Ok(None),
        v => decoded(v, name).map(Some),
    };
    Ok(Some(Identity {
        scheme,
        user_id: decoded(user, HEADER_USER_ID)?,
        email: optional(email, HEADER_USER_EMAIL)?,
        tenant_id: optional(tenant, HEADER_TENANT_ID)?,
        expires_at: None,
    }))
}
