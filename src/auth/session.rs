//! Session tokens of next-auth v4 and Auth.js v5 → `Identity`.
//!
//! Derives the keys once (HKDF-SHA256 per secret, and per cookie name for v5),
//! picks the v5 key by `kid` thumbprint, decrypts with `jwe`, and checks the
//! claims (`exp`/`nbf` with skew, `sub`). Uses `hkdf`, `sha2`, `settings`, `claims`.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hkdf::Hkdf;
use sha2::{Digest, Sha256, Sha512};

use super::claims::{Claims, check_time};
use super::jwe::{self, ContentEnc};
use super::settings::{SessionConfig, SessionFlavor};
use super::{RejectReason, Verified};
use crate::identity::{AuthScheme, Identity};

const V4_INFO: &[u8] = b"NextAuth.js Generated Encryption Key";

/// One Auth.js v5 key: for one secret and one cookie name.
struct V5Key {
    salt: String,
    kid: String,
    key: [u8; 64],
}

/// Verifies session tokens; keys derived at construction.
pub(crate) struct SessionVerifier {
    flavor: SessionFlavor,
    v4_keys: Vec<[u8; 32]>,
    v5_keys: Vec<V5Key>,
    pub(crate) cookie_names: Vec<String>,
    skew_secs: u64,
    tenant_claim: Option<String>,
}

fn v4_key(secret: &[u8]) -> [u8; 32] {
    let mut okm = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit: expand cannot fail.
    let _ = Hkdf::<Sha256>::new(Some(&[]), secret).expand(V4_INFO, &mut okm);
    okm
}

fn v5_key(secret: &[u8], salt: &str) -> V5Key {
    let mut key = [0u8; 64];
    let info = format!("Auth.js Generated Encryption Key ({salt})");
    let _ = Hkdf::<Sha256>::new(Some(salt.as_bytes()), secret).expand(info.as_bytes(), &mut key);
    // RFC 7638 thumbprint of {"k":…,"kty":"oct"} with SHA-512, as @auth/core computes it.
    let jwk = format!(r#"{{"k":"{}","kty":"oct"}}"#, URL_SAFE_NO_PAD.encode(key));
    let kid = URL_SAFE_NO_PAD.encode(Sha512::digest(jwk.as_bytes()));
    V5Key {
        salt: salt.to_string(),
        kid,
        key,
    }
}

impl SessionVerifier {
    pub(crate) fn new(cfg: &SessionConfig) -> Self {
        let mut v4_keys = Vec::new();
        let mut v5_keys = Vec::new();
        for secret in &cfg.secrets {
            match cfg.flavor {
                SessionFlavor::NextAuthV4 => v4_keys.push(v4_key(secret.expose())),
                SessionFlavor::AuthJsV5 => {
                    for name in &cfg.cookie_names {
                        v5_keys.push(v5_key(secret.expose(), name));
                    }
                }
            }
        }
        SessionVerifier {
            flavor: cfg.flavor,
            v4_keys,
            v5_keys,
            cookie_names: cfg.cookie_names.clone(),
            skew_secs: cfg.skew_secs,
            tenant_claim: cfg.tenant_claim.clone(),
        }
    }

    /// Verifies one token. `cookie_name` is the (unchunked) cookie it came from; `None`
    /// for a bearer/query token, in which case every configured cookie name is tried (v5).
    pub(crate) fn verify(&self, token: &str, cookie_name: Option<&str>, now: u64) -> Verified {
        let plaintext = match self.flavor {
            SessionFlavor::NextAuthV4 => self.decrypt_v4(token)?,
            SessionFlavor::AuthJsV5 => self.decrypt_v5(token, cookie_name)?,
        };
        let claims = Claims::parse(&plaintext)?;
        let exp = check_time(&claims, now, self.skew_secs, true)?;
        Ok(Identity {
            scheme: AuthScheme::Session,
            user_id: claims.sub()?,
            email: claims.string("email"),
            tenant_id: self.tenant_claim.as_deref().and_then(|c| claims.string(c)),
            issuer: None,
            expires_at: exp,
        })
    }

    fn decrypt_v4(&self, token: &str) -> Result<Vec<u8>, RejectReason> {
        let jwe = jwe::parse(token, ContentEnc::A256Gcm)?;
        let mut last = RejectReason::BadSignature;
        for key in &self.v4_keys {
            match jwe::decrypt_a256gcm(&jwe, key) {
                Ok(plain) => return Ok(plain),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    fn decrypt_v5(&self, token: &str, cookie_name: Option<&str>) -> Result<Vec<u8>, RejectReason> {
        let jwe = jwe::parse(token, ContentEnc::A256CbcHs512)?;
        let mut last = RejectReason::BadSignature;
        let candidates = self.v5_keys.iter().filter(|k| {
            cookie_name.is_none_or(|n| k.salt == n)
                && jwe.kid.as_deref().is_none_or(|kid| kid == k.kid)
        });
        for key in candidates {
            match jwe::decrypt_a256cbc_hs512(&jwe, &key.key) {
                Ok(plain) => return Ok(plain),
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}
