//! Many replicas act as one: three cutover processes sharing a Redis (a
//! private `redis-server` on a free port, so killing it disturbs no other
//! test). A guard trip on one replica holds the route on next on all of them
//! within a second, survives a replica restart, and ends when the flag file
//! changes; with Redis down, each replica keeps its trips and judges alone.
//! Each replica's flag fingerprint tells replicas on other flags apart, and
//! the fallback budget is one budget across replicas.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

const GUARD: &str = "guard = { max_error_ratio_delta = 0.2, min_requests = 5, window = \"60s\" }";
const FLAG: &str = "canary = { percent = 50, sticky_by = \"header:x-client\" }\n";

struct Redis {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Redis {
    fn start(port: u16) -> Redis {
        let dir = tempfile::tempdir().unwrap();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "no", "--dir"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (apt-get install redis-server)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis { child, _dir: dir }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn replica(next: &Upstream, rust: &Upstream, redis_port: u16, name: &str) -> ConfigDir {
    let extra =
        format!("instance = \"{name}\"\n\n[caps]\nstore = \"redis://127.0.0.1:{redis_port}/0\"");
    let routes = format!("[[route]]\nid = \"judged\"\npath = \"/differ/fail\"\n{GUARD}\n");
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), &extra, &routes));
    cfg.write_flag("judged", FLAG);
    cfg
}

/// Which side answers each of 20 sticky clients.
async fn sides(c: &Cutover) -> Vec<String> {
    sides_of(c, 20).await
}

/// Which side answers each of the first `n` sticky clients (fewer than the
/// guard's `min_requests` on rust, so looking does not trip it).
async fn sides_of(c: &Cutover, n: usize) -> Vec<String> {
    let client = reqwest::Client::new();
    let mut out = Vec::new();
    for i in 0..n {
        let r = client
            .get(c.url("/differ/fail"))
            .header("x-client", format!("client-{i}"))
            .send()
            .await
            .unwrap();
        out.push(
            r.headers()["x-cutover-backend"]
                .to_str()
                .unwrap()
                .to_string(),
        );
    }
    out
}

async fn tripped(c: &Cutover) -> bool {
    c.metric("cutover_guard_tripped{route=\"judged\"}").await == 1.0
}

#[tokio::test(flavor = "multi_thread")]
async fn a_guard_trip_on_one_replica_holds_the_route_on_next_everywhere() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let redis_port = free_port();
    let redis = Redis::start(redis_port);
    let cfgs: Vec<ConfigDir> = ["a", "b", "c"]
        .iter()
        .map(|n| replica(&next, &rust, redis_port, n))
        .collect();
    let mut replicas: Vec<Cutover> = cfgs.iter().map(Cutover::start).collect();
    let same = fingerprints(&replicas).await;
    assert!(
        same[0] != 0.0 && same.iter().all(|f| *f == same[0]),
        "replicas on the same flags report different fingerprints: {same:?}"
    );
    for r in &replicas {
        let before = sides_of(r, 6).await;
        assert!(
            before.contains(&"rust".to_string()),
            "canary not on rust: {before:?}"
        );
    }

    // Trip on replica a only: its rust side fails every request.
    let mut trip_seen = None;
    for _ in 0..10 {
        sides(&replicas[0]).await;
        if tripped(&replicas[0]).await {
            trip_seen = Some(Instant::now());
            break;
        }
    }
    let trip_seen = trip_seen.expect("replica a never tripped");
    for (i, r) in replicas.iter().enumerate().skip(1) {
        eventually(Duration::from_secs(2), || async {
            tripped(r).await.then_some(())
        })
        .await
        .unwrap_or_else(|| panic!("replica {i} never saw the trip"));
        assert!(
            sides(r).await.iter().all(|s| s == "next"),
            "replica {i} still sends to rust"
        );
        assert!(
            r.log().contains("guard tripped on another replica"),
            "{}",
            r.log()
        );
    }
    let spread = trip_seen.elapsed();
    assert!(
        spread < Duration::from_secs(3),
        "took {spread:?} to reach every replica"
    );

    // A restarted replica picks the trip up before it sends anything to rust.
    drop(replicas.remove(1));
    let b = Cutover::start(&cfgs[1]);
    eventually(Duration::from_secs(2), || async {
        tripped(&b).await.then_some(())
    })
    .await
    .expect("a restarted replica forgot the trip");
    assert!(sides(&b).await.iter().all(|s| s == "next"));
    replicas.insert(1, b);

    // Redis down: every replica keeps its trip and keeps serving.
    drop(redis);
    for r in &replicas {
        eventually(Duration::from_secs(3), || async {
            (r.metric("cutover_guard_sync_errors_total").await > 0.0).then_some(())
        })
        .await
        .expect("redis errors not counted");
        assert!(tripped(r).await);
        assert!(
            sides(r).await.iter().all(|s| s == "next"),
            "a replica failed open to rust"
        );
        assert!(r.log().contains("redis unreachable"), "{}", r.log());
    }

    // Redis back (empty), then a flag edit re-arms the route on every replica.
    let _redis = Redis::start(redis_port);
    for cfg in &cfgs {
        cfg.write_flag("judged", &format!("# re-armed\n{FLAG}"));
    }
    for (i, r) in replicas.iter().enumerate() {
        eventually(Duration::from_secs(5), || async {
            sides_of(r, 6)
                .await
                .contains(&"rust".to_string())
                .then_some(())
        })
        .await
        .unwrap_or_else(|| panic!("replica {i} not re-armed by the flag edit"));
    }

    // One replica on a different flag file: the fingerprints tell it apart.
    cfgs[2].write_flag("judged", "backend = \"next\"\n");
    eventually(Duration::from_secs(5), || async {
        let f = fingerprints(&replicas).await;
        (f[0] == f[1] && f[2] != f[0]).then_some(())
    })
    .await
    .expect("a replica on other flags is not visible in cutover_flags_fingerprint");
}

async fn fingerprints(replicas: &[Cutover]) -> Vec<f64> {
    let mut out = Vec::new();
    for r in replicas {
        out.push(r.metric("cutover_flags_fingerprint").await);
    }
    out
}

/// The fallback budget is one budget across replicas: it is a share of the
/// route's requests on every replica. Replica a (route on next) serves 20
/// requests; replica b (route on rust, which refuses connections) may then
/// fall back for all of its 10 (50 % of 30), where alone it could for 5.
/// With Redis gone, b is back to its own budget, already spent.
#[tokio::test(flavor = "multi_thread")]
async fn the_fallback_budget_is_shared_by_every_replica() {
    let next = Upstream::start("next").await;
    let redis_port = free_port();
    let redis = Redis::start(redis_port);
    let budget = "fallback = \"next\"\nfallback_budget = { ratio = 0.5, window = \"60s\" }";
    let cfgs: Vec<ConfigDir> = [("a", "next"), ("b", "rust")]
        .iter()
        .map(|(name, side)| {
            let extra = format!(
                "instance = \"{name}\"\n\n[caps]\nstore = \"redis://127.0.0.1:{redis_port}/0\""
            );
            let routes = format!("[[route]]\nid = \"fb\"\npath = \"/differ/same\"\n{budget}\n");
            let cfg = ConfigDir::new(&routes_toml(
                &next.url(),
                "http://127.0.0.1:1",
                &extra,
                &routes,
            ));
            cfg.write_flag("fb", &format!("backend = \"{side}\"\n"));
            cfg
        })
        .collect();
    let a = Cutover::start(&cfgs[0]);
    let b = Cutover::start(&cfgs[1]);
    let client = reqwest::Client::new();
    let fell_back = |c: &Cutover| {
        let (client, url) = (client.clone(), c.url("/differ/same"));
        async move {
            let r = client.get(url).send().await.unwrap();
            r.headers().contains_key("x-cutover-fallback")
        }
    };
    for _ in 0..20 {
        assert!(
            !fell_back(&a).await,
            "next-flagged requests never fall back"
        );
    }
    // b sees a's requests within a poll or two.
    tokio::time::sleep(POLL_WAIT).await;
    let mut taken = 0;
    for _ in 0..10 {
        taken += u32::from(fell_back(&b).await);
    }
    assert_eq!(
        taken, 10,
        "b fell back for {taken} of 10 on a shared budget of 15"
    );
    // Redis gone: b's own budget (10 requests, 10 fallbacks) is spent.
    drop(redis);
    let alone = eventually(Duration::from_secs(5), || async {
        (!fell_back(&b).await).then_some(())
    })
    .await;
    assert!(
        alone.is_some(),
        "replica b kept spending a budget it cannot see"
    );
}

/// Two polls of the shared store (`proxy::guard::shared::POLL`, 250 ms).
const POLL_WAIT: Duration = Duration::from_millis(600);
