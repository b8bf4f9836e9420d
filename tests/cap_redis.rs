//! Caps backed by the real Redis on 127.0.0.1:6379: replicas share buckets,
//! and a dead, silent or vanished Redis falls back to local buckets within
//! the timeout. Every test uses its own key prefix; fake servers bind port 0.

use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cutover::cap::{
    CapPolicy, CapStore, Caps, CapsConfig, ClientKey, ClientRate, Rate, RedisStoreConfig,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const REDIS: &str = "127.0.0.1:6379";

fn prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("cutover:test:{test}:{}:{nanos}:", std::process::id())
}

fn caps(url: String, timeout: Duration, key_prefix: &str) -> Caps {
    Caps::new(CapsConfig {
        store: CapStore::Redis(RedisStoreConfig {
            url,
            timeout,
            retry_after: Duration::from_millis(100),
            key_prefix: key_prefix.to_string(),
        }),
        max_tracked_keys: NonZeroUsize::new(10_000).expect("non-zero"),
    })
}

/// `burst` at once, then one per minute (so no refill during a test).
fn policy(burst: u32) -> CapPolicy {
    let n = NonZeroU32::new(burst).expect("non-zero");
    CapPolicy {
        per_client: Some(ClientRate {
            rate: Rate::new(NonZeroU32::MIN, Duration::from_secs(60)).expect("rate"),
            burst: n,
        }),
        ..CapPolicy::default()
    }
}

fn user(id: &str) -> ClientKey {
    ClientKey::User(id.to_string())
}

/// Admits `n` requests of `key`; returns (admitted, slowest check).
async fn hammer(caps: &Caps, policy: &CapPolicy, key: &ClientKey, n: usize) -> (usize, Duration) {
    let mut admitted = 0;
    let mut slowest = Duration::ZERO;
    for _ in 0..n {
        let started = Instant::now();
        let verdict = caps
            .admit_client("realtime-auth", policy, key, None, started)
            .await;
        slowest = slowest.max(started.elapsed());
        admitted += usize::from(verdict.is_ok());
    }
    (admitted, slowest)
}

/// Two cap engines (replicas) on the real Redis, one key prefix; connected.
async fn two_replicas(test: &str) -> (Caps, Caps, String) {
    let prefix = prefix(test);
    let url = format!("redis://{REDIS}/0");
    let a = caps(url.clone(), Duration::from_millis(500), &prefix);
    let b = caps(url, Duration::from_millis(500), &prefix);
    assert!(
        a.connect_store().await && b.connect_store().await,
        "redis on {REDIS}"
    );
    (a, b, prefix)
}

#[tokio::test]
async fn two_replicas_sharing_redis_hold_one_per_client_cap() {
    let (a, b, prefix) = two_replicas("shared").await;
    let policy = policy(10);
    let mut admitted = 0;
    for _ in 0..20 {
        admitted += hammer(&a, &policy, &user("u1"), 1).await.0;
        admitted += hammer(&b, &policy, &user("u1"), 1).await.0;
    }
    assert_eq!(admitted, 10, "the two replicas together admit one burst");
    assert_eq!(
        a.store_stats().fallbacks_total + b.store_stats().fallbacks_total,
        0
    );
    // Another client has its own bucket.
    assert_eq!(hammer(&b, &policy, &user("u2"), 1).await.0, 1);
    // Buckets expire on their own once full again (here within ~60 s).
    let client = redis::Client::open(format!("redis://{REDIS}/0")).expect("url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let key = format!("{prefix}realtime-auth:u:u1");
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .expect("pttl");
    assert!(ttl > 0 && ttl <= 601_000, "ttl {ttl}");
}

#[tokio::test]
async fn two_replicas_sharing_redis_hold_one_per_channel_window() {
    let (a, b, _) = two_replicas("channel").await;
    // 3 per (client, channel) a minute; no per-client limit.
    let policy = CapPolicy {
        per_channel: Some(Rate::new(NonZeroU32::new(3).unwrap(), Duration::from_secs(60)).unwrap()),
        ..CapPolicy::default()
    };
    let mut admitted = 0;
    let mut waits = Vec::new();
    for _ in 0..5 {
        for replica in [&a, &b] {
            match admit_channel(replica, &policy, "private-a").await {
                Ok(()) => admitted += 1,
                Err(rejection) => waits.push(rejection.retry_after),
            }
        }
    }
    assert_eq!(admitted, 3, "the two replicas together admit one window");
    assert!(
        waits.iter().all(|w| *w > Duration::from_secs(50)),
        "{waits:?}"
    );
    assert_eq!(
        a.store_stats().fallbacks_total + b.store_stats().fallbacks_total,
        0
    );
    // Another channel of the same client has its own window.
    assert!(admit_channel(&b, &policy, "private-b").await.is_ok());
}

async fn admit_channel(
    caps: &Caps,
    policy: &CapPolicy,
    channel: &str,
) -> Result<(), cutover::cap::Rejection> {
    caps.admit_client(
        "realtime-auth",
        policy,
        &user("u1"),
        Some(channel),
        Instant::now(),
    )
    .await
}

#[tokio::test]
async fn closed_port_falls_back_to_local_caps_within_the_timeout() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let caps = caps(
        format!("redis://127.0.0.1:{port}/0"),
        Duration::from_millis(5),
        &prefix("dead"),
    );
    assert!(!caps.connect_store().await);
    let (admitted, slowest) = hammer(&caps, &policy(5), &user("u1"), 50).await;
    assert_eq!(admitted, 5, "local bucket still limits");
    assert!(
        slowest < Duration::from_millis(100),
        "a check took {slowest:?}"
    );
    let stats = caps.store_stats();
    assert!(!stats.redis_up);
    assert_eq!(stats.fallbacks_total, 50);
}

#[tokio::test]
async fn redis_that_never_answers_falls_back_within_the_timeout() {
    let silent = FakeRedis::start().await;
    let caps = caps(silent.url(), Duration::from_millis(5), &prefix("silent"));
    assert!(caps.connect_store().await, "handshake answered");
    let (admitted, slowest) = hammer(&caps, &policy(5), &user("u1"), 50).await;
    assert_eq!(admitted, 5);
    // One check waits the 5 ms timeout, the rest skip Redis during back-off.
    assert!(
        slowest < Duration::from_millis(100),
        "a check took {slowest:?}"
    );
    assert!(caps.store_stats().fallbacks_total >= 1);
}

#[tokio::test]
async fn replicas_keep_serving_on_local_caps_when_redis_goes_away() {
    let relay = Relay::start().await;
    let prefix = prefix("vanish");
    let a = caps(relay.url(), Duration::from_millis(200), &prefix);
    let b = caps(relay.url(), Duration::from_millis(200), &prefix);
    assert!(a.connect_store().await && b.connect_store().await);
    let policy = policy(4);
    assert_eq!(hammer(&a, &policy, &user("u1"), 2).await.0, 2);
    assert_eq!(
        hammer(&b, &policy, &user("u1"), 10).await.0,
        2,
        "shared bucket"
    );

    relay.stop();
    // Each replica now answers from its own (fresh) local bucket, quickly.
    let (admitted_a, slowest_a) = hammer(&a, &policy, &user("u1"), 10).await;
    let (admitted_b, slowest_b) = hammer(&b, &policy, &user("u1"), 10).await;
    assert_eq!((admitted_a, admitted_b), (4, 4), "local caps still limit");
    assert!(slowest_a.max(slowest_b) < Duration::from_millis(300));
    assert!(!a.store_stats().redis_up && a.store_stats().fallbacks_total > 0);

    // Redis is back: after the 100 ms back-off the replicas share buckets again.
    relay.restart().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while !(a.store_stats().redis_up && b.store_stats().redis_up) {
        assert!(Instant::now() < deadline, "redis never came back");
        hammer(&a, &policy, &user("probe"), 1).await;
        hammer(&b, &policy, &user("probe"), 1).await;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let shared =
        hammer(&a, &policy, &user("u3"), 3).await.0 + hammer(&b, &policy, &user("u3"), 3).await.0;
    assert_eq!(shared, 4, "one shared bucket again");
}

/// A TCP relay to the real Redis that can be cut (as if Redis stopped).
struct Relay {
    port: u16,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Relay {
    async fn start() -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        Relay::serve(listener)
    }

    /// Listens again on the same port.
    async fn restart(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("rebind");
        let again = Relay::serve(listener);
        let tasks = std::mem::take(&mut *again.tasks.lock().expect("relay lock"));
        self.tasks.lock().expect("relay lock").extend(tasks);
    }

    fn serve(listener: TcpListener) -> Relay {
        let port = listener.local_addr().expect("addr").port();
        let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let conns = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut redis) = TcpStream::connect(REDIS).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut redis).await;
                    }
                });
                conns.lock().expect("relay lock").push(conn);
            }
        });
        tasks.lock().expect("relay lock").push(accept);
        Relay { port, tasks }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Closes the listener and every relayed connection.
    fn stop(&self) {
        for task in self.tasks.lock().expect("relay lock").drain(..) {
            task.abort();
        }
    }
}

/// A minimal RESP server that answers `+OK` to the connection handshake but
/// never answers a script: a Redis that hangs.
struct FakeRedis {
    port: u16,
    _accept: JoinHandle<()>,
}

impl FakeRedis {
    async fn start() -> FakeRedis {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let accept = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve_silently(socket));
            }
        });
        FakeRedis {
            port,
            _accept: accept,
        }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
}

async fn serve_silently(socket: TcpStream) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    // RESP arrays: "*N", then N pairs of "$len" and the bulk string.
    while let Ok(Some(header)) = lines.next_line().await {
        let Some(count) = header
            .strip_prefix('*')
            .and_then(|n| n.parse::<usize>().ok())
        else {
            continue;
        };
        let mut name = String::new();
        for i in 0..count * 2 {
            match lines.next_line().await {
                Ok(Some(line)) if i == 1 => name = line.to_ascii_uppercase(),
                Ok(Some(_)) => {}
                _ => return,
            }
        }
        if !name.starts_with("EVAL") && !name.starts_with("SCRIPT") {
            let _ = write.write_all(b"+OK\r\n").await;
        }
    }
}
