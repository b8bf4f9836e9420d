//! Pusher protocol for the handlers: channel-authorization and user sign-in
//! signatures (what pusher-js expects from the auth endpoint) and a client for
//! the Pusher HTTP API that Soketi serves (signed `POST /apps/{id}/events`).
//!
//! The signing functions are pure. The client checks the response body as well
//! as the status, because Soketi reports auth failures with status 200.

#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};
use serde::Serialize;
use sha2::Sha256;

/// Where and as which app to send events. The secret never appears in Debug.
#[derive(Clone)]
pub struct PusherConfig {
    pub app_id: String,
    pub key: String,
    pub secret: String,
    /// `http://host:port` of the HTTP API (Soketi), no trailing slash.
    pub base_url: String,
}

impl fmt::Debug for PusherConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PusherConfig")
            .field("app_id", &self.app_id)
            .field("key", &self.key)
            .field("secret", &"<redacted>")
            .field("base_url", &self.base_url)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PusherError {
    /// The path only: the signed query (`auth_key`, `auth_signature`) never
    /// reaches a log line.
    #[error("pusher request to {path} failed: {source}")]
    Http {
        path: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("pusher answered status {status}")]
    Status { status: u16 },
    /// Status 200 but the body reports an error (Soketi's auth failures).
    #[error("pusher rejected the event: code {code}")]
    Rejected { code: i64 },
    #[error("event payload is not serializable: {0}")]
    Payload(#[from] serde_json::Error),
}

impl PusherError {
    /// A transport error, stripped of the signed URL.
    fn http(path: &str, e: reqwest::Error) -> Self {
        PusherError::Http {
            path: path.to_string(),
            source: e.without_url(),
        }
    }
}

/// Cheap to clone; one connection pool.
#[derive(Clone, Debug)]
pub struct PusherClient {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    http: reqwest::Client,
    config: PusherConfig,
}

/// `hex(HMAC-SHA256(secret, text))`, lowercase.
pub fn sign(secret: &str, text: &str) -> String {
    // HMAC accepts keys of any length; the error branch cannot happen.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(text.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The query string of a signed HTTP API request (ends with `auth_signature`).
pub fn signed_query(
    config: &PusherConfig,
    method: &str,
    path: &str,
    body: &str,
    timestamp: u64,
) -> String {
    let body_md5 = hex::encode(Md5::digest(body.as_bytes()));
    // Already sorted by key.
    let query = format!(
        "auth_key={}&auth_timestamp={timestamp}&auth_version=1.0&body_md5={body_md5}",
        config.key
    );
    let signature = sign(&config.secret, &format!("{method}\n{path}\n{query}"));
    format!("{query}&auth_signature={signature}")
}

/// Whether an HTTP API response body reports an error despite its status.
pub fn body_error_code(body: &[u8]) -> Option<i64> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let code = value.get("code")?.as_i64()?;
    (code >= 400).then_some(code)
}

#[derive(Serialize)]
struct TriggerBody<'a> {
    name: &'a str,
    data: String,
    channels: &'a [&'a str],
}

impl PusherClient {
    pub fn new(config: PusherConfig) -> PusherClient {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        PusherClient {
            inner: Arc::new(Inner { http, config }),
        }
    }

    pub fn app_id(&self) -> &str {
        &self.inner.config.app_id
    }

    pub fn key(&self) -> &str {
        &self.inner.config.key
    }

    /// `auth` for a private (`channel_data` None) or presence channel.
    pub fn authorize_channel(
        &self,
        socket_id: &str,
        channel: &str,
        channel_data: Option<&str>,
    ) -> String {
        let text = match channel_data {
            Some(data) => format!("{socket_id}:{channel}:{data}"),
            None => format!("{socket_id}:{channel}"),
        };
        format!("{}:{}", self.key(), sign(&self.inner.config.secret, &text))
    }

    /// `auth` for user sign-in.
    pub fn authenticate_user(&self, socket_id: &str, user_data: &str) -> String {
        let text = format!("{socket_id}::user::{user_data}");
        format!("{}:{}", self.key(), sign(&self.inner.config.secret, &text))
    }

    /// Trigger one event on one channel; `data` is sent as its JSON text.
    pub async fn trigger<T: Serialize>(
        &self,
        channel: &str,
        event: &str,
        data: &T,
    ) -> Result<(), PusherError> {
        self.trigger_many(&[channel], event, data).await
    }

    /// Trigger one event on several channels in one API call (as the
    /// `pusher` SDK does for `trigger([a, b], …)`).
    pub async fn trigger_many<T: Serialize>(
        &self,
        channels: &[&str],
        event: &str,
        data: &T,
    ) -> Result<(), PusherError> {
        let config = &self.inner.config;
        let body = serde_json::to_string(&TriggerBody {
            name: event,
            data: serde_json::to_string(data)?,
            channels,
        })?;
        let path = format!("/apps/{}/events", config.app_id);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let url = format!(
            "{}{path}?{}",
            config.base_url,
            signed_query(config, "POST", &path, &body, now)
        );
        let response = self
            .inner
            .http
            .post(url)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| PusherError::http(&path, e))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| PusherError::http(&path, e))?;
        if !status.is_success() {
            return Err(PusherError::Status {
                status: status.as_u16(),
            });
        }
        match body_error_code(&bytes) {
            Some(code) => Err(PusherError::Rejected { code }),
            None => Ok(()),
        }
    }
}
