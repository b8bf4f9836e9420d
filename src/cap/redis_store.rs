//! Shared per-client GCRA buckets and per-(client, channel) windows in Redis,
//! for many replicas.
//!
//! One atomic Lua script per check (the same maths as `gcra` and `channel`,
//! in microseconds of Redis server time, so replicas need no synchronised
//! clocks); keys expire when their bucket is full again or their window is
//! empty. Never blocks a request longer than the configured timeout and
//! never fails closed: when Redis is unreachable, slow or erroring, a check
//! returns `None` and the caller uses its local state; Redis is retried after a back-off by a background connect.
//! Logs once per transition; counts every check answered locally.
//! May use: `redis`, `tokio`, `tracing`, `policy`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client, Script};

use super::policy::{ClientRate, Rate, RedisStoreConfig, redact_url};

/// KEYS[1] bucket; ARGV[1] emission interval µs, ARGV[2] tolerance µs
/// (burst × interval). Returns {1, 0} admitted or {0, wait µs}.
const GCRA_LUA: &str = r#"
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local ahead = new_tat - now
if ahead > tolerance then
  return {0, ahead - tolerance}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil(ahead / 1000) + 1)
return {1, 0}
"#;

/// KEYS[1] window (a sorted set of admission times); ARGV[1] window µs,
/// ARGV[2] max admissions in it, ARGV[3] a unique suffix for this call.
/// Returns {1, 0} admitted or {0, wait µs} until the oldest admission leaves.
const WINDOW_LUA: &str = r#"
local per = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - per))
if redis.call('ZCARD', KEYS[1]) < max then
  redis.call('ZADD', KEYS[1], string.format('%.0f', now), string.format('%.0f', now) .. ':' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[1], math.ceil(per / 1000) + 1)
  return {1, 0}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + per - now}
"#;

/// Back-off and connect bounds for the background connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

enum Conn {
    /// Never connected, or down and due for a retry.
    Idle,
    Connecting,
    Ready(MultiplexedConnection),
    Down {
        retry_at: Instant,
    },
}

struct Shared {
    state: Mutex<Conn>,
    fallbacks: AtomicU64,
    /// Last logged state (None = not yet known), for the log-once rule.
    was_up: Mutex<Option<bool>>,
}

/// The Redis bucket store with its fallback state.
pub struct RedisStore {
    client: Option<Client>,
    config: RedisStoreConfig,
    script: Script,
    window: Script,
    /// Makes each window entry unique across calls (and, by its random
    /// start, across replicas).
    calls: AtomicU64,
    shared: Arc<Shared>,
}

impl RedisStore {
    /// Does no I/O; an unparsable URL leaves the store permanently down
    /// (config validation rejects such URLs first).
    pub fn new(config: RedisStoreConfig) -> Self {
        let client = match Client::open(config.url.as_str()) {
            Ok(client) => Some(client),
            Err(error) => {
                tracing::warn!(url = %redact_url(&config.url), %error,
                    "cap store: bad redis url, using local buckets only");
                None
            }
        };
        RedisStore {
            client,
            config,
            script: Script::new(GCRA_LUA),
            window: Script::new(WINDOW_LUA),
            calls: AtomicU64::new(rand::random()),
            shared: Arc::new(Shared {
                state: Mutex::new(Conn::Idle),
                fallbacks: AtomicU64::new(0),
                was_up: Mutex::new(None),
            }),
        }
    }

    /// Checks one request against the shared bucket `key`. `None`: Redis not
    /// usable right now (counted), use the local bucket.
    pub async fn check(
        &self,
        key: &str,
        limit: &ClientRate,
        now: Instant,
    ) -> Option<Result<(), Duration>> {
        let interval = limit.rate.emission_interval().as_micros().max(1) as u64;
        let tolerance = interval.saturating_mul(u64::from(limit.burst.get()));
        let mut call = self.script.prepare_invoke();
        call.key(format!("{}{}", self.config.key_prefix, key))
            .arg(interval)
            .arg(tolerance);
        self.run(call, now).await
    }

    /// Checks one request against the shared sliding window `key` (at most
    /// `limit.count` admissions in any `limit.per`). `None` as for `check`.
    pub async fn check_window(
        &self,
        key: &str,
        limit: &Rate,
        now: Instant,
    ) -> Option<Result<(), Duration>> {
        let unique = self.calls.fetch_add(1, Ordering::Relaxed);
        let mut call = self.window.prepare_invoke();
        call.key(format!("{}{}", self.config.key_prefix, key))
            .arg(limit.per.as_micros().max(1) as u64)
            .arg(limit.count.get())
            .arg(unique);
        self.run(call, now).await
    }

    /// Runs one prepared script call within the timeout: `{1, _}` admits,
    /// `{0, wait µs}` refuses; `None` when Redis is not usable (counted).
    async fn run(
        &self,
        call: redis::ScriptInvocation<'_>,
        now: Instant,
    ) -> Option<Result<(), Duration>> {
        let Some(mut conn) = self.connection(now) else {
            self.shared.fallbacks.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        let answer = tokio::time::timeout(
            self.config.timeout,
            call.invoke_async::<(i64, i64)>(&mut conn),
        )
        .await;
        match answer {
            Ok(Ok((1, _))) => Some(Ok(())),
            Ok(Ok((_, wait_us))) => Some(Err(Duration::from_micros(wait_us.max(1) as u64))),
            Ok(Err(error)) => self.fail(now, &error.to_string()),
            Err(_elapsed) => self.fail(now, "timed out"),
        }
    }

    /// Connects now (waiting at most the connect timeout); for startup and
    /// tests. Returns whether Redis is usable.
    pub async fn connect(&self) -> bool {
        let Some(client) = self.client.clone() else {
            return false;
        };
        connect_into(client, self.shared.clone(), self.config.retry_after).await
    }

    /// Checks answered by local buckets because Redis was not usable.
    pub fn fallbacks(&self) -> u64 {
        self.shared.fallbacks.load(Ordering::Relaxed)
    }

    /// True while a connection is established and not known to be failing.
    pub fn is_up(&self) -> bool {
        matches!(*lock(&self.shared.state), Conn::Ready(_))
    }

    /// The connection to use, or `None`; starts a background connect when due.
    fn connection(&self, now: Instant) -> Option<MultiplexedConnection> {
        let mut state = lock(&self.shared.state);
        match &*state {
            Conn::Ready(conn) => return Some(conn.clone()),
            Conn::Connecting => return None,
            Conn::Down { retry_at } if now < *retry_at => return None,
            Conn::Down { .. } | Conn::Idle => {}
        }
        let client = self.client.clone()?;
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return None;
        };
        *state = Conn::Connecting;
        runtime.spawn(connect_into(
            client,
            self.shared.clone(),
            self.config.retry_after,
        ));
        None
    }

    fn fail(&self, now: Instant, error: &str) -> Option<Result<(), Duration>> {
        self.shared.fallbacks.fetch_add(1, Ordering::Relaxed);
        let mut state = lock(&self.shared.state);
        if matches!(*state, Conn::Ready(_)) {
            *state = Conn::Down {
                retry_at: now + self.config.retry_after,
            };
            drop(state);
            went_down(&self.shared, error);
        }
        None
    }
}

async fn connect_into(client: Client, shared: Arc<Shared>, retry_after: Duration) -> bool {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(CONNECT_TIMEOUT));
    let attempt = tokio::time::timeout(
        CONNECT_TIMEOUT,
        client.get_multiplexed_async_connection_with_config(&config),
    )
    .await;
    match attempt {
        Ok(Ok(conn)) => {
            *lock(&shared.state) = Conn::Ready(conn);
            let mut was_up = lock(&shared.was_up);
            if *was_up != Some(true) {
                *was_up = Some(true);
                tracing::info!("cap store: redis connected, buckets are shared");
            }
            true
        }
        failure => {
            *lock(&shared.state) = Conn::Down {
                retry_at: Instant::now() + retry_after,
            };
            let error = match failure {
                Ok(Err(error)) => error.to_string(),
                _ => "connect timed out".to_string(),
            };
            went_down(&shared, &error);
            false
        }
    }
}

/// Logs the up → down transition once (and the first failure after start).
fn went_down(shared: &Shared, error: &str) {
    let mut was_up = lock(&shared.was_up);
    if *was_up != Some(false) {
        *was_up = Some(false);
        tracing::warn!(%error, "cap store: redis unavailable, using local buckets");
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // The guarded values are replaced whole; a poisoned lock is still consistent.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
