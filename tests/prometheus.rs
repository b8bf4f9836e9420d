//! A real Prometheus (`/usr/bin/prometheus`, Debian package `prometheus`)
//! scrapes a running cutover under traffic that touches every metric family
//! this branch wires (shadow, fallback, guard trip, stage, auth rejects,
//! reloads), loads `dashboards/*.rules.yml`, and answers every PromQL
//! expression of the dashboards and rules through its HTTP API: each must
//! parse, and each must return data — except those in [`NOT_WIRED_YET`].
//!
//! Port: Prometheus is a separate process, so it cannot take a pre-bound
//! socket; the test binds 127.0.0.1:0, reads the port, frees it and passes
//! it with `--web.listen-address` (a small race, acceptable for a child
//! process; the ready check fails loudly if another process took it).

#[path = "common/promql.rs"]
mod promql;
#[path = "e2e/support.rs"]
#[allow(dead_code)]
mod support;

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use support::*;

/// Metric families the retry-storm caps (issue 4) export once the lead wires
/// them into the proxy. Until then they have no samples, and expressions that
/// read only these are checked for parsing, not for data.
const NOT_WIRED_YET: [&str; 0] = [];

/// Alerts this test provokes, so their expressions must return data. The
/// other alerts are quiet on healthy traffic by design: for them every
/// series they read must have data.
const PROVOKED_ALERTS: [&str; 2] = ["CutoverGuardTripped", "CutoverConfigReloadFailing"];

struct Prometheus {
    child: Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

async fn start_prometheus(target: std::net::SocketAddr) -> Prometheus {
    let dir = tempfile::tempdir().unwrap();
    let rules: Vec<String> = promql::rule_files()
        .iter()
        .map(|p| format!("\"{}\"", p.display()))
        .collect();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [{}]\n\
         scrape_configs:\n  - job_name: cutover\n    static_configs:\n      - targets: [\"{target}\"]\n",
        rules.join(", ")
    );
    let config_path = dir.path().join("prometheus.yml");
    std::fs::write(&config_path, config).unwrap();
    let port = free_port();
    let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config_path.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("prometheus not runnable ({e}); apt-get install prometheus"));
    let p = Prometheus {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    let ready = eventually(Duration::from_secs(30), || async {
        let r = reqwest::get(format!("{}/-/ready", p.url)).await.ok()?;
        r.status().is_success().then_some(())
    })
    .await;
    assert!(ready.is_some(), "prometheus did not become ready");
    p
}

/// Runs one instant query: Err(message) when it does not parse, Ok(number of series).
async fn query(p: &Prometheus, expr: &str) -> Result<usize, String> {
    let r = reqwest::Client::new()
        .get(format!("{}/api/v1/query", p.url))
        .query(&[("query", expr)])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let v: serde_json::Value = r.json().await.map_err(|e| e.to_string())?;
    if v["status"] != "success" {
        return Err(v["error"].to_string());
    }
    Ok(v["data"]["result"].as_array().map_or(0, Vec::len))
}

fn routes(next: &str, rust: &str) -> String {
    let routes = r#"
[auth]
identity_key_env = "CUTOVER_IDENTITY_KEY"

[auth.session]
flavor = "nextauth-v4"
secret_envs = ["NEXTAUTH_SECRET"]

[[route]]
id = "private"
path = "/private"
auth = "required"
schemes = ["session"]

[caps]
# A dead Redis: the caps fall back to local buckets (and count it).
store = "redis://127.0.0.1:1/0"
redis_timeout_ms = 20

[[route]]
id = "capped"
path = "/api/chat/realtime/auth"
methods = ["POST"]
cap = { per_client = "2/10s", burst = 2, collapse = true, cache_ttl_ms = 5000, max_inflight = 4 }

[[route]]
id = "shadowed"
path = "/differ/random"
# Open-stream series exist from the first snapshot on.
streams = "migrate"

[[route]]
id = "judged"
path = "/differ/fail"
guard = { max_error_ratio_delta = 0.2, min_requests = 5, window = "60s" }

[[route]]
id = "fallback"
path = "/differ/slow"
fallback = "next"
fallback_budget = { ratio = 0.5, window = "60s" }
"#;
    // Rust answers /differ/slow after 400 ms: a 200 ms read timeout makes it fail.
    routes_toml(next, rust, "", routes).replacen(
        &format!("url = \"{rust}\"\nconnect_timeout_ms = 500\nread_timeout_ms = 1000"),
        &format!("url = \"{rust}\"\nconnect_timeout_ms = 500\nread_timeout_ms = 200"),
        1,
    )
}

async fn drive_traffic(c: &Cutover, cfg: &ConfigDir) {
    let client = reqwest::Client::new();
    for i in 0..30 {
        for path in ["/private", "/differ/random", "/differ/slow"] {
            let _ = client.get(c.url(path)).send().await.unwrap().bytes().await;
        }
        let _ = client
            .get(c.url("/differ/fail"))
            .header("x-client", format!("client-{i}"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await;
    }
    // Pusher-style auth retries: a cache hit, then refusals.
    for _ in 0..5 {
        let _ = client
            .post(c.url("/api/chat/realtime/auth"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("socket_id=1.2&channel_name=private-p")
            .send()
            .await
            .unwrap()
            .bytes()
            .await;
    }
    // A rejected edit, then a good one: reload failure, generation change.
    cfg.write_flag("shadowed", "shadow = { percent = 500 }\n");
    let failed = eventually(Duration::from_secs(10), || async {
        (c.metric("cutover_config_reloads_total{result=\"failure\"}")
            .await
            >= 1.0)
            .then_some(())
    })
    .await;
    assert!(failed.is_some(), "the bad flag file was not rejected");
    tokio::time::sleep(Duration::from_secs(3)).await;
    cfg.write_flag(
        "shadowed",
        "shadow = { percent = 100, noise_percent = 50 }\n",
    );
    let applied = eventually(Duration::from_secs(10), || async {
        (c.metric("cutover_config_generation").await >= 2.0).then_some(())
    })
    .await;
    assert!(applied.is_some(), "the fixed flag file was not applied");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_dashboard_and_rule_expression_parses_and_returns_data() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cfg = ConfigDir::new(&routes(&next.url(), &rust.url()));
    cfg.write_flag(
        "shadowed",
        "shadow = { percent = 100, noise_percent = 100 }\n",
    );
    cfg.write_flag(
        "judged",
        "canary = { percent = 50, sticky_by = \"header:x-client\" }\n",
    );
    cfg.write_flag("fallback", "backend = \"rust\"\n");
    let env = [
        ("NEXTAUTH_SECRET", "prom-nextauth-secret-0123456789abcdef"),
        (
            "CUTOVER_IDENTITY_KEY",
            "prom-identity-key-0123456789abcdef0123456789",
        ),
    ];
    let c = Cutover::start_with_env(&cfg, &env);
    let prom = start_prometheus(c.admin).await;
    drive_traffic(&c, &cfg).await;
    let m = c.metrics().await;
    for family in [
        "cutover_shadow_mismatches_total{",
        "cutover_fallbacks_total{",
        "cutover_guard_tripped{route=\"judged\"} 1",
        "cutover_auth_total{",
        "cutover_upstream_errors_total{",
        "cutover_cap_rejections_total{reason=\"client_rate\",route=\"capped\"}",
        "cutover_cap_store_fallbacks_total{store=\"redis\"}",
    ] {
        assert!(m.contains(family), "no {family} in\n{m}");
    }

    let exprs = promql::all_expressions();
    assert!(!exprs.is_empty());
    let not_wired: BTreeSet<&str> = NOT_WIRED_YET.into_iter().collect();
    let skipped = |names: &BTreeSet<String>| {
        !names.is_empty()
            && names
                .iter()
                .all(|n| not_wired.contains(promql::base_metric(n)))
    };
    // Recording rules and rates need a few scrapes and evaluations.
    let mut last = Vec::new();
    for _ in 0..60 {
        last.clear();
        for e in &exprs {
            let runnable = e.runnable();
            let names = promql::metric_names(&runnable);
            let n = match query(&prom, &runnable).await {
                Err(msg) => panic!("{}: does not parse: {msg}\n{runnable}", e.source),
                Ok(n) => n,
            };
            if skipped(&names) {
                continue;
            }
            let alert = e.source.split(" alert ").nth(1);
            match alert {
                Some(a) if !PROVOKED_ALERTS.contains(&a) => {
                    for name in names
                        .iter()
                        .filter(|n| !not_wired.contains(promql::base_metric(n)))
                    {
                        if query(&prom, name).await.unwrap_or(0) == 0 {
                            last.push(format!("{} reads {name}, which has no data", e.source));
                        }
                    }
                }
                _ if n == 0 => last.push(format!("{}: no data\n  {runnable}", e.source)),
                _ => {}
            }
        }
        if last.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert!(last.is_empty(), "after 60 s:\n{}", last.join("\n"));
    let skipped_list: Vec<&str> = exprs
        .iter()
        .filter(|e| skipped(&promql::metric_names(&e.runnable())))
        .map(|e| e.source.as_str())
        .collect();
    eprintln!(
        "parsed only (metrics not wired until the caps land: {NOT_WIRED_YET:?}):\n  {}",
        skipped_list.join("\n  ")
    );
}
