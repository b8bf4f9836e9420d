//! Credentials the way the frontend sends them, minted by the real libraries
//! (tests/tokens/mint.mjs): a NextAuth v4 session cookie for a user (same
//! `NEXTAUTH_SECRET` as the Next app and cutover) and an HS256 chatbot
//! bearer JWT (claim `tenantId`) for a visitor, signed as its issuer: the
//! shipped "widget" (`iss` "tenant-chatbot") or the test's "partner".

use std::collections::HashMap;

use cutover::identity::{AuthScheme, Identity};
use serde_json::json;

use crate::legacy_next::NEXTAUTH_SECRET;
use crate::mint;
use crate::stack::{CHATBOT_JWT_SECRET, PARTNER_CHATBOT_JWT_SECRET};

/// The seeded users' emails (tests/support/harness.rs `seed`).
fn email(user: &str) -> Option<&'static str> {
    match user {
        "u1" => Some("alice@example.com"),
        "u2" => Some("bob@example.com"),
        "u3" => Some("carol@example.com"),
        "u4" => Some("dave@example.com"),
        _ => None,
    }
}

type Key = (AuthScheme, String, Option<String>, Option<String>);

fn key(id: &Identity) -> Key {
    (
        id.scheme,
        id.user_id.clone(),
        id.tenant_id.clone(),
        id.issuer.clone(),
    )
}

/// (`iss`, HS256 secret) of the issuer configured under `name`.
fn issuer(name: Option<&str>) -> (&'static str, &'static str) {
    match name {
        Some("partner") => ("partner-chatbot", PARTNER_CHATBOT_JWT_SECRET),
        _ => ("tenant-chatbot", CHATBOT_JWT_SECRET),
    }
}

/// One `(header name, value)` per identity.
pub struct Creds {
    headers: HashMap<Key, (&'static str, String)>,
}

impl Creds {
    /// Mints one credential per distinct identity, in one node run.
    pub fn mint(ids: &[Identity]) -> Creds {
        let mut distinct: Vec<&Identity> = Vec::new();
        for id in ids {
            if !distinct.iter().any(|d| key(d) == key(id)) {
                distinct.push(id);
            }
        }
        let specs = distinct
            .iter()
            .map(|id| match id.scheme {
                AuthScheme::Chatbot => {
                    let (iss, secret) = issuer(id.issuer.as_deref());
                    json!({
                        "kind": "jwt",
                        "payload": {"sub": id.user_id, "tenantId": id.tenant_id},
                        "key": secret,
                        "options": {"algorithm": "HS256", "issuer": iss, "expiresIn": 3600}
                    })
                }
                _ => json!({
                    "kind": "nextauth_v4",
                    "secret": NEXTAUTH_SECRET,
                    "claims": {"sub": id.user_id, "email": email(&id.user_id)},
                    "maxAge": 3600
                }),
            })
            .collect();
        let minted = tokio::task::block_in_place(|| mint::mint(serde_json::Value::Array(specs)));
        let headers = distinct
            .iter()
            .zip(minted)
            .map(|(id, m)| {
                let token = mint::token(&m);
                let header = match id.scheme {
                    AuthScheme::Chatbot => ("authorization", format!("Bearer {token}")),
                    _ => ("cookie", format!("next-auth.session-token={token}")),
                };
                (key(id), header)
            })
            .collect();
        Creds { headers }
    }

    /// The identity's credential header: `cookie` or `authorization`.
    pub fn header(&self, who: &Identity) -> (&'static str, String) {
        self.headers
            .get(&key(who))
            .cloned()
            .expect("a credential was minted for every identity")
    }

    /// Adds the identity's credential to a request.
    pub fn apply(&self, req: reqwest::RequestBuilder, who: &Identity) -> reqwest::RequestBuilder {
        let (name, value) = self.header(who);
        req.header(name, value)
    }
}
