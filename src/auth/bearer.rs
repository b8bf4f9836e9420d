//! Chatbot bearer JWTs → `Identity`, verified with `jsonwebtoken` (rust_crypto).
//!
//! The token's `iss` picks the issuer; its `alg` must be one the issuer allows
//! (so `none` and HS256-with-an-RSA-key are rejected before any key is used);
//! its `kid` picks the key among static and fetched (JWKS URL) keys. An unknown
//! `kid` asks the issuer's [`JwksRefresher`] for a refresh and is `UnknownKey`.
//! `exp`/`nbf` are checked here with the injected `now` and the issuer's leeway.
//! The identity names the issuer (its configured `name`) and carries a tenant
//! only from the tenants that issuer may speak for (`TenantScope`).

use std::str::FromStr;
use std::sync::Arc;

use arc_swap::ArcSwap;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};

use super::claims::{Claims, check_time};
use super::jwks::JwksRefresher;
use super::settings::{ChatbotIssuer, IssuerKey};
use super::{RejectReason, Verified};
use crate::identity::{AuthScheme, Identity};

const SPEC_CLAIMS: [&str; 5] = ["exp", "nbf", "sub", "iss", "aud"];

struct IssuerState {
    cfg: ChatbotIssuer,
    /// Swapped once, before serving, for the long-lived refresher (`JwksSources::adopt`).
    remote: Option<ArcSwap<JwksRefresher>>,
}

pub(crate) struct ChatbotVerifier {
    issuers: Vec<IssuerState>,
}

fn json_segment(segment: &str) -> Result<serde_json::Value, RejectReason> {
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| RejectReason::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| RejectReason::Malformed)
}

fn map_error(kind: &ErrorKind) -> RejectReason {
    match kind {
        ErrorKind::InvalidAudience | ErrorKind::InvalidIssuer | ErrorKind::InvalidSubject => {
            RejectReason::WrongAudience
        }
        ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature => RejectReason::Expired,
        ErrorKind::InvalidToken
        | ErrorKind::Base64(_)
        | ErrorKind::Json(_)
        | ErrorKind::Utf8(_)
        | ErrorKind::MissingRequiredClaim(_)
        | ErrorKind::InvalidClaimFormat(_) => RejectReason::Malformed,
        _ => RejectReason::BadSignature,
    }
}

impl ChatbotVerifier {
    pub(crate) fn new(issuers: &[ChatbotIssuer]) -> Self {
        let issuers = issuers
            .iter()
            .map(|cfg| IssuerState {
                remote: cfg
                    .jwks_url
                    .as_ref()
                    .map(|url| ArcSwap::from_pointee(JwksRefresher::new(&cfg.name, url))),
                cfg: cfg.clone(),
            })
            .collect();
        ChatbotVerifier { issuers }
    }

    pub(crate) fn is_configured(&self) -> bool {
        !self.issuers.is_empty()
    }

    pub(crate) fn refreshers(&self) -> Vec<Arc<JwksRefresher>> {
        self.issuers
            .iter()
            .filter_map(|i| i.remote.as_ref().map(ArcSwap::load_full))
            .collect()
    }

    /// Replaces each issuer's refresher with `pick(current)`.
    pub(crate) fn share_refreshers(
        &self,
        pick: &mut dyn FnMut(Arc<JwksRefresher>) -> Arc<JwksRefresher>,
    ) {
        for slot in self.issuers.iter().filter_map(|i| i.remote.as_ref()) {
            slot.store(pick(slot.load_full()));
        }
    }

    /// Changes whenever a fetched key set changes (part of the token-cache key).
    pub(crate) fn key_generation(&self) -> u64 {
        self.issuers
            .iter()
            .filter_map(|i| i.remote.as_ref())
            .fold(0u64, |acc, r| acc.wrapping_add(r.load().generation()))
    }

    pub(crate) fn verify(&self, token: &str, now: u64) -> Verified {
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(_sig), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(RejectReason::Malformed);
        };
        let header = json_segment(h)?;
        // No extension is implemented, so any `crit` is one we cannot honour (RFC 7515 §4.1.11).
        if header.get("crit").is_some() {
            return Err(RejectReason::Malformed);
        }
        let payload = Claims::from_value(json_segment(p)?)?;
        let iss = payload.string("iss");
        let issuer = self
            .issuers
            .iter()
            .find(|i| iss.as_deref() == Some(i.cfg.issuer.as_str()))
            .ok_or(RejectReason::WrongAudience)?;
        let alg = header
            .get("alg")
            .and_then(|a| a.as_str())
            .and_then(|a| Algorithm::from_str(a).ok())
            .filter(|a| issuer.cfg.algorithms.contains(a))
            .ok_or(RejectReason::BadSignature)?;
        let kid = header.get("kid").and_then(|k| k.as_str());
        let claims = Self::verify_signature(issuer, token, alg, kid, now)?;
        let cfg = &issuer.cfg;
        let exp = check_time(&claims, now, cfg.leeway_secs, true)?;
        if cfg.required_claims.iter().any(|c| !claims.has(c)) {
            return Err(RejectReason::Malformed);
        }
        // Bound to the issuer: it may speak only for the tenants it declares.
        let claimed = cfg.tenant_claim.as_deref().and_then(|c| claims.string(c));
        Ok(Identity {
            scheme: AuthScheme::Chatbot,
            user_id: claims.sub()?,
            email: claims.string("email"),
            tenant_id: cfg.tenants.resolve(claimed)?,
            issuer: Some(cfg.name.clone()),
            expires_at: exp,
        })
    }

    fn verify_signature(
        issuer: &IssuerState,
        token: &str,
        alg: Algorithm,
        kid: Option<&str>,
        now: u64,
    ) -> Result<Claims, RejectReason> {
        let remote_refresher = issuer.remote.as_ref().map(ArcSwap::load_full);
        let remote = remote_refresher.as_ref().map(|r| r.keys());
        let fetched: &[IssuerKey] = remote.as_deref().map_or(&[], |k| k.as_slice());
        let same_family = || {
            issuer
                .cfg
                .keys
                .iter()
                .chain(fetched)
                .filter(|k| k.key.family() == alg.family())
        };
        // A token naming a kid uses that key; keys without a kid are the fallback.
        let mut candidates: Vec<&IssuerKey> = match kid {
            Some(want) => same_family()
                .filter(|k| k.kid.as_deref() == Some(want))
                .collect(),
            None => same_family().collect(),
        };
        if candidates.is_empty() {
            if let Some(remote) = &remote_refresher {
                remote.request_refresh(now);
            }
            candidates = same_family().filter(|k| k.kid.is_none()).collect();
        }
        if candidates.is_empty() {
            return Err(RejectReason::UnknownKey);
        }
        let mut validation = Validation::new(alg);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.set_issuer(&[&issuer.cfg.issuer]);
        if !issuer.cfg.audience.is_empty() {
            validation.set_audience(&issuer.cfg.audience);
        }
        let mut required: Vec<&str> = vec!["exp"];
        required.extend(
            issuer
                .cfg
                .required_claims
                .iter()
                .map(String::as_str)
                .filter(|c| SPEC_CLAIMS.contains(c)),
        );
        validation.set_required_spec_claims(&required);
        let mut last = RejectReason::BadSignature;
        for candidate in candidates {
            match jsonwebtoken::decode::<serde_json::Value>(token, &candidate.key, &validation) {
                Ok(data) => return Claims::from_value(data.claims),
                Err(e) => {
                    last = map_error(e.kind());
                    if last != RejectReason::BadSignature {
                        break;
                    }
                }
            }
        }
        Err(last)
    }
}
