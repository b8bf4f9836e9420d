//! Service tokens (machines such as the WhatsApp worker): SHA-256 of the presented
//! token compared in constant time with every configured hash. Uses `sha2`, `subtle`.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::settings::ServiceToken;
use crate::identity::{AuthScheme, Identity};

pub(crate) struct ServiceVerifier {
    tokens: Vec<ServiceToken>,
}

impl ServiceVerifier {
    pub(crate) fn new(tokens: &[ServiceToken]) -> Self {
        ServiceVerifier {
            tokens: tokens.to_vec(),
        }
    }

    /// The identity of the matching service, if any. Every entry is compared (no early
    /// exit), so timing does not reveal which hash matched.
    pub(crate) fn verify(&self, token: &str) -> Option<Identity> {
        let digest = Sha256::digest(token.as_bytes());
        let mut found = None;
        for entry in &self.tokens {
            if bool::from(entry.sha256.ct_eq(digest.as_slice())) && found.is_none() {
                found = Some(entry.name.clone());
            }
        }
        found.map(|name| Identity {
            scheme: AuthScheme::Service,
            user_id: name,
            email: None,
            tenant_id: None,
            issuer: None,
            expires_at: None,
        })
    }
}
