use std::net::{IpAddr, Ipv4Addr};
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{FakeTimer, breaker_policy, client_rate, nzu, policy, rate};
use crate::cap::{
    BreakerState, CapPolicy, CapReason, Caps, CapsConfig, ClientKey, Outcome, Rejection,
};

fn user(id: &str) -> ClientKey {
    ClientKey::User(id.to_string())
}

fn caps() -> Caps {
    Caps::with_timer(CapsConfig::default(), Arc::new(FakeTimer::default()))
}

fn client_capped() -> CapPolicy {
    CapPolicy {
        per_client: Some(client_rate(20, Duration::from_secs(10), 10)),
        ..policy()
    }
}

async fn admit_n(
    caps: &Caps,
    policy: &CapPolicy,
    key: &ClientKey,
    n: usize,
    now: Instant,
) -> usize {
    let mut ok = 0;
    for _ in 0..n {
        if caps.admit_client("r", policy, key, None, now).await.is_ok() {
            ok += 1;
        }
    }
    ok
}

#[tokio::test]
async fn client_over_its_rate_gets_client_rate_rejection_with_retry_after() {
    let caps = caps();
    let t0 = Instant::now();
    assert_eq!(
        admit_n(&caps, &client_capped(), &user("a"), 10, t0).await,
        10
    );
    let refused = caps
        .admit_client("r", &client_capped(), &user("a"), None, t0)
        .await;
    let Err(Rejection {
        reason,
        retry_after,
    }) = refused
    else {
        panic!("11th request admitted");
    };
    assert_eq!(reason, CapReason::ClientRate);
    assert_eq!(reason.status(), 429);
    // Base 1 s (retry_after) jittered ±20 %, never below the exact 500 ms wait.
    assert!(
        retry_after >= Duration::from_millis(800) && retry_after <= Duration::from_millis(1200)
    );
}

#[tokio::test]
async fn storm_from_one_client_does_not_starve_another() {
    let caps = caps();
    let t0 = Instant::now();
    admit_n(&caps, &client_capped(), &user("storm"), 10_000, t0).await;
    assert!(
        caps.admit_client("r", &client_capped(), &user("calm"), None, t0)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn routes_have_separate_buckets() {
    let caps = caps();
    let t0 = Instant::now();
    admit_n(&caps, &client_capped(), &user("a"), 10, t0).await;
    let other = caps
        .admit_client("other", &client_capped(), &user("a"), None, t0)
        .await;
    assert!(other.is_ok());
}

#[tokio::test]
async fn same_channel_too_often_gets_channel_rate_rejection() {
    let caps = caps();
    let capped = CapPolicy {
        per_channel: Some(rate(5, Duration::from_secs(10))),
        ..policy()
    };
    let t0 = Instant::now();
    let key = user("a");
    for _ in 0..5 {
        assert!(
            caps.admit_client("r", &capped, &key, Some("private-x"), t0)
                .await
                .is_ok()
        );
    }
    let refused = caps
        .admit_client("r", &capped, &key, Some("private-x"), t0)
        .await;
    assert_eq!(refused.map_err(|r| r.reason), Err(CapReason::ChannelRate));
    let other = caps
        .admit_client("r", &capped, &key, Some("private-y"), t0)
        .await;
    assert!(other.is_ok(), "another channel is a separate window");
    let later = t0 + Duration::from_secs(10);
    assert!(
        caps.admit_client("r", &capped, &key, Some("private-x"), later)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn failing_backend_opens_the_breaker_with_503_then_probes_close_it() {
    let caps = caps();
    let guarded = CapPolicy {
        breaker: Some(breaker_policy()),
        ..policy()
    };
    let t0 = Instant::now();
    for _ in 0..4 {
        let permit = caps.admit_backend("r", &guarded, t0).await.expect("closed");
        permit.finish(Outcome::Timeout, t0);
    }
    let refused = caps
        .admit_backend("r", &guarded, t0)
        .await
        .expect_err("open");
    assert_eq!(
        (refused.reason, refused.reason.status()),
        (CapReason::Breaker, 503)
    );
    assert!(
        refused.retry_after >= Duration::from_secs(5),
        "at least the cooldown left"
    );
    assert_eq!(caps.gauges(t0)[0].breaker, BreakerState::Open);

    let t1 = t0 + Duration::from_secs(5);
    for _ in 0..2 {
        let probe = caps.admit_backend("r", &guarded, t1).await.expect("probe");
        probe.finish(Outcome::Success, t1);
    }
    assert_eq!(caps.gauges(t1)[0].breaker, BreakerState::Closed);
}

#[tokio::test]
async fn inflight_gauge_counts_held_permits() {
    let caps = caps();
    let limited = CapPolicy {
        max_inflight: Some(nzu(2)),
        queue_timeout: Duration::ZERO,
        ..policy()
    };
    let t0 = Instant::now();
    let first = caps.admit_backend("r", &limited, t0).await.expect("slot");
    let _second = caps.admit_backend("r", &limited, t0).await.expect("slot");
    let refused = caps
        .admit_backend("r", &limited, t0)
        .await
        .expect_err("full");
    assert_eq!(refused.reason, CapReason::Inflight);
    assert_eq!(caps.gauges(t0)[0].inflight, 2);
    first.finish(Outcome::Success, t0);
    assert_eq!(caps.gauges(t0)[0].inflight, 1);
    assert!(caps.admit_backend("r", &limited, t0).await.is_ok());
}

#[tokio::test]
async fn client_limit_is_checked_before_the_shared_limits() {
    let caps = caps();
    let all = CapPolicy {
        per_client: Some(client_rate(1, Duration::from_secs(10), 1)),
        breaker: Some(breaker_policy()),
        max_inflight: Some(nzu(1)),
        queue_timeout: Duration::ZERO,
        ..policy()
    };
    let t0 = Instant::now();
    let _held = caps
        .admit("r", &all, &user("a"), None, t0)
        .await
        .expect("first");
    // The same client is refused for its own rate, not for the shared slot.
    let again = caps
        .admit("r", &all, &user("a"), None, t0)
        .await
        .expect_err("limited");
    assert_eq!(again.reason, CapReason::ClientRate);
    let other = caps
        .admit("r", &all, &user("b"), None, t0)
        .await
        .expect_err("slot taken");
    assert_eq!(other.reason, CapReason::Inflight);
}

#[tokio::test]
async fn storm_of_unique_ips_keeps_tracked_buckets_bounded() {
    let caps = Caps::with_timer(
        CapsConfig {
            max_tracked_keys: NonZeroUsize::new(1000).expect("non-zero"),
            ..CapsConfig::default()
        },
        Arc::new(FakeTimer::default()),
    );
    let t0 = Instant::now();
    for i in 0..30_000u32 {
        let ip = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i));
        let _ = caps
            .admit_client("r", &client_capped(), &ClientKey::Ip(ip), None, t0)
            .await;
    }
    assert!(caps.tracked_clients("r") <= 1000 + 16);
}

#[tokio::test]
async fn state_survives_a_policy_change_and_follows_the_new_rate() {
    let caps = caps();
    let t0 = Instant::now();
    admit_n(&caps, &client_capped(), &user("a"), 10, t0).await;
    // Reload: same route id, stricter rate. The bucket is still empty.
    let stricter = CapPolicy {
        per_client: Some(client_rate(1, Duration::from_secs(10), 1)),
        ..policy()
    };
    assert!(
        caps.admit_client("r", &stricter, &user("a"), None, t0)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn retain_routes_forgets_removed_routes() {
    let caps = caps();
    let t0 = Instant::now();
    admit_n(&caps, &client_capped(), &user("a"), 1, t0).await;
    assert_eq!(
        caps.retain_routes(|route| route != "r"),
        vec!["r".to_string()]
    );
    assert!(caps.gauges(t0).is_empty());
}

#[tokio::test]
async fn rejections_get_spread_out_retry_after_values() {
    let caps = caps();
    let t0 = Instant::now();
    admit_n(&caps, &client_capped(), &user("a"), 10, t0).await;
    let mut seen = Vec::new();
    for _ in 0..50 {
        let refused = caps
            .admit_client("r", &client_capped(), &user("a"), None, t0)
            .await;
        seen.push(refused.expect_err("limited").retry_after);
    }
    let (min, max) = (seen.iter().min(), seen.iter().max());
    assert!(min >= Some(&Duration::from_millis(800)) && max <= Some(&Duration::from_millis(1200)));
    assert!(
        max.zip(min)
            .is_some_and(|(max, min)| *max - *min > Duration::from_millis(100))
    );
}

fn assert_send<T: Send>(_: &T) {}
fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn caps_and_their_futures_can_be_used_from_pingora_handlers() {
    assert_send_sync::<Caps>();
    assert_send_sync::<crate::cap::Collapser<String>>();
    assert_send::<crate::cap::Permit>(&{
        let caps = caps();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        runtime
            .block_on(caps.admit_backend("r", &policy(), Instant::now()))
            .expect("no limits")
    });
    let caps = caps();
    let policy = client_capped();
    let key = user("a");
    let admit = caps.admit("r", &policy, &key, Some("c"), Instant::now());
    assert_send(&admit);
    let collapser: crate::cap::Collapser<String> = crate::cap::Collapser::new(1);
    let collapse_key = crate::cap::CollapseKey::from_parts(&[b"k"]);
    let run = collapser.run(collapse_key, Duration::ZERO, Instant::now(), || async {
        Ok("x".to_string())
    });
    assert_send(&run);
}
