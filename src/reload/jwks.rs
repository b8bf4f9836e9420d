//! The server's JWKS runner: one background service fetching every issuer's
//! `jwks_url` when due (at start, on the `max-age` schedule, on an unknown
//! `kid`), exporting `cutover_jwks_age_seconds{issuer}` and
//! `cutover_jwks_fetches_total{issuer,result}`. The refreshers come from
//! [`JwksSources`], which the reloader updates before each swap; the fetch
//! rules themselves live in `auth::jwks`. Uses Pingora's background service.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;

use crate::auth::jwks::{JwksSources, unix_now};
use crate::metrics::Metrics;

/// How often due fetches and refresh requests are looked at.
const TICK: Duration = Duration::from_millis(100);

pub struct JwksRunner {
    pub sources: Arc<JwksSources>,
    pub metrics: Arc<Metrics>,
    pub client: reqwest::Client,
}

impl JwksRunner {
    /// Fetch whatever is due, then export ages. `exported`: issuers with an age series.
    async fn tick(&self, started: u64, exported: &mut BTreeSet<String>) {
        let all = self.sources.all();
        let now = unix_now();
        let due: Vec<_> = all.iter().filter(|r| r.is_due(now)).collect();
        let results =
            futures::future::join_all(due.iter().map(|r| r.refresh(&self.client, now))).await;
        for (r, result) in due.iter().zip(results) {
            let label = match &result {
                Ok(keys) => {
                    tracing::info!(issuer = %r.issuer(), keys, "JWKS fetched");
                    "ok"
                }
                Err(e) => {
                    tracing::warn!(issuer = %r.issuer(), error = %e, "JWKS fetch failed; keeping the last good keys");
                    e.result_label()
                }
            };
            self.metrics
                .jwks_fetches
                .with_label_values(&[r.issuer(), label])
                .inc();
        }
        let now = unix_now();
        let mut current = BTreeSet::new();
        for r in &all {
            let age = r.age_secs(now).unwrap_or(now.saturating_sub(started));
            self.metrics
                .jwks_age
                .with_label_values(&[r.issuer()])
                .set(i64::try_from(age).unwrap_or(i64::MAX));
            current.insert(r.issuer().to_string());
        }
        for gone in exported.difference(&current) {
            let _ = self.metrics.jwks_age.remove_label_values(&[gone]);
        }
        *exported = current;
    }
}

#[async_trait]
impl BackgroundService for JwksRunner {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let started = unix_now();
        let mut exported = BTreeSet::new();
        loop {
            self.tick(started, &mut exported).await;
            tokio::select! {
                _ = tokio::time::sleep(TICK) => {}
                _ = shutdown.changed() => return,
            }
        }
    }
}
