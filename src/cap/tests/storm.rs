//! A retry storm played against the engine with a fake clock: 1,000 clients
//! re-authorize 3 channels every 20 ms for 5 s through caps and collapsing,
//! while one calm client asks once per second. Shows the bound the proxy
//! storm test asserts, without sockets.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{FakeTimer, breaker_policy, client_rate, nzu, policy, rate};
use crate::cap::{CapPolicy, Caps, CapsConfig, ClientKey, CollapseKey, Collapser, Outcome};

const CLIENTS: usize = 1000;
const CHANNELS: [&str; 3] = ["private-a", "presence-b", "private-c"];
/// 250 steps of 20 ms = 5 s.
const STEPS: u32 = 250;
const STEP: Duration = Duration::from_millis(20);

fn realtime_auth() -> CapPolicy {
    CapPolicy {
        per_client: Some(client_rate(20, Duration::from_secs(10), 10)),
        per_channel: Some(rate(5, Duration::from_secs(10))),
        collapse: true,
        cache_ttl: Duration::from_secs(2),
        max_inflight: Some(nzu(64)),
        queue_timeout: Duration::ZERO,
        ..policy()
    }
}

/// The proxy's auth path (caps → collapse/cache → backend) over a counting
/// backend that always ends with `outcome`.
struct Edge {
    caps: Caps,
    policy: CapPolicy,
    collapser: Collapser<(), ()>,
    outcome: Outcome,
    backend_calls: AtomicUsize,
}

impl Edge {
    fn new(policy: CapPolicy, outcome: Outcome) -> Self {
        Edge {
            caps: Caps::with_timer(CapsConfig::default(), Arc::new(FakeTimer::default())),
            policy,
            collapser: Collapser::new(100_000),
            outcome,
            backend_calls: AtomicUsize::new(0),
        }
    }

    /// One auth request; true if answered successfully.
    async fn authorize(&self, client: &ClientKey, channel: &str, now: Instant) -> bool {
        let policy = &self.policy;
        let admitted = self
            .caps
            .admit_client("rt", policy, client, Some(channel), now);
        if admitted.await.is_err() {
            return false;
        }
        let key = CollapseKey::new("rt", client, "123.456", channel);
        let (answer, _role) = self
            .collapser
            .run(key, policy.cache_ttl, now, || async {
                let permit = self
                    .caps
                    .admit_backend("rt", policy, now)
                    .await
                    .map_err(|_| ())?;
                self.backend_calls.fetch_add(1, Ordering::Relaxed);
                permit.finish(self.outcome, now);
                if self.outcome == Outcome::Success {
                    Ok(())
                } else {
                    Err(())
                }
            })
            .await;
        answer.is_ok()
    }

    fn calls(&self) -> usize {
        self.backend_calls.load(Ordering::Relaxed)
    }
}

fn storm_clients() -> Vec<ClientKey> {
    (0..CLIENTS)
        .map(|i| ClientKey::User(format!("storm-{i}")))
        .collect()
}

#[tokio::test]
async fn storm_reaches_the_backend_at_most_the_configured_cap_and_calm_client_gets_through() {
    let edge = Edge::new(realtime_auth(), Outcome::Success);
    let clients = storm_clients();
    let calm = ClientKey::User("calm".into());
    let t0 = Instant::now();
    let mut calm_answers = 0;
    for step in 0..STEPS {
        let now = t0 + STEP * step;
        for client in &clients {
            for channel in CHANNELS {
                edge.authorize(client, channel, now).await;
            }
        }
        if step % 50 == 0 {
            // Once per second, rotating over its channels: a calm client asking
            // for ONE channel every second would meet per_channel 5/10s on its
            // 6th second, so per_channel must be sized above the calm rate.
            let channel = CHANNELS[(step / 50) as usize % CHANNELS.len()];
            calm_answers += usize::from(edge.authorize(&calm, channel, now).await);
        }
    }
    // Per client: per_channel 5 per 10 s × 3 channels = 15 (< per_client's
    // 10 + 2/s × 5 s = 20); the 2 s cache cuts repeats to one backend call
    // per (client, channel) per 2 s: ⌈5 s / 2 s⌉ = 3 → at most 9 per client.
    // (Here the 5 per-channel slots are spent in the first 100 ms, 4 of them
    // on cache hits, so the backend sees exactly one call per pair.)
    let storm_calls = edge.calls() - 5;
    assert!(
        storm_calls <= CLIENTS * CHANNELS.len() * 3,
        "backend saw {storm_calls}"
    );
    assert_eq!(storm_calls, CLIENTS * CHANNELS.len());
    assert_eq!(calm_answers, 5, "the calm client got every answer");
    assert!(edge.caps.tracked_clients("rt") <= CLIENTS + 1);
}

#[tokio::test]
async fn storm_against_a_failing_backend_is_held_off_by_the_breaker() {
    // breaker: ratio 0.5 over ≥ 4 outcomes in 10 s, 5 s cooldown, 2 probes.
    let guarded = CapPolicy {
        breaker: Some(breaker_policy()),
        ..realtime_auth()
    };
    let edge = Edge::new(guarded, Outcome::Error);
    let clients = storm_clients();
    let t0 = Instant::now();
    for step in 0..STEPS {
        let now = t0 + STEP * step;
        for client in &clients {
            for channel in CHANNELS {
                edge.authorize(client, channel, now).await;
            }
        }
    }
    // 4 failures open the breaker at t = 0; it would half-open at 5 s, after
    // the storm (t ≤ 4.98 s). Without the breaker: 15 per client = 15,000.
    assert_eq!(edge.calls(), 4);
}
