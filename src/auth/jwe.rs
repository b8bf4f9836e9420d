//! Compact JWE (`dir` key management) parsing and content decryption.
//!
//! Only what the session libraries write: `A256GCM` (next-auth v4) and
//! `A256CBC-HS512` (Auth.js v5, RFC 7518 5.2.5). Rejects any other `alg`/`enc`,
//! `zip`, `crit`, unknown header parameters, a non-empty encrypted key and bad
//! base64. Uses RustCrypto (`aes-gcm`, `aes` + `cbc`, `hmac`, `sha2`, `subtle`).

use aes_gcm::aead::{AeadInPlace, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce, Tag};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cbc::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
use hmac::{Hmac, Mac};
use sha2::Sha512;
use subtle::ConstantTimeEq;

use super::RejectReason;

/// The content encryption a session flavor uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContentEnc {
    A256Gcm,
    A256CbcHs512,
}

impl ContentEnc {
    fn name(self) -> &'static str {
        match self {
            ContentEnc::A256Gcm => "A256GCM",
            ContentEnc::A256CbcHs512 => "A256CBC-HS512",
        }
    }
}

/// A parsed compact JWE whose header passed the checks.
pub(crate) struct CompactJwe<'a> {
    /// The first segment as sent: the AAD.
    pub aad: &'a [u8],
    pub kid: Option<String>,
    pub iv: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub tag: Vec<u8>,
}

fn b64(segment: &str) -> Result<Vec<u8>, RejectReason> {
    URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| RejectReason::Malformed)
}

/// Splits and checks a compact JWE whose content encryption must be `expected`.
pub(crate) fn parse(token: &str, expected: ContentEnc) -> Result<CompactJwe<'_>, RejectReason> {
    let mut parts = token.split('.');
    let (Some(h), Some(ek), Some(iv), Some(ct), Some(tag), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(RejectReason::Malformed);
    };
    if !ek.is_empty() {
        return Err(RejectReason::Malformed);
    }
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&b64(h)?).map_err(|_| RejectReason::Malformed)?;
    let mut kid = None;
    let (mut alg_ok, mut enc_ok) = (false, false);
    for (name, value) in &header {
        match (name.as_str(), value) {
            ("alg", serde_json::Value::String(v)) => alg_ok = v == "dir",
            ("enc", serde_json::Value::String(v)) => enc_ok = v == expected.name(),
            ("kid", serde_json::Value::String(v)) => kid = Some(v.clone()),
            ("typ" | "cty", serde_json::Value::String(_)) => {}
            // zip, crit, and anything we do not understand.
            _ => return Err(RejectReason::Malformed),
        }
    }
    if !alg_ok || !enc_ok {
        return Err(RejectReason::Malformed);
    }
    Ok(CompactJwe {
        aad: h.as_bytes(),
        kid,
        iv: b64(iv)?,
        ciphertext: b64(ct)?,
        tag: b64(tag)?,
    })
}

/// `A256GCM` decryption; a wrong key or any tampering is `BadSignature`.
pub(crate) fn decrypt_a256gcm(
    jwe: &CompactJwe<'_>,
    key: &[u8; 32],
) -> Result<Vec<u8>, RejectReason> {
    if jwe.iv.len() != 12 || jwe.tag.len() != 16 {
        return Err(RejectReason::Malformed);
    }
    let cipher = Aes256Gcm::new(key.into());
    let mut buf = jwe.ciphertext.clone();
    cipher
        .decrypt_in_place_detached(
            Nonce::from_slice(&jwe.iv),
            jwe.aad,
            &mut buf,
            Tag::from_slice(&jwe.tag),
        )
        .map_err(|_| RejectReason::BadSignature)?;
    Ok(buf)
}

/// `A256CBC-HS512` (RFC 7518 5.2.5): MAC key = key[..32], ENC key = key[32..].
pub(crate) fn decrypt_a256cbc_hs512(
    jwe: &CompactJwe<'_>,
    key: &[u8; 64],
) -> Result<Vec<u8>, RejectReason> {
    if jwe.iv.len() != 16 || jwe.tag.len() != 32 || !jwe.ciphertext.len().is_multiple_of(16) {
        return Err(RejectReason::Malformed);
    }
    let (mac_key, enc_key) = key.split_at(32);
    let mut mac =
        <Hmac<Sha512> as Mac>::new_from_slice(mac_key).map_err(|_| RejectReason::Malformed)?;
    mac.update(jwe.aad);
    mac.update(&jwe.iv);
    mac.update(&jwe.ciphertext);
    let aad_bits = (jwe.aad.len() as u64).saturating_mul(8);
    mac.update(&aad_bits.to_be_bytes());
    let full = mac.finalize().into_bytes();
    if !bool::from(full[..32].ct_eq(&jwe.tag)) {
        return Err(RejectReason::BadSignature);
    }
    let decryptor = cbc::Decryptor::<aes::Aes256>::new_from_slices(enc_key, &jwe.iv)
        .map_err(|_| RejectReason::Malformed)?;
    let mut buf = jwe.ciphertext.clone();
    let len = decryptor
        .decrypt_padded_mut::<Pkcs7>(&mut buf)
        .map_err(|_| RejectReason::BadSignature)?
        .len();
    buf.truncate(len);
    Ok(buf)
}
