//! Signed identity headers: what the proxy adds upstream and a backend checks.
//!
//! `x-cutover-identity-sig: t=<unix>,v2=<hex HMAC-SHA256>` over
//! `v2\n<t>\n<audience>\n<METHOD>\n<path?query>\n<auth>\n<issuer>\n<user-id>\n<email>\n<tenant-id>`
//! (identity header values as sent, absent = empty). The audience (`next` or
//! `rust`), method and target bind the headers to the one request they came
//! with: captured headers replayed on another route, method or backend fail.
//! Values are percent-encoded outside visible ASCII (and `%`), so any claim is a
//! valid header value; the exact grammar is in `wire`. Uses `hmac`, `sha2`, `http`.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use hmac::{Hmac, Mac};
use pingora::http::KnownHeaderName;
use sha2::Sha256;

use crate::decimal::decimal;

use super::wire::{canonical_target, decode, encode, parse_sig};
use super::{AuthScheme, Identity};

pub const HEADER_USER_ID: &str = "x-cutover-user-id";
pub const HEADER_USER_EMAIL: &str = "x-cutover-user-email";
pub const HEADER_TENANT_ID: &str = "x-cutover-tenant-id";
pub const HEADER_AUTH: &str = "x-cutover-auth";
/// The `name` of the `[[auth.chatbot]]` issuer (chatbot identities only).
pub const HEADER_ISSUER: &str = "x-cutover-issuer";
pub const HEADER_IDENTITY_SIG: &str = "x-cutover-identity-sig";
/// Every identity header; the proxy strips client-sent copies of these (and of any
/// other `x-cutover-*` header) before adding its own.
pub const IDENTITY_HEADERS: [&str; 6] = [
    HEADER_USER_ID,
    HEADER_USER_EMAIL,
    HEADER_TENANT_ID,
    HEADER_ISSUER,
    HEADER_AUTH,
    HEADER_IDENTITY_SIG,
];
/// The identity headers as the proxy inserts them: parsed once, never per
/// request (vendored pingora-http patch 1, `KnownHeaderName`).
mod known {
    use super::KnownHeaderName;

    pub static USER_ID: KnownHeaderName = KnownHeaderName::from_static(super::HEADER_USER_ID);
    pub static USER_EMAIL: KnownHeaderName = KnownHeaderName::from_static(super::HEADER_USER_EMAIL);
    pub static TENANT_ID: KnownHeaderName = KnownHeaderName::from_static(super::HEADER_TENANT_ID);
    pub static AUTH: KnownHeaderName = KnownHeaderName::from_static(super::HEADER_AUTH);
    pub static ISSUER: KnownHeaderName = KnownHeaderName::from_static(super::HEADER_ISSUER);
    pub static IDENTITY_SIG: KnownHeaderName =
        KnownHeaderName::from_static(super::HEADER_IDENTITY_SIG);
}
/// A signature older (or further in the future) than this is rejected. The
/// proxy signs just before it sends, so the age is the upstream queueing delay
/// plus clock skew between replicas (NTP: well under a second); 30 s keeps a
/// wide margin for a busy Next while halving the old replay window. Replay
/// inside it is limited to the same audience, method, path and query.
pub const MAX_SIGNATURE_AGE_SECS: u64 = 30;
const MIN_KEY_BYTES: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("identity key is {0} bytes; use at least {MIN_KEY_BYTES} random bytes")]
    KeyTooShort(usize),
    #[error("identity headers without {HEADER_IDENTITY_SIG}")]
    MissingSignature,
    #[error("{HEADER_IDENTITY_SIG} is not `t=<unix>,v2=<64 lower-case hex>`")]
    MalformedSignature,
    #[error("header {0} is missing, repeated or not valid")]
    MalformedHeader(&'static str),
    #[error("identity signature is older than {MAX_SIGNATURE_AGE_SECS} s or from the future")]
    Stale,
    #[error("identity signature does not match")]
    BadSignature,
}

/// The shared HMAC key (cheap to clone). `Debug` never prints it.
///
/// Holds the HMAC state already keyed (the inner and outer pads absorbed):
/// each signature clones it instead of redoing the key schedule, two
/// SHA-256 blocks saved per request.
#[derive(Clone)]
pub struct IdentityKey(Arc<Keyed>);

struct Keyed {
    bytes: Box<[u8]>,
    mac: Hmac<Sha256>,
}

impl PartialEq for IdentityKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.bytes == other.0.bytes
    }
}

impl Eq for IdentityKey {}

impl IdentityKey {
    pub fn new(bytes: impl Into<Vec<u8>>) -> Result<Self, IdentityError> {
        let bytes = bytes.into();
        if bytes.len() < MIN_KEY_BYTES {
            return Err(IdentityError::KeyTooShort(bytes.len()));
        }
        // HMAC accepts keys of any length; new_from_slice cannot fail.
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(&bytes)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        Ok(IdentityKey(Arc::new(Keyed {
            bytes: bytes.into(),
            mac,
        })))
    }

    fn mac(&self, ts: u64, req: &SignedRequest<'_>, values: &[&str; 5]) -> Hmac<Sha256> {
        let mut mac = self.0.mac.clone();
        let mut digits = [0u8; 20];
        mac.update(b"v2\n");
        mac.update(decimal(ts, &mut digits));
        mac.update(b"\n");
        mac.update(req.audience.as_str().as_bytes());
        mac.update(b"\n");
        mac.update(req.method.as_bytes());
        mac.update(b"\n");
        mac.update(canonical_target(req.target).as_bytes());
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

/// The backend a signature is for; one never accepts the other's headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The legacy Next app (`tests/legacy-next/lib/identity.ts` verifies).
    Next,
    /// A remote `cutover handlers` (`middleware` verifies).
    Rust,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Next => "next",
            Audience::Rust => "rust",
        }
    }
}

/// The request the identity headers travel with, as the backend receives it:
/// method (`GET`), target (path and query, after any `rust_path` rewrite).
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    pub audience: Audience,
    pub method: &'a str,
    pub target: &'a str,
}

/// Headers to add to `req` for `id`, signed at `now_unix`. Email, tenant and
/// issuer headers are left out when absent.
pub fn identity_headers(
    id: &Identity,
    key: &IdentityKey,
    req: &SignedRequest<'_>,
    now_unix: u64,
) -> Vec<(&'static str, String)> {
    signed_identity(id, key, req, now_unix)
        .map(|(name, value)| {
            // Every value is visible ASCII (`encode`, hex, digits).
            let value = value.to_str().unwrap_or_default().to_string();
            (name.name().as_str(), value)
        })
        .collect()
}

/// [`identity_headers`] as header values, without a `Vec` or a formatter:
/// what the proxy adds on every authenticated request.
pub fn signed_identity(
    id: &Identity,
    key: &IdentityKey,
    req: &SignedRequest<'_>,
    now_unix: u64,
) -> impl Iterator<Item = (&'static KnownHeaderName, http::HeaderValue)> + use<> {
    let user = encode(&id.user_id);
    fn optional(v: &Option<String>) -> Cow<'_, str> {
        v.as_deref().map_or(Cow::Borrowed(""), encode)
    }
    let (email, tenant, issuer) = (
        optional(&id.email),
        optional(&id.tenant_id),
        optional(&id.issuer),
    );
    let auth = id.scheme.as_str();
    let sig = key
        .mac(now_unix, req, &[auth, &issuer, &user, &email, &tenant])
        .finalize()
        .into_bytes();
    let value = |v: &str| (!v.is_empty()).then(|| header_value(v.as_bytes()));
    [
        Some((&known::USER_ID, header_value(user.as_bytes()))),
        value(&email).map(|v| (&known::USER_EMAIL, v)),
        value(&tenant).map(|v| (&known::TENANT_ID, v)),
        value(&issuer).map(|v| (&known::ISSUER, v)),
        Some((&known::AUTH, http::HeaderValue::from_static(auth))),
        Some((&known::IDENTITY_SIG, sig_value(now_unix, &sig))),
    ]
    .into_iter()
    .flatten()
}

/// An encoded value (visible ASCII by construction) as a header value.
fn header_value(v: &[u8]) -> http::HeaderValue {
    http::HeaderValue::from_bytes(v)
        .unwrap_or_else(|_| unreachable!("encoded values are visible ASCII"))
}

/// `t=<unix>,v2=<64 hex>`, written into one stack buffer.
fn sig_value(ts: u64, sig: &[u8]) -> http::HeaderValue {
    let mut digits = [0u8; 20];
    let ts = decimal(ts, &mut digits);
    let mut buf = [0u8; 2 + 20 + 4 + 64];
    let mut n = 0;
    for part in [b"t=".as_slice(), ts, b",v2="] {
        buf[n..n + part.len()].copy_from_slice(part);
        n += part.len();
    }
    let hex_len = sig.len() * 2;
    hex::encode_to_slice(sig, &mut buf[n..n + hex_len])
        .unwrap_or_else(|_| unreachable!("the buffer holds a SHA-256 in hex"));
    header_value(&buf[..n + hex_len])
}

/// One header's value: `Ok(None)` if absent, error if repeated or outside the
/// value grammar (`wire`).
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
        .map(|v| match v.to_str() {
            Ok(s) if name == HEADER_IDENTITY_SIG || decode(s).is_some() => Ok(s),
            _ => Err(IdentityError::MalformedHeader(name)),
        })
        .transpose()
}

/// Verifies the identity headers `req` came with. `Ok(None)`: no identity
/// headers at all (an anonymous request through the proxy).
pub fn verify_identity_headers(
    headers: &http::HeaderMap,
    key: &IdentityKey,
    req: &SignedRequest<'_>,
    now_unix: u64,
) -> Result<Option<Identity>, IdentityError> {
    let sig = single(headers, HEADER_IDENTITY_SIG)?;
    let Some(sig) = sig else {
        let unsigned = IDENTITY_HEADERS.iter().any(|h| headers.contains_key(*h));
        return match unsigned {
            false => Ok(None),
            true => Err(IdentityError::MissingSignature),
        };
    };
    let (ts, sig) = parse_sig(sig).ok_or(IdentityError::MalformedSignature)?;
    if now_unix.abs_diff(ts) > MAX_SIGNATURE_AGE_SECS {
        return Err(IdentityError::Stale);
    }
    let user =
        single(headers, HEADER_USER_ID)?.ok_or(IdentityError::MalformedHeader(HEADER_USER_ID))?;
    let auth = single(headers, HEADER_AUTH)?.ok_or(IdentityError::MalformedHeader(HEADER_AUTH))?;
    let email = single(headers, HEADER_USER_EMAIL)?.unwrap_or("");
    let tenant = single(headers, HEADER_TENANT_ID)?.unwrap_or("");
    let issuer = single(headers, HEADER_ISSUER)?.unwrap_or("");
    key.mac(ts, req, &[auth, issuer, user, email, tenant])
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
        issuer: optional(issuer, HEADER_ISSUER)?,
        expires_at: None,
    }))
}
