//! Background JWKS fetching for a chatbot issuer with `jwks_url`.
//!
//! `authenticate` never waits on the network: it reads the last fetched keys
//! (an `ArcSwap` snapshot) and, on an unknown `kid`, calls
//! [`JwksRefresher::request_refresh`], which wakes [`JwksRefresher::run`] at most
//! once per [`MIN_REFRESH_INTERVAL_SECS`]. The caller spawns `run` on a tokio
//! runtime (`Authenticator::jwks_refreshers`). Uses `reqwest`, `arc-swap`, `tokio`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use tokio::sync::Notify;

use super::settings::IssuerKey;

/// A refresh is requested at most this often.
pub const MIN_REFRESH_INTERVAL_SECS: u64 = 60;
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
const MAX_JWKS_BYTES: usize = 256 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum JwksError {
    #[error("fetching JWKS from {url}: {source}")]
    Fetch { url: String, source: reqwest::Error },
    #[error("JWKS at {url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("JWKS at {url} is larger than {MAX_JWKS_BYTES} bytes")]
    TooLarge { url: String },
    #[error("JWKS at {url}: {reason}")]
    Parse { url: String, reason: String },
}

/// The fetched keys of one issuer and the wake-up for the background fetch.
pub struct JwksRefresher {
    issuer: String,
    url: String,
    keys: ArcSwap<Vec<IssuerKey>>,
    /// `now` of the last accepted refresh request + 1 (0 = never).
    last_request: AtomicU64,
    wake: Notify,
}

impl std::fmt::Debug for JwksRefresher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwksRefresher")
            .field("issuer", &self.issuer)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl JwksRefresher {
    pub(crate) fn new(issuer: &str, url: &str) -> Self {
        JwksRefresher {
            issuer: issuer.to_string(),
            url: url.to_string(),
            keys: ArcSwap::from_pointee(Vec::new()),
            last_request: AtomicU64::new(0),
            wake: Notify::new(),
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The last fetched keys.
    pub(crate) fn keys(&self) -> Arc<Vec<IssuerKey>> {
        self.keys.load_full()
    }

    /// Asks for a refresh unless one was asked less than a minute ago. Returns whether
    /// this call woke the fetcher. Never blocks.
    pub fn request_refresh(&self, now: u64) -> bool {
        let stamp = now.saturating_add(1);
        let prev = self.last_request.load(Ordering::Acquire);
        if prev != 0 && stamp < prev.saturating_add(MIN_REFRESH_INTERVAL_SECS) {
            return false;
        }
        if self
            .last_request
            .compare_exchange(prev, stamp, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return false;
        }
        self.wake.notify_one();
        true
    }

    /// Fetches once now and replaces the keys; keeps the old keys on error.
    pub async fn fetch_once(&self, client: &reqwest::Client) -> Result<usize, JwksError> {
        let url = self.url.clone();
        let resp = client
            .get(&self.url)
            .timeout(FETCH_TIMEOUT)
            .send()
            .await
            .map_err(|source| JwksError::Fetch {
                url: url.clone(),
                source,
            })?;
        if !resp.status().is_success() {
            let status = resp.status().as_u16();
            return Err(JwksError::Status { url, status });
        }
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
        {
            return Err(JwksError::TooLarge { url });
        }
        let body = resp.bytes().await.map_err(|source| JwksError::Fetch {
            url: url.clone(),
            source,
        })?;
        if body.len() > MAX_JWKS_BYTES {
            return Err(JwksError::TooLarge { url });
        }
        let text = String::from_utf8_lossy(&body);
        let keys = IssuerKey::from_jwks_json(&text).map_err(|reason| JwksError::Parse {
            url: url.clone(),
            reason,
        })?;
        let count = keys.len();
        self.keys.store(Arc::new(keys));
        Ok(count)
    }

    /// Fetches at start, then again each time a refresh is requested. Runs forever;
    /// spawn it (`tokio::spawn(refresher.clone().run(client))`).
    pub async fn run(self: Arc<Self>, client: reqwest::Client) {
        loop {
            match self.fetch_once(&client).await {
                Ok(n) => tracing::info!(issuer = %self.issuer, keys = n, "JWKS refreshed"),
                Err(e) => {
                    tracing::warn!(issuer = %self.issuer, error = %e, "JWKS refresh failed; keeping previous keys")
                }
            }
            self.wake.notified().await;
        }
    }
}
