//! Who a per-client cap counts: [`ClientKey`], chosen from the verified
//! identity, else the Pusher `socket_id`, else the client IP.
//! May use: `identity`, `sha2`.

use std::net::IpAddr;

use sha2::{Digest, Sha256};

use crate::identity::{AuthScheme, Identity};

/// Longer storage keys are replaced by their SHA-256 (bounds memory and Redis
/// key size whatever a client sends).
const MAX_KEY_LEN: usize = 96;

/// The per-client cap key, most specific first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ClientKey {
    /// A session user id.
    User(String),
    /// A chatbot widget visitor, qualified by issuer and tenant (`visitor_key`):
    /// the same `sub` from another issuer or tenant is another client, and
    /// never shares a collapsed or cached answer.
    Subject(String),
    /// A service token's name.
    Service(String),
    /// Pusher `socket_id` from the form body (anonymous callers).
    Socket(String),
    Ip(IpAddr),
}

impl ClientKey {
    /// user id, else chatbot subject (else service name), else `socket_id`,
    /// else the client IP.
    pub fn choose(identity: Option<&Identity>, socket_id: Option<&str>, ip: IpAddr) -> ClientKey {
        match (identity, socket_id) {
            (Some(id), _) => match id.scheme {
                AuthScheme::Session => ClientKey::User(id.user_id.clone()),
                AuthScheme::Chatbot => ClientKey::Subject(visitor_key(id)),
                AuthScheme::Service => ClientKey::Service(id.user_id.clone()),
            },
            (None, Some(socket)) if !socket.is_empty() => ClientKey::Socket(socket.to_string()),
            (None, _) => ClientKey::Ip(ip),
        }
    }

    /// Stable string for maps and Redis keys: `u:…`, `s:…`, `svc:…`, `k:…`,
    /// `ip:…`; at most 96 bytes (longer values are replaced by their SHA-256).
    pub fn storage_key(&self) -> String {
        let (tag, value) = match self {
            ClientKey::User(v) => ("u", v.as_str()),
            ClientKey::Subject(v) => ("s", v.as_str()),
            ClientKey::Service(v) => ("svc", v.as_str()),
            ClientKey::Socket(v) => ("k", v.as_str()),
            ClientKey::Ip(ip) => return format!("ip:{ip}"),
        };
        if tag.len() + 1 + value.len() <= MAX_KEY_LEN {
            format!("{tag}:{value}")
        } else {
            format!("{tag}#{}", hex::encode(Sha256::digest(value.as_bytes())))
        }
    }
}

/// `<len>:<issuer>/<len>:<tenant>/<sub>` (absent = empty): unambiguous whatever
/// the values contain.
fn visitor_key(id: &Identity) -> String {
    let issuer = id.issuer.as_deref().unwrap_or("");
    let tenant = id.tenant_id.as_deref().unwrap_or("");
    format!(
        "{}:{issuer}/{}:{tenant}/{}",
        issuer.len(),
        tenant.len(),
        id.user_id
    )
}
