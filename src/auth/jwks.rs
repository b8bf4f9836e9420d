//! Background JWKS fetching for a chatbot issuer with `jwks_url`.
//!
//! `authenticate` never waits on the network: it reads the last fetched keys
//! (an `ArcSwap` snapshot) and, on an unknown `kid`, calls
//! [`JwksRefresher::request_refresh`], accepted at most once per
//! [`MIN_REFRESH_INTERVAL_SECS`] per issuer (a burst of forged kids costs one
//! fetch). Keys are refetched when due: the response's `Cache-Control: max-age`
//! bounded to 1 min..1 h, 5 min without one. A failed fetch (network, timeout,
//! non-2xx, bad JSON) keeps the last good keys. [`JwksSources`] keeps one
//! refresher per issuer across config reloads, so keys and rate limits survive
//! them; a runner (`reload::jwks` in the server, or [`JwksRefresher::run`])
//! does the fetching. Uses `reqwest`, `arc-swap`, `tokio`, `sha2`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arc_swap::ArcSwap;
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use super::Authenticator;
use super::settings::IssuerKey;

/// An unknown `kid` asks for a refetch at most this often (per issuer).
pub const MIN_REFRESH_INTERVAL_SECS: u64 = 60;
/// Longest wait between fetches, whatever `max-age` says.
pub const MAX_REFRESH_INTERVAL_SECS: u64 = 3600;
/// Wait between fetches when the response has no `max-age`.
pub const DEFAULT_REFRESH_INTERVAL_SECS: u64 = 300;
/// Retry delay after a failed fetch while no key was ever fetched.
const RETRY_WITHOUT_KEYS_SECS: u64 = 10;
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

impl JwksError {
    /// `result` label of the fetch counter: `network` (includes timeouts),
    /// `status` (non-2xx) or `invalid` (too large, not a JWKS document).
    pub fn result_label(&self) -> &'static str {
        match self {
            JwksError::Fetch { .. } => "network",
            JwksError::Status { .. } => "status",
            JwksError::TooLarge { .. } | JwksError::Parse { .. } => "invalid",
        }
    }
}

/// Seconds until the next scheduled fetch for a `Cache-Control` header value:
/// its `max-age` bounded to 1 min..1 h, or 5 min without one.
pub fn refresh_interval(cache_control: Option<&str>) -> u64 {
    let max_age = cache_control.and_then(|v| {
        v.split(',').find_map(|d| {
            let (k, val) = d.trim().split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("max-age")
                .then(|| val.trim().trim_matches('"').parse::<u64>().ok())
                .flatten()
        })
    });
    max_age.map_or(DEFAULT_REFRESH_INTERVAL_SECS, |s| {
        s.clamp(MIN_REFRESH_INTERVAL_SECS, MAX_REFRESH_INTERVAL_SECS)
    })
}

/// The fetched keys of one issuer and when to fetch them again.
pub struct JwksRefresher {
    issuer: String,
    url: String,
    keys: ArcSwap<Vec<IssuerKey>>,
    /// Bumped whenever the fetched document changes (keys the token cache).
    generation: AtomicU64,
    doc_hash: Mutex<Option<[u8; 32]>>,
    /// `now` of the last accepted refresh request + 1 (0 = never).
    last_request: AtomicU64,
    /// A refresh was requested and not yet done.
    wanted: AtomicBool,
    wake: Notify,
    /// Unix time of the last successful fetch (0 = never) and of the next due one.
    last_success: AtomicU64,
    next_due: AtomicU64,
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
            generation: AtomicU64::new(0),
            doc_hash: Mutex::new(None),
            last_request: AtomicU64::new(0),
            wanted: AtomicBool::new(false),
            wake: Notify::new(),
            last_success: AtomicU64::new(0),
            next_due: AtomicU64::new(0),
        }
    }

    /// The issuer's configured name (the metric label).
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The last fetched keys.
    pub(crate) fn keys(&self) -> Arc<Vec<IssuerKey>> {
        self.keys.load_full()
    }

    /// Changes whenever the fetched key set changes.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Seconds since the last successful fetch; `None` before the first.
    pub fn age_secs(&self, now: u64) -> Option<u64> {
        match self.last_success.load(Ordering::Acquire) {
            0 => None,
            t => Some(now.saturating_sub(t)),
        }
    }

    /// A fetch is due: asked for, or scheduled (at once for a new refresher).
    pub fn is_due(&self, now: u64) -> bool {
        self.wanted.load(Ordering::Acquire) || now >= self.next_due.load(Ordering::Acquire)
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
        self.wanted.store(true, Ordering::Release);
        self.wake.notify_one();
        true
    }

    /// Fetches now (unix time `now`) and replaces the keys; keeps the old keys on
    /// any error. Schedules the next fetch either way. Returns the key count.
    pub async fn refresh(&self, client: &reqwest::Client, now: u64) -> Result<usize, JwksError> {
        self.wanted.store(false, Ordering::Release);
        let result = self.fetch(client).await;
        let wait = match &result {
            Ok((_, interval)) => {
                self.last_success.store(now.max(1), Ordering::Release);
                *interval
            }
            Err(_) if self.last_success.load(Ordering::Acquire) == 0 => RETRY_WITHOUT_KEYS_SECS,
            Err(_) => MIN_REFRESH_INTERVAL_SECS,
        };
        self.next_due
            .store(now.saturating_add(wait), Ordering::Release);
        result.map(|(n, _)| n)
    }

    async fn fetch(&self, client: &reqwest::Client) -> Result<(usize, u64), JwksError> {
        let url = self.url.clone();
        let fetch_err = |source| JwksError::Fetch {
            url: url.clone(),
            source,
        };
        let resp = client
            .get(&self.url)
            .timeout(FETCH_TIMEOUT)
            .send()
            .await
            .map_err(fetch_err)?;
        if !resp.status().is_success() {
            let status = resp.status().as_u16();
            return Err(JwksError::Status { url, status });
        }
        let interval = refresh_interval(
            resp.headers()
                .get(reqwest::header::CACHE_CONTROL)
                .and_then(|v| v.to_str().ok()),
        );
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
        {
            return Err(JwksError::TooLarge { url });
        }
        let body = resp.bytes().await.map_err(fetch_err)?;
        if body.len() > MAX_JWKS_BYTES {
            return Err(JwksError::TooLarge { url });
        }
        let text = String::from_utf8_lossy(&body);
        let keys = IssuerKey::from_jwks_json(&text).map_err(|reason| JwksError::Parse {
            url: url.clone(),
            reason,
        })?;
        let count = keys.len();
        let hash: [u8; 32] = Sha256::digest(&body).into();
        let mut last = self.doc_hash.lock().unwrap_or_else(|p| p.into_inner());
        if *last != Some(hash) {
            self.keys.store(Arc::new(keys));
            self.generation.fetch_add(1, Ordering::AcqRel);
            *last = Some(hash);
        }
        Ok((count, interval))
    }

    /// Standalone runner (tests, tools): fetches when due or asked. Runs forever;
    /// spawn it (`tokio::spawn(refresher.clone().run(client))`). The server uses
    /// one runner for all issuers instead (`reload::jwks`).
    pub async fn run(self: Arc<Self>, client: reqwest::Client) {
        loop {
            let now = unix_now();
            if self.is_due(now) {
                match self.refresh(&client, now).await {
                    Ok(n) => tracing::info!(issuer = %self.issuer, keys = n, "JWKS refreshed"),
                    Err(e) => {
                        tracing::warn!(issuer = %self.issuer, error = %e, "JWKS refresh failed; keeping previous keys")
                    }
                }
            }
            let wait = self
                .next_due
                .load(Ordering::Acquire)
                .saturating_sub(unix_now())
                .max(1);
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(wait)) => {}
                _ = self.wake.notified() => {}
            }
        }
    }
}

/// Unix time in seconds.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// One refresher per issuer (name and URL), kept across config reloads.
#[derive(Debug, Default)]
pub struct JwksSources {
    list: Mutex<Vec<Arc<JwksRefresher>>>,
}

impl JwksSources {
    /// Makes `auth` (a freshly built authenticator, before it serves) use the
    /// refreshers already running for its issuers, so fetched keys and rate
    /// limits survive a reload; new issuers are added (due at once), issuers no
    /// longer configured are dropped.
    pub fn adopt(&self, auth: &Authenticator) {
        let mut list = self.list.lock().unwrap_or_else(|p| p.into_inner());
        let mut kept: Vec<Arc<JwksRefresher>> = Vec::new();
        auth.share_jwks(&mut |fresh| {
            let r = list
                .iter()
                .find(|r| r.issuer == fresh.issuer && r.url == fresh.url)
                .cloned()
                .unwrap_or(fresh);
            kept.push(r.clone());
            r
        });
        *list = kept;
    }

    /// Every refresher in use.
    pub fn all(&self) -> Vec<Arc<JwksRefresher>> {
        self.list.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests;
