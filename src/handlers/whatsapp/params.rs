//! The WhatsApp routes' extractors: who is calling (admin user or worker),
//! the JSON body as an object, query parameters as `URLSearchParams.get`
//! reads them — each rejecting with the legacy error shape.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde_json::{Map, Value};

use super::error::WaError;
use crate::identity::{AuthScheme, Identity};

/// A signed-in admin user (session identity).
pub struct Admin(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Admin {
    type Rejection = WaError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Identity>() {
            None => Err(WaError::Unauthorized),
            Some(id) if id.scheme == AuthScheme::Session => Ok(Admin(id.user_id.clone())),
            Some(_) => Err(WaError::Forbidden),
        }
    }
}

/// The Baileys worker (service identity).
pub struct Worker;

impl<S: Send + Sync> FromRequestParts<S> for Worker {
    type Rejection = WaError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Identity>() {
            None => Err(WaError::Unauthorized),
            Some(id) if id.scheme == AuthScheme::Service => Ok(Worker),
            Some(_) => Err(WaError::Forbidden),
        }
    }
}

/// A JSON object body; anything else → 400 `Invalid JSON body`.
pub struct Body(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = WaError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        const INVALID: WaError = WaError::BadRequest("Invalid JSON body");
        let bytes = Bytes::from_request(req, state).await.map_err(|_| INVALID)?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(map)) => Ok(Body(map)),
            _ => Err(INVALID),
        }
    }
}

impl Body {
    /// A non-empty string field (anything else reads as missing, as `if
    /// (!x)` / `typeof x !== 'string'` does in the legacy app).
    pub fn text(&self, key: &str) -> Option<&str> {
        self.0
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }

    /// The session id, required.
    pub fn session_id(&self) -> Result<&str, WaError> {
        self.text("sessionId")
            .ok_or(WaError::BadRequest("sessionId is required"))
    }
}

/// Query parameters; the first occurrence of a key wins.
pub struct Query(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Query {
    type Rejection = WaError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let pairs = serde_urlencoded::from_str(parts.uri.query().unwrap_or(""))
            .map_err(|_| WaError::BadRequest("sessionId is required"))?;
        Ok(Query(pairs))
    }
}

impl Query {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// A non-empty value.
    pub fn text(&self, key: &str) -> Option<&str> {
        self.get(key).filter(|s| !s.is_empty())
    }

    pub fn session_id(&self) -> Result<&str, WaError> {
        self.text("sessionId")
            .ok_or(WaError::BadRequest("sessionId is required"))
    }
}
