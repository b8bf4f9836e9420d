//! Shadow comparison, the judge and the budgeted fallback, end to end: the
//! real binary in front of two stand-in upstreams that differ on purpose
//! (`/differ/{case}` in `support.rs`).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::support::*;

const SHADOW_ALL: &str = "shadow = { percent = 100, noise_percent = 0 }\n";

fn route(id: &str, case: &str, extra: &str) -> String {
    format!("[[route]]\nid = \"{id}\"\npath = \"/differ/{case}\"\n{extra}\n")
}

async fn get_n(client: &reqwest::Client, url: &str, n: usize) {
    for _ in 0..n {
        let r = client.get(url).send().await.unwrap();
        assert!(r.status().is_success() || r.status().is_server_error());
        r.bytes().await.unwrap();
    }
}

/// Waits until `series` reaches `at_least`, then returns its value.
async fn metric_at_least(c: &Cutover, series: &str, at_least: f64) -> f64 {
    eventually(Duration::from_secs(10), || async {
        let v = c.metric(series).await;
        (v >= at_least).then_some(v)
    })
    .await
    .unwrap_or_else(|| panic!("{series} never reached {at_least}"));
    c.metric(series).await
}

fn mismatches(route: &str, kind: &str, category: &str) -> String {
    format!(
        "cutover_shadow_mismatches_total{{category=\"{category}\",kind=\"{kind}\",route=\"{route}\"}}"
    )
}

fn compared(route: &str, kind: &str) -> String {
    format!("cutover_shadow_compared_total{{kind=\"{kind}\",route=\"{route}\"}}")
}

#[tokio::test(flavor = "multi_thread")]
async fn each_mismatch_category_is_counted_and_logged_redacted() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let routes = [
        route("same", "same", ""),
        route("field", "field", ""),
        route("flaky", "flaky", ""),
        route("auth", "auth", ""),
        route("slow", "slow", "shadow_limits = { timeout = \"100ms\" }"),
    ]
    .concat();
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", &routes));
    for id in ["same", "field", "flaky", "auth", "slow"] {
        cfg.write_flag(id, SHADOW_ALL);
    }
    let c = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    for case in ["same", "field", "flaky", "auth", "slow"] {
        get_n(&client, &c.url(&format!("/differ/{case}?token=s3cret")), 10).await;
    }
    for id in ["same", "field", "flaky", "auth", "slow"] {
        metric_at_least(&c, &compared(id, "cross"), 10.0).await;
    }
    let m = |s: String| {
        let c = &c;
        async move { c.metric(&s).await }
    };
    for cat in [
        "status",
        "header",
        "body",
        "auth_decision",
        "timeout",
        "error",
    ] {
        assert_eq!(m(mismatches("same", "cross", cat)).await, 0.0, "same {cat}");
    }
    assert_eq!(m(mismatches("field", "cross", "body")).await, 10.0);
    assert_eq!(m(mismatches("flaky", "cross", "status")).await, 5.0);
    assert_eq!(m(mismatches("auth", "cross", "auth_decision")).await, 10.0);
    assert_eq!(m(mismatches("slow", "cross", "timeout")).await, 10.0);
    assert_eq!(
        m("cutover_shadow_requests_total{result=\"timeout\",route=\"slow\"}".into()).await,
        10.0
    );
    assert_eq!(
        m("cutover_shadow_requests_total{result=\"compared\",route=\"field\"}".into()).await,
        10.0
    );

    let diffs: serde_json::Value = reqwest::get(format!("http://{}/-/diffs?route=field", c.admin))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = diffs["routes"]["field"]["entries"].as_array().unwrap();
    assert!(!entries.is_empty(), "{diffs}");
    let e = &entries[0];
    assert_eq!(e["category"], "body");
    assert_eq!(e["kind"], "cross");
    assert!(e["detail"].as_str().unwrap().contains("/greeting"), "{e}");
    assert!(!diffs.to_string().contains("s3cret"), "{diffs}");
    assert!(diffs["routes"].get("same").is_none());
}

/// A rust side that fails 1 % of the time: every failure is a counted status
/// mismatch (and logged), the other 99 % compare equal, and the client only
/// ever sees next's answers.
#[tokio::test(flavor = "multi_thread")]
async fn a_500_on_one_percent_of_requests_is_counted_exactly() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cfg = ConfigDir::new(&routes_toml(
        &next.url(),
        &rust.url(),
        "",
        &route("rare", "rare", ""),
    ));
    cfg.write_flag("rare", SHADOW_ALL);
    let c = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    for _ in 0..300 {
        let r = client.get(c.url("/differ/rare")).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-cutover-backend"], "next");
        r.bytes().await.unwrap();
    }
    metric_at_least(&c, &compared("rare", "cross"), 300.0).await;
    assert_eq!(c.metric(&mismatches("rare", "cross", "status")).await, 3.0);
    for cat in ["header", "body", "auth_decision", "timeout", "error"] {
        assert_eq!(
            c.metric(&mismatches("rare", "cross", cat)).await,
            0.0,
            "{cat}"
        );
    }
    let diffs: serde_json::Value = reqwest::get(format!("http://{}/-/diffs?route=rare", c.admin))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let entries = diffs["routes"]["rare"]["entries"].as_array().unwrap();
    assert!(entries.iter().all(|e| e["category"] == "status"), "{diffs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn noise_floor_shows_a_random_id_as_noise_and_ignore_absorbs_it() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    // First match wins: `/differ/random` is `random`, any other case is `random-ignored`.
    let routes = [
        route("random", "random", ""),
        "[[route]]\nid = \"random-ignored\"\npath = \"/differ/{case}\"\ncompare = { ignore = [\"/id\"] }\n".to_string(),
    ]
    .concat();
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", &routes));
    let noise = "shadow = { percent = 100, noise_percent = 100 }\n";
    cfg.write_flag("random", noise);
    cfg.write_flag("random-ignored", noise);
    let c = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    get_n(&client, &c.url("/differ/random"), 20).await;
    get_n(&client, &c.url("/differ/random2"), 20).await;

    metric_at_least(&c, &compared("random", "self"), 20.0).await;
    metric_at_least(&c, &compared("random-ignored", "self"), 20.0).await;
    // Every call differs in `id`: the self-check disagrees as often as the
    // cross comparison, so the mismatch rate sits on the noise floor.
    let cross = c.metric(&mismatches("random", "cross", "body")).await;
    let selfm = c.metric(&mismatches("random", "self", "body")).await;
    assert_eq!((cross, selfm), (20.0, 20.0));
    // With `/id` ignored, nothing differs.
    for kind in ["cross", "self"] {
        assert_eq!(
            c.metric(&mismatches("random-ignored", kind, "body")).await,
            0.0
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn primary_latency_is_unchanged_while_shadowing_a_slow_side() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let routes = [
        route(
            "slow-shadowed",
            "slow",
            "shadow_limits = { timeout = \"2s\" }",
        ),
        "[[route]]\nid = \"plain\"\npath = \"/differ/same\"\n".to_string(),
    ]
    .concat();
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", &routes));
    cfg.write_flag("slow-shadowed", SHADOW_ALL);
    let c = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    get_n(&client, &c.url("/differ/same"), 3).await;
    let (mut shadowed, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..40 {
        for (url, into) in [
            ("/differ/slow", &mut shadowed),
            ("/differ/same", &mut plain),
        ] {
            let t = Instant::now();
            let r = client.get(c.url(url)).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.bytes().await.unwrap();
            into.push(t.elapsed());
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (ms, mp) = (median(&mut shadowed), median(&mut plain));
    // The shadow side takes 400 ms; the primary's median stays near the unshadowed one.
    assert!(
        ms < mp * 3 + Duration::from_millis(30),
        "shadowed median {ms:?} vs plain median {mp:?}"
    );
    metric_at_least(&c, &compared("slow-shadowed", "cross"), 40.0).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_are_not_shadowed_unless_the_route_allows_dry_run() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let routes = [
        "[[route]]\nid = \"write-off\"\npath = \"/differ/write\"\n".to_string(),
        "[[route]]\nid = \"write-dry\"\npath = \"/dry/{case}\"\nrust_path = \"/differ/{case}\"\nshadow_writes = \"dry-run\"\n".to_string(),
    ]
    .concat();
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", &routes));
    cfg.write_flag("write-off", SHADOW_ALL);
    cfg.write_flag("write-dry", SHADOW_ALL);
    let c = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    for _ in 0..5 {
        let r = client
            .post(c.url("/differ/write"))
            .body("payload")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    metric_at_least(
        &c,
        "cutover_shadow_requests_total{result=\"skipped_method\",route=\"write-off\"}",
        5.0,
    )
    .await;
    assert_eq!(rust.hits.load(Ordering::Relaxed), 0, "a write reached rust");

    // Dry-run: next (primary, path /dry/write) answers 200 from its fallback echo;
    // rust gets the copy at /differ/write, marked, with the same body.
    for _ in 0..5 {
        let r = client
            .post(c.url("/dry/write"))
            .body("payload")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().await.unwrap();
        assert!(v["headers"].get("x-cutover-shadow").is_none(), "{v}");
    }
    metric_at_least(&c, &compared("write-dry", "cross"), 5.0).await;
    assert_eq!(rust.shadow_hits.load(Ordering::Relaxed), 5);
    assert_eq!(next.shadow_hits.load(Ordering::Relaxed), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn guard_trips_the_route_back_to_next_until_the_flag_file_changes() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let guard = "guard = { max_error_ratio_delta = 0.2, min_requests = 5, window = \"60s\" }";
    let routes = route("judged", "fail", guard);
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", &routes));
    let flag = "canary = { percent = 50, sticky_by = \"header:x-client\" }\n";
    cfg.write_flag("judged", flag);
    let c = Cutover::start(&cfg);
    assert_eq!(
        c.metric("cutover_stage{route=\"judged\",stage=\"canary\"}")
            .await,
        1.0
    );
    let client = reqwest::Client::new();
    let send = |i: usize| {
        let client = client.clone();
        let url = c.url("/differ/fail");
        async move {
            let r = client
                .get(url)
                .header("x-client", format!("client-{i}"))
                .send()
                .await
                .unwrap();
            let backend = r.headers()["x-cutover-backend"]
                .to_str()
                .unwrap()
                .to_string();
            (r.status().as_u16(), backend)
        }
    };
    let mut tripped_at = None;
    for i in 0..200 {
        send(i).await;
        if c.metric("cutover_guard_tripped{route=\"judged\"}").await == 1.0 {
            tripped_at = Some(i);
            break;
        }
    }
    let tripped_at = tripped_at.expect("the guard never tripped");
    assert!(tripped_at < 40, "tripped only after {tripped_at} requests");
    assert_eq!(
        c.metric("cutover_stage{route=\"judged\",stage=\"tripped\"}")
            .await,
        1.0
    );
    assert!(c.log().contains("guard tripped"), "{}", c.log());
    // Held on next, for every client, while the file is unchanged.
    for i in 0..40 {
        assert_eq!(send(i).await, (200, "next".to_string()));
    }
    // Any edit to the flag file re-arms the route.
    cfg.write_flag("judged", &format!("# re-armed\n{flag}"));
    let back = eventually(Duration::from_secs(10), || async {
        for i in 0..20 {
            if send(i).await.1 == "rust" {
                return Some(());
            }
        }
        None
    })
    .await;
    assert!(back.is_some(), "rust never served again after the edit");
}

const HALF_BUDGET: &str =
    "fallback = \"next\"\nfallback_budget = { ratio = 0.5, window = \"60s\" }";

/// 20 GETs of `path` on a route (`id`) whose rust always fails, with a 50 %
/// fallback budget: about half are answered by next and marked `why`, the
/// rest get `over_status`; both are counted. Then a POST, never retried, gets
/// `over_status` too. Returns how many fell back and the POST's body.
async fn half_fall_back(
    c: &Cutover,
    id: &str,
    path: &str,
    why: &str,
    over_status: u16,
) -> (u32, String) {
    let client = reqwest::Client::new();
    let (mut ok, mut failed) = (0, 0);
    for _ in 0..20 {
        let r = client.get(c.url(path)).send().await.unwrap();
        let status = r.status();
        let fallback = r.headers().get("x-cutover-fallback").cloned();
        let backend = r.headers()["x-cutover-backend"].clone();
        if status == 200 {
            assert_eq!(fallback.unwrap(), why);
            assert_eq!(backend, "next");
            ok += 1;
        } else {
            assert_eq!(status, over_status);
            assert!(fallback.is_none());
            assert_eq!(backend, "rust");
            failed += 1;
        }
    }
    let fallbacks =
        |result: &str| format!("cutover_fallbacks_total{{result=\"{result}\",route=\"{id}\"}}");
    let taken = c.metric(&fallbacks("taken")).await;
    let over = c.metric(&fallbacks("over_budget")).await;
    assert_eq!((taken, over), (f64::from(ok), f64::from(failed)));
    assert!(
        (8..=10).contains(&ok),
        "{ok} fallbacks of 20 at a 50 % budget"
    );
    let r = client.post(c.url(path)).send().await.unwrap();
    assert_eq!(r.status(), over_status);
    assert!(r.headers().get("x-cutover-fallback").is_none());
    assert_eq!(c.metric(&fallbacks("taken")).await, taken);
    (ok, r.text().await.unwrap())
}

/// Rust refuses connections: GETs fall back within the budget.
#[tokio::test(flavor = "multi_thread")]
async fn failed_rust_requests_fall_back_to_next_within_the_budget() {
    let next = Upstream::start("next").await;
    let routes = route("fb", "same", HALF_BUDGET);
    let cfg = ConfigDir::new(&routes_toml(&next.url(), "http://127.0.0.1:1", "", &routes));
    cfg.write_flag("fb", "backend = \"rust\"\n");
    let c = Cutover::start(&cfg);
    let (_, body) = half_fall_back(&c, "fb", "/differ/same", "connect", 502).await;
    assert!(body.contains("bad_gateway"), "{body}");
}

/// A remote rust that answers 500 (the head is seen before anything is
/// forwarded) or hangs past its read timeout: GETs are retried on next
/// within the budget and marked; the rest get rust's own answer.
#[tokio::test(flavor = "multi_thread")]
async fn remote_rust_5xx_and_timeouts_fall_back_to_next_within_the_budget() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let routes = [
        route("fail", "fail", HALF_BUDGET),
        route(
            "hang",
            "hang",
            "fallback = \"next\"\nfallback_budget = { ratio = 1.0, window = \"60s\" }",
        ),
    ]
    .concat();
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", &routes));
    cfg.write_flag("fail", "backend = \"rust\"\n");
    cfg.write_flag("hang", "backend = \"rust\"\n");
    let c = Cutover::start(&cfg);

    // Over budget (and for the POST): rust's own 500 reaches the client.
    let (ok, body) = half_fall_back(&c, "fail", "/differ/fail", "status", 500).await;
    assert_eq!(body, r#"{"error":"boom"}"#);
    // Each answer is counted once, by the side that gave it.
    let requests = |backend: &str, class: &str| {
        format!(
            "cutover_requests_total{{backend=\"{backend}\",route=\"fail\",status_class=\"{class}\"}}"
        )
    };
    assert_eq!(c.metric(&requests("next", "2xx")).await, f64::from(ok));
    assert_eq!(c.metric(&requests("rust", "5xx")).await, f64::from(21 - ok));

    // Rust hangs past its 1 s read timeout: next answers, marked "timeout".
    let r = reqwest::get(c.url("/differ/hang")).await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-cutover-fallback"], "timeout");
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["from"], "next");
}
