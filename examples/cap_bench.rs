//! Cost of the cap check on the hot path, memory and Redis stores.
//!
//! Run: `cargo run --release --example cap_bench` (Redis on 127.0.0.1:6379;
//! set `CAP_BENCH_REDIS` to another URL). Prints ns per check.

use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cutover::cap::{
    BreakerPolicy, CapPolicy, CapStore, Caps, CapsConfig, ClientKey, ClientRate, CollapseKey,
    Collapser, Outcome, Rate, RedisStoreConfig,
};

const CLIENTS: usize = 10_000;

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

fn client_policy() -> CapPolicy {
    CapPolicy {
        per_client: Rate::new(nz(20), Duration::from_secs(10)).map(|rate| ClientRate {
            rate,
            burst: nz(10),
        }),
        per_channel: Rate::new(nz(5), Duration::from_secs(10)),
        ..CapPolicy::default()
    }
}

fn backend_policy() -> CapPolicy {
    CapPolicy {
        max_inflight: NonZeroUsize::new(64),
        breaker: Some(BreakerPolicy {
            error_ratio: 0.5,
            min_requests: nz(20),
            window: Duration::from_secs(10),
            cooldown: Duration::from_secs(5),
            probes: nz(1),
        }),
        ..CapPolicy::default()
    }
}

fn keys() -> Vec<ClientKey> {
    (0..CLIENTS)
        .map(|i| ClientKey::User(format!("user-{i}")))
        .collect()
}

/// Wall clock plus this thread's CPU time (Linux `schedstat`), so a busy
/// machine inflates the wall figure but not the CPU one.
#[derive(Clone, Copy)]
struct Stopwatch {
    wall: Instant,
    cpu_ns: Option<u64>,
}

fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

impl Stopwatch {
    fn start() -> Self {
        Stopwatch {
            wall: Instant::now(),
            cpu_ns: thread_cpu_ns(),
        }
    }
}

fn report(name: &str, checks: usize, started: Stopwatch) {
    let wall = started.wall.elapsed().as_nanos() as f64 / checks as f64;
    let cpu = match (started.cpu_ns, thread_cpu_ns()) {
        (Some(a), Some(b)) => format!("{:>8.0}", (b - a) as f64 / checks as f64),
        _ => "       -".to_string(),
    };
    println!("{name:<48} {wall:>9.0} ns/check wall {cpu} ns/check cpu ({checks} checks)");
}

async fn client_checks(caps: &Caps, policy: &CapPolicy, channel: Option<&str>, n: usize) {
    let keys = keys();
    let started = Stopwatch::start();
    for i in 0..n {
        let now = Instant::now();
        let _ = caps
            .admit_client("bench", policy, &keys[i % CLIENTS], channel, now)
            .await;
    }
    let label = match channel {
        Some(_) => "admit_client per_client+per_channel",
        None => "admit_client per_client",
    };
    report(label, n, started);
}

async fn memory() {
    let caps = Caps::new(CapsConfig::default());
    let mut per_client_only = client_policy();
    per_client_only.per_channel = None;
    client_checks(&caps, &per_client_only, None, 1_000_000).await;
    client_checks(&caps, &client_policy(), Some("private-chat-1"), 1_000_000).await;

    let policy = backend_policy();
    let n = 1_000_000;
    let started = Stopwatch::start();
    for _ in 0..n {
        if let Ok(permit) = caps.admit_backend("bench", &policy, Instant::now()).await {
            permit.finish(Outcome::Success, Instant::now());
        }
    }
    report("admit_backend breaker+inflight + finish", n, started);

    let collapser: Collapser<Arc<str>> = Collapser::new(100_000);
    let key = CollapseKey::new("bench", &ClientKey::User("u".into()), "1.2", "private-c");
    let ttl = Duration::from_secs(60);
    let _ = collapser
        .run(key, ttl, Instant::now(), || async { Ok("sig".into()) })
        .await;
    let started = Stopwatch::start();
    for _ in 0..n {
        let _ = collapser
            .run(key, ttl, Instant::now(), || async { Ok("sig".into()) })
            .await;
    }
    report("collapser cache hit (key prebuilt)", n, started);
}

async fn redis(url: String) {
    let caps = Arc::new(Caps::new(CapsConfig {
        store: CapStore::Redis(RedisStoreConfig {
            url,
            timeout: Duration::from_millis(timeout_ms()),
            retry_after: Duration::from_secs(1),
            key_prefix: format!("cutover:bench:{}:", std::process::id()),
        }),
        max_tracked_keys: NonZeroUsize::new(100_000).unwrap_or(NonZeroUsize::MIN),
    }));
    if !caps.connect_store().await {
        println!("redis: not reachable, skipped");
        return;
    }
    let mut policy = client_policy();
    policy.per_channel = None;
    client_checks(&caps, &policy, None, 20_000).await;
    println!(
        "redis fallbacks so far: {}",
        caps.store_stats().fallbacks_total
    );

    let tasks = 64;
    let per_task = 2_000;
    let started = Stopwatch::start();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (caps, policy) = (caps.clone(), policy.clone());
        handles.push(tokio::spawn(async move {
            let keys = keys();
            for i in 0..per_task {
                let key = &keys[(t * per_task + i) % CLIENTS];
                let _ = caps
                    .admit_client("bench", &policy, key, None, Instant::now())
                    .await;
            }
        }));
    }
    for handle in handles {
        let _ = handle.await;
    }
    // Work runs on the worker threads: this thread's CPU time says nothing.
    let started = Stopwatch {
        cpu_ns: None,
        ..started
    };
    report(
        "admit_client redis, 64 concurrent (amortized)",
        tasks * per_task,
        started,
    );
    let fallbacks = caps.store_stats().fallbacks_total;
    println!("redis fallbacks during the run: {fallbacks}");
}

/// `CAP_BENCH_TIMEOUT_MS` (default 5, as in production).
fn timeout_ms() -> u64 {
    std::env::var("CAP_BENCH_TIMEOUT_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .unwrap_or(5)
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let url =
        std::env::var("CAP_BENCH_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into());
    println!("== memory store");
    memory().await;
    println!("== redis store ({})", cutover::cap::redact_url(&url));
    redis(url).await;
}
