//! Retry-storm caps through the real proxy: a storm of pusher-js-style
//! re-authorizations against a counting backend, and caps shared by two
//! cutover processes through the real Redis.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::support::*;

fn auth_route(cap: &str) -> String {
    format!(
        r#"
[[route]]
id = "realtime-auth"
path = "/api/chat/realtime/auth"
methods = ["POST"]
cap = {{ {cap} }}
"#
    )
}

/// A pusher-js channel authorization: the form POST it sends.
async fn auth_post(
    client: &reqwest::Client,
    url: &str,
    socket: &str,
    channel: &str,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("socket_id={socket}&channel_name={channel}"))
        .send()
        .await
}

async fn authorize(
    client: &reqwest::Client,
    url: &str,
    socket: &str,
    channel: &str,
) -> Result<u16, String> {
    auth_post(client, url, socket, channel)
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string())
}

/// 1,000 clients each re-authorize 3 channels as fast as they can for 5 s.
///
/// Bound asserted, and why: `per_client = "20/10s", burst = 10` admits at most
/// 10 + 2/s × 5 s = 20 per client, and `per_channel = "5/10s"` at most 5 per
/// (client, channel) in any 10 s, so 3 × 5 = 15 per client reach the backend
/// at most: 1,000 × 15 = 15,000, plus the calm client's 5. (Collapsing and the
/// 2 s cache save more; that saving is not asserted.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn auth_storm_is_capped_and_a_calm_client_gets_every_answer() {
    const CLIENTS: usize = 1_000;
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cap = r#"per_client = "20/10s", burst = 10, per_channel = "5/10s", collapse = true, cache_ttl_ms = 2000"#;
    // The stand-in backend shares the test's 2 cores with 1,000 clients: give it
    // time, so a slow answer is not mistaken for a cap failure.
    let toml = with_patient_timeouts(routes_toml(&next.url(), &rust.url(), "", &auth_route(cap)));
    let cfg = ConfigDir::new(&toml);
    let cutover = Cutover::start(&cfg);
    let url = cutover.url("/api/chat/realtime/auth");
    let before = cutover.peak_rss_kib();

    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS)
        .build()
        .unwrap();
    let mut storm = Vec::with_capacity(CLIENTS);
    for c in 0..CLIENTS {
        let (client, url, stop, sent, errors) = (
            client.clone(),
            url.clone(),
            stop.clone(),
            sent.clone(),
            errors.clone(),
        );
        storm.push(tokio::spawn(async move {
            let socket = format!("{}.{}", 1000 + c, 4242);
            let mut i = 0usize;
            while !stop.load(Ordering::Relaxed) {
                let channel = format!("presence-tenant.t1.thread.u{}--u9", i % 3);
                match authorize(&client, &url, &socket, &channel).await {
                    // 429: client caps; 503: backend protection (max_inflight).
                    Ok(200 | 429 | 503) => {}
                    other => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 3 {
                            eprintln!("storm client {c}: {other:?}");
                        }
                    }
                }
                sent.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
        }));
    }
    // The calm client: once a second, one channel each time.
    let calm = {
        let (client, url) = (reqwest::Client::new(), url.clone());
        tokio::spawn(async move {
            let mut answers = Vec::new();
            for i in 0..5 {
                let started = Instant::now();
                answers
                    .push(authorize(&client, &url, "9999.1", &format!("private-calm-{i}")).await);
                tokio::time::sleep(Duration::from_secs(1).saturating_sub(started.elapsed())).await;
            }
            answers
        })
    };
    tokio::time::sleep(Duration::from_secs(5)).await;
    stop.store(true, Ordering::Relaxed);
    for t in storm {
        t.await.unwrap();
    }
    let calm = calm.await.unwrap();

    let backend = next.auth_hits.load(Ordering::Relaxed);
    let sent = sent.load(Ordering::Relaxed);
    eprintln!("storm: {sent} requests sent, {backend} reached the backend");
    assert!(
        backend <= 15_000 + 5,
        "backend saw {backend} auth calls (bound 15,005)"
    );
    assert!(
        sent > (CLIENTS * 3) as u64 && sent > backend,
        "the storm was not a storm: {sent} sent, {backend} admitted"
    );
    assert_eq!(
        errors.load(Ordering::Relaxed),
        0,
        "requests failed other than by 429/503"
    );
    assert!(
        calm.iter().all(|r| *r == Ok(200)),
        "calm client refused: {calm:?}"
    );
    // The caps absorbed part of the storm: refusals, shared answers, cache hits.
    let m = cutover.metrics().await;
    let absorbed: f64 = m
        .lines()
        .filter(|l| {
            l.starts_with("cutover_cap_rejections_total{")
                || l.starts_with("cutover_cap_collapsed_total{")
                || l.starts_with("cutover_cap_cache_hits_total{")
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(absorbed > 0.0, "{m}");
    let after = cutover.peak_rss_kib();
    assert!(
        after - before < 200 * 1024,
        "peak RSS grew from {before} KiB to {after} KiB"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_client_gets_429_json_with_retry_after_and_identical_requests_collapse() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cap = r#"per_client = "3/10s", burst = 3, collapse = true, cache_ttl_ms = 5000"#;
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", &auth_route(cap)));
    let cutover = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    let url = cutover.url("/api/chat/realtime/auth");

    // A repeat within the TTL is answered from the cache, byte for byte.
    let first = auth_post(&client, &url, "1.1", "private-a").await.unwrap();
    assert_eq!(first.status(), 200);
    let first_body = first.text().await.unwrap();
    // The leader's answer reaches the cache just after its client has it, so
    // an immediate repeat may still join it as a follower; either way it is
    // the same answer and the backend is not called again.
    let mut how = String::new();
    for _ in 0..50 {
        let again = auth_post(&client, &url, "1.1", "private-a").await.unwrap();
        how = again.headers()["x-cutover-collapsed"]
            .to_str()
            .unwrap()
            .to_string();
        assert!(how == "cache" || how == "follower", "{how}");
        assert_eq!(again.text().await.unwrap(), first_body);
        if how == "cache" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(how, "cache");
    assert_eq!(next.auth_hits.load(Ordering::Relaxed), 1);

    // The same client keeps asking: refused with 429, JSON and Retry-After.
    let mut refused = None;
    for i in 0..10 {
        let r = auth_post(&client, &url, "1.1", &format!("private-b{i}"))
            .await
            .unwrap();
        if r.status() == 429 {
            refused = Some(r);
            break;
        }
    }
    let r = refused.expect("never refused");
    // Cutover refused it itself: said so in the headers and the metric.
    assert_eq!(r.headers()["x-cutover-backend"], "cutover");
    assert_eq!(r.headers()["x-cutover-route"], "realtime-auth");
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry >= 1);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"], "rate_limited");
    assert_eq!(v["reason"], "client_rate");
    // Another client is unaffected.
    assert_eq!(authorize(&client, &url, "2.2", "private-a").await, Ok(200));
    // Refusals are cutover's 4xx; the cache hit and the backend's answers are next's.
    let refusals = "cutover_requests_total{backend=\"cutover\",route=\"realtime-auth\",status_class=\"4xx\"} 1";
    let counted = eventually(Duration::from_secs(5), || async {
        cutover.metrics().await.contains(refusals).then_some(())
    })
    .await;
    assert!(counted.is_some(), "{}", cutover.metrics().await);
    let m = cutover.metrics().await;
    assert!(
        m.contains(
            "cutover_requests_total{backend=\"next\",route=\"realtime-auth\",status_class=\"2xx\"}"
        ),
        "{m}"
    );
    assert!(
        !m.contains(
            "cutover_requests_total{backend=\"next\",route=\"realtime-auth\",status_class=\"4xx\"}"
        ),
        "{m}"
    );
}

fn redis_caps(prefix: &str, store: &str) -> String {
    format!(
        "[caps]\nstore = \"{store}\"\nredis_timeout_ms = 100\nredis_retry_ms = 200\nkey_prefix = \"{prefix}\"\n"
    )
}

/// Two cutover processes share one per-client budget through the real Redis.
/// Bound: `per_client = "2/1s", burst = 4` admits at most 4 + 2/s × 3 s = 10
/// per client over 3 s in total, however the client's requests are spread;
/// two unshared replicas would admit up to 20.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_share_the_per_client_cap_through_redis() {
    const CLIENTS: usize = 100;
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let prefix = format!("cutover-test:{}:{}:", std::process::id(), rand_suffix());
    let toml = routes_toml(
        &next.url(),
        &rust.url(),
        "",
        &auth_route(r#"per_client = "2/1s", burst = 4"#),
    )
    .replacen(
        "[backends.next]",
        &format!(
            "{}\n[backends.next]",
            redis_caps(&prefix, "redis://127.0.0.1:6379/0")
        ),
        1,
    );
    let (cfg_a, cfg_b) = (ConfigDir::new(&toml), ConfigDir::new(&toml));
    let (a, b) = (Cutover::start(&cfg_a), Cutover::start(&cfg_b));
    let urls = [
        a.url("/api/chat/realtime/auth"),
        b.url("/api/chat/realtime/auth"),
    ];
    // Warm the Redis connections so the first checks are shared too.
    let client = reqwest::Client::new();
    for u in &urls {
        let _ = authorize(&client, u, "0.0", "warmup").await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    next.auth_hits.store(0, Ordering::Relaxed);

    let deadline = Instant::now() + Duration::from_secs(3);
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let (client, urls) = (client.clone(), urls.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0usize;
            let mut bad = 0;
            while Instant::now() < deadline {
                match authorize(&client, &urls[i % 2], &format!("{c}.7"), "private-x").await {
                    Ok(200 | 429) => {}
                    _ => bad += 1,
                }
                i += 1;
            }
            bad
        }));
    }
    let mut bad = 0;
    for t in tasks {
        bad += t.await.unwrap();
    }
    assert_eq!(bad, 0);
    let fallbacks = a
        .metric("cutover_cap_store_fallbacks_total{store=\"redis\"}")
        .await
        + b.metric("cutover_cap_store_fallbacks_total{store=\"redis\"}")
            .await;
    let hits = next.auth_hits.load(Ordering::Relaxed);
    eprintln!("two replicas: {hits} admitted, {fallbacks} local fallbacks");
    // Each fallback check may admit once more than the shared budget would.
    assert!(
        hits as f64 <= (CLIENTS * 10) as f64 + fallbacks,
        "{hits} admitted for {CLIENTS} clients"
    );
    assert!(
        fallbacks < (CLIENTS * 2) as f64,
        "Redis was mostly bypassed: {fallbacks}"
    );
}

/// Two replicas pointed at a Redis that is not there: both keep serving on
/// their local buckets (within the Redis timeout), and count the fallbacks.
#[tokio::test(flavor = "multi_thread")]
async fn unreachable_redis_falls_back_to_local_caps_and_both_replicas_keep_serving() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let toml = routes_toml(
        &next.url(),
        &rust.url(),
        "",
        &auth_route(r#"per_client = "2/10s", burst = 2"#),
    )
    .replacen(
        "[backends.next]",
        &format!(
            "{}\n[backends.next]",
            redis_caps("dead:", "redis://127.0.0.1:1/0")
        ),
        1,
    );
    let (cfg_a, cfg_b) = (ConfigDir::new(&toml), ConfigDir::new(&toml));
    let (a, b) = (Cutover::start(&cfg_a), Cutover::start(&cfg_b));
    let client = reqwest::Client::new();
    for replica in [&a, &b] {
        let url = replica.url("/api/chat/realtime/auth");
        let mut statuses = Vec::new();
        for _ in 0..5 {
            statuses.push(authorize(&client, &url, "5.5", "private-y").await.unwrap());
        }
        // Local buckets still limit: 2 admitted, then refused; never a 5xx.
        assert_eq!(&statuses[..2], &[200, 200], "{statuses:?}");
        assert!(statuses[2..].iter().all(|s| *s == 429), "{statuses:?}");
        assert!(
            replica
                .metric("cutover_cap_store_fallbacks_total{store=\"redis\"}")
                .await
                >= 1.0
        );
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64
}

/// A capped route removed by a reload drops its cap state and its gauges;
/// the routes that stay keep theirs.
#[tokio::test(flavor = "multi_thread")]
async fn a_removed_route_drops_its_cap_gauges_on_reload() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let kept = r#"
[[route]]
id = "kept"
path = "/kept"
cap = { max_inflight = 10 }
"#;
    let both = format!("{}{kept}", auth_route(r#"per_client = "20/10s""#));
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", &both));
    let cutover = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    let url = cutover.url("/api/chat/realtime/auth");
    assert_eq!(authorize(&client, &url, "1.2", "private-a").await, Ok(200));
    let gauge = "cutover_breaker_state{route=\"realtime-auth\"}";
    assert!(cutover.metrics().await.contains(gauge));

    std::fs::write(
        cfg.routes_path(),
        routes_toml(&next.url(), &rust.url(), "", kept),
    )
    .unwrap();
    let gone = eventually(Duration::from_secs(10), || async {
        let m = cutover.metrics().await;
        (!m.contains(gauge)).then_some(m)
    })
    .await
    .expect("the removed route's gauges stayed");
    assert!(gone.contains("cutover_breaker_state{route=\"kept\"}"));
    assert!(!gone.contains("cutover_inflight{route=\"realtime-auth\"}"));
    // The path is plain pass-through now: no cap, next answers.
    assert_eq!(authorize(&client, &url, "1.2", "private-a").await, Ok(200));
}

/// The attack: the same storm with `Content-Type: text/plain` (both backends
/// still read the body as a form). It is capped like the form-typed one: one
/// backend call, shared answers, then 429. A body too big to read for the cap
/// is refused with a JSON 413, never passed unchecked.
#[tokio::test(flavor = "multi_thread")]
async fn text_plain_auth_bodies_are_capped_like_forms_and_oversized_ones_get_413() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cap = r#"per_client = "5/10s", burst = 5, collapse = true, cache_ttl_ms = 5000"#;
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", &auth_route(cap)));
    let cutover = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    let url = cutover.url("/api/chat/realtime/auth");

    let mut statuses = Vec::new();
    let mut shared = 0;
    for _ in 0..8 {
        let r = client
            .post(&url)
            .header("content-type", "text/plain")
            .body("socket_id=7.7&channel_name=private-a")
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
        shared += usize::from(r.headers().contains_key("x-cutover-collapsed"));
    }
    assert_eq!(statuses, [200, 200, 200, 200, 200, 429, 429, 429]);
    assert_eq!(
        shared, 4,
        "repeats were not answered from the shared answer"
    );
    assert_eq!(next.auth_hits.load(Ordering::Relaxed), 1);

    let r = client
        .post(&url)
        .header("content-type", "text/plain")
        .body(format!(
            "socket_id=8.8&channel_name=private-b&pad={}",
            "p".repeat(70_000)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"], "payload_too_large");
    assert_eq!(v["route"], "realtime-auth");
    assert_eq!(next.auth_hits.load(Ordering::Relaxed), 1);
}
