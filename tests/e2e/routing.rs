//! Flags: flips under traffic, bad files, ConfigMap swaps, canaries, headers.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::support::*;

const ROUTE: &str = r#"
[[route]]
id = "threads"
path = "/api/chat/user-threads"
methods = ["GET"]
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn flag_edit_takes_effect_within_a_second_under_traffic_with_zero_failures() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", ROUTE));
    cfg.write_flag("threads", "backend = \"next\"\n");
    let cutover = Cutover::start(&cfg);
    let url = cutover.url("/api/chat/user-threads");

    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicU64::new(0));
    let seen_rust_at = Arc::new(std::sync::Mutex::new(None::<Instant>));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (stop, failures, seen, url) = (
            stop.clone(),
            failures.clone(),
            seen_rust_at.clone(),
            url.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                match backend_of(&client, &url).await {
                    Ok(b) if b == "rust" => {
                        seen.lock().unwrap().get_or_insert_with(Instant::now);
                    }
                    Ok(_) => {}
                    Err(_) => {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
                n += 1;
            }
            n
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        seen_rust_at.lock().unwrap().is_none(),
        "rust answered before the flip"
    );
    let flipped_at = Instant::now();
    cfg.write_flag("threads", "backend = \"rust\"\n");
    let took = eventually(Duration::from_secs(3), || async {
        *seen_rust_at.lock().unwrap()
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for t in tasks {
        total += t.await.unwrap();
    }
    let took = took
        .expect("the flip never took effect")
        .duration_since(flipped_at);
    assert!(took < Duration::from_secs(1), "flip took {took:?}");
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "failed requests out of {total}"
    );
    assert!(total > 50, "too little traffic to mean anything: {total}");
    let served = next.hits.load(Ordering::Relaxed) + rust.hits.load(Ordering::Relaxed);
    assert_eq!(
        served, total,
        "each request reached exactly one backend once"
    );
    assert_eq!(cutover.metric("cutover_config_generation").await, 2.0);
    assert!(cutover.log().contains("flag changed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_flag_file_is_rejected_and_previous_routing_holds() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", ROUTE));
    cfg.write_flag("threads", "backend = \"rust\"\n");
    let cutover = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    let url = cutover.url("/api/chat/user-threads");
    assert_eq!(backend_of(&client, &url).await.unwrap(), "rust");

    cfg.write_flag("threads", "canary = { percent = 120 }\n");
    let failed = eventually(Duration::from_secs(3), || async {
        (cutover
            .metric("cutover_config_reloads_total{result=\"failure\"}")
            .await
            >= 1.0)
            .then_some(())
    })
    .await;
    assert!(failed.is_some(), "the bad file was never noticed");
    for _ in 0..20 {
        assert_eq!(backend_of(&client, &url).await.unwrap(), "rust");
    }
    assert!(
        cutover
            .log()
            .contains("threads.toml:1: percent = 120 is out of range 0..=100")
    );
    assert_eq!(cutover.metric("cutover_config_generation").await, 1.0);
    // The bad content is counted once, not on every poll.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        cutover
            .metric("cutover_config_reloads_total{result=\"failure\"}")
            .await,
        1.0
    );

    // Fixing the file (a rollback) applies.
    cfg.write_flag("threads", "backend = \"next\"\n");
    let back = eventually(Duration::from_secs(3), || async {
        (backend_of(&client, &url).await.ok()? == "next").then_some(())
    })
    .await;
    assert!(back.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn configmap_style_data_symlink_swap_is_picked_up() {
    use std::os::unix::fs::symlink;
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", ROUTE));
    let flags = cfg.flags();
    // Kubernetes layout: ..<ts>/file, ..data -> ..<ts>, file -> ..data/file
    std::fs::create_dir(flags.join("..2026_11_21_a")).unwrap();
    std::fs::write(
        flags.join("..2026_11_21_a/threads.toml"),
        "backend = \"next\"\n",
    )
    .unwrap();
    symlink("..2026_11_21_a", flags.join("..data")).unwrap();
    symlink("..data/threads.toml", flags.join("threads.toml")).unwrap();
    let cutover = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    let url = cutover.url("/api/chat/user-threads");
    assert_eq!(backend_of(&client, &url).await.unwrap(), "next");

    std::fs::create_dir(flags.join("..2026_11_21_b")).unwrap();
    std::fs::write(
        flags.join("..2026_11_21_b/threads.toml"),
        "backend = \"rust\"\n",
    )
    .unwrap();
    symlink("..2026_11_21_b", flags.join("..data_tmp")).unwrap();
    std::fs::rename(flags.join("..data_tmp"), flags.join("..data")).unwrap();
    std::fs::remove_dir_all(flags.join("..2026_11_21_a")).unwrap();

    let moved = eventually(Duration::from_secs(10), || async {
        (backend_of(&client, &url).await.ok()? == "rust").then_some(())
    })
    .await;
    assert!(moved.is_some(), "the ..data swap was not seen");
    assert!(path_exists(&flags.join("threads.toml")));
}

#[tokio::test(flavor = "multi_thread")]
async fn sticky_canary_keeps_a_user_on_one_side_and_splits_users() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", ROUTE));
    cfg.write_flag(
        "threads",
        "canary = { percent = 30, sticky_by = \"header:x-user\" }\n",
    );
    let cutover = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    let url = cutover.url("/api/chat/user-threads");
    let side = |user: String| {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let r = client
                .get(&url)
                .header("x-user", user)
                .send()
                .await
                .unwrap();
            r.headers()["x-cutover-backend"]
                .to_str()
                .unwrap()
                .to_string()
        }
    };
    let first = side("user-7".into()).await;
    for _ in 0..1_000 {
        assert_eq!(side("user-7".into()).await, first);
    }
    let mut on_rust = 0;
    for i in 0..1_000 {
        if side(format!("u{i}")).await == "rust" {
            on_rust += 1;
        }
    }
    // 1,000 users: the binomial sd at 30 % is 1.45 points; ±6 points is > 4 sd.
    assert!(
        (240..=360).contains(&on_rust),
        "{on_rust} of 1000 on rust at 30 %"
    );
    assert_eq!(
        cutover
            .metric("cutover_route_canary_percent{route=\"threads\"}")
            .await,
        30.0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn headers_pass_through_and_identity_headers_cannot_be_spoofed() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", ROUTE));
    let cutover = Cutover::start(&cfg);
    let client = reqwest::Client::new();

    let r = client
        .get(cutover.url("/api/chat/user-threads?x=1"))
        .header("host", "app.example.com")
        .header("x-cutover-user-id", "admin")
        .header("x-forwarded-for", "203.0.113.9")
        .header("proxy-connection", "keep-alive")
        .header("cookie", "next-auth.session-token=abc")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-cutover-route"], "threads");
    assert_eq!(r.headers()["x-cutover-backend"], "next");
    let v: serde_json::Value = r.json().await.unwrap();
    let h = &v["headers"];
    assert_eq!(v["uri"], "/api/chat/user-threads?x=1");
    assert_eq!(h["host"], "app.example.com");
    assert_eq!(h["x-forwarded-host"], "app.example.com");
    assert_eq!(h["x-forwarded-proto"], "http");
    assert_eq!(h["x-forwarded-for"], "203.0.113.9, 127.0.0.1");
    assert_eq!(h["cookie"], "next-auth.session-token=abc");
    assert!(
        h.get("x-cutover-user-id").is_none(),
        "client-sent identity reached the backend"
    );
    assert!(h.get("proxy-connection").is_none());

    // Unmatched paths go to next; several Set-Cookie survive.
    let r = client
        .get(cutover.url("/cookies"))
        .header("host", "app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["x-cutover-route"], "(unmatched)");
    let cookies: Vec<_> = r.headers().get_all("set-cookie").iter().collect();
    assert_eq!(cookies, ["a=1; Path=/", "b=2; Path=/; HttpOnly"]);
    assert_eq!(r.headers()["x-seen-host"], "app.example.com");

    // The query's token never reaches the access log.
    client
        .get(cutover.url("/api/chat/user-threads?token=sekrit-123"))
        .send()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let log = cutover.log();
    assert!(log.contains("token=REDACTED"), "{log}");
    assert!(!log.contains("sekrit-123"));
    let m = cutover.metrics().await;
    assert!(
        m.contains(
            "cutover_requests_total{backend=\"next\",route=\"(unmatched)\",status_class=\"2xx\"} 1"
        ),
        "{m}"
    );
}

/// The attacks: a client claims another host and `https` in
/// `X-Forwarded-*`, and sends identity headers spelled with underscores
/// (CGI-style backends read `x-cutover_user-id` as `x-cutover-user-id`).
/// Only from a peer in `trusted_proxies` are the forwarded claims believed.
#[tokio::test(flavor = "multi_thread")]
async fn forwarded_claims_are_overwritten_and_underscore_identity_headers_stripped() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let send = |cutover: &Cutover| {
        reqwest::Client::new()
            .get(cutover.url("/api/chat/user-threads"))
            .header("host", "app.example.com")
            .header("x-forwarded-host", "evil.example")
            .header("x-forwarded-proto", "https")
            .header("x-forwarded-for", "203.0.113.9")
            .header("x-cutover_user-id", "admin")
            .header("X_CUTOVER_AUTH", "service")
            .header("x_cutover-tenant_id", "t1")
            .send()
    };
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", ROUTE));
    let cutover = Cutover::start(&cfg);
    let v: serde_json::Value = send(&cutover).await.unwrap().json().await.unwrap();
    let h = v["headers"].as_object().unwrap();
    assert_eq!(h["x-forwarded-host"], "app.example.com");
    assert_eq!(h["x-forwarded-proto"], "http");
    assert_eq!(h["x-forwarded-for"], "203.0.113.9, 127.0.0.1");
    let ours: Vec<&String> = h
        .keys()
        .filter(|k| k.replace('_', "-").starts_with("x-cutover-"))
        .collect();
    assert!(
        ours.is_empty(),
        "client-sent identity reached next: {ours:?}"
    );

    // Behind a trusted proxy (here: the test itself), its claims stand.
    let trusted = ConfigDir::new(&routes_toml(
        &next.url(),
        &rust.url(),
        "trusted_proxies = [\"127.0.0.0/8\"]",
        ROUTE,
    ));
    let behind = Cutover::start(&trusted);
    let v: serde_json::Value = send(&behind).await.unwrap().json().await.unwrap();
    let h = &v["headers"];
    assert_eq!(h["x-forwarded-host"], "evil.example");
    assert_eq!(h["x-forwarded-proto"], "https");
    assert!(h.get("x-cutover_user-id").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn admin_port_reports_health_readiness_and_the_effective_config() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", ROUTE));
    cfg.write_flag(
        "threads",
        "canary = { percent = 25, sticky_by = \"cookie:sid\" }\n",
    );
    let cutover = Cutover::start(&cfg);
    let admin = |path: &str| format!("http://{}{path}", cutover.admin);
    assert_eq!(
        reqwest::get(admin("/-/health")).await.unwrap().status(),
        200
    );
    let ready: serde_json::Value = reqwest::get(admin("/-/ready"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["generation"], 1);
    let config: serde_json::Value = reqwest::get(admin("/-/config"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(config["generation"], 1);
    assert_eq!(config["backends"]["next"], next.url());
    let route = &config["routes"][0];
    assert_eq!(route["id"], "threads");
    assert_eq!(route["path"], "/api/chat/user-threads");
    assert_eq!(route["rust_percent"], 25);
    assert_eq!(route["flag"], "canary 25% rust by cookie:sid");
    // The root lists the endpoints; an unknown path and an unknown route say
    // what exists.
    let index: serde_json::Value = reqwest::get(admin("/"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(index["endpoints"]["/-/config"].is_string(), "{index}");
    let r = reqwest::get(admin("/-/nope")).await.unwrap();
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body["endpoints"]["/metrics"].is_string(), "{body}");
    let r = reqwest::get(admin("/-/diffs?route=thraeds")).await.unwrap();
    assert_eq!(r.status(), 404);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (&body["error"], &body["routes"]),
        (
            &serde_json::json!("unknown_route"),
            &serde_json::json!(["threads"])
        )
    );
    // The proxy port does not serve admin paths.
    let r = reqwest::get(cutover.url("/-/config")).await.unwrap();
    assert_eq!(r.headers()["x-cutover-route"], "(unmatched)");
}

#[tokio::test(flavor = "multi_thread")]
async fn reload_applies_live_settings_and_reports_process_settings_it_cannot_change() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", ROUTE));
    let cutover = Cutover::start(&cfg);
    let url = cutover.url("/api/chat/user-threads");
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.headers()["x-cutover-route"], "threads");

    // Turn the response headers off (live) and change the thread count (not live).
    let text = std::fs::read_to_string(cfg.routes_path()).unwrap();
    let edited = text.replace("threads = 2", "threads = 3").replacen(
        "[server]\n",
        "[server]\nresponse_headers = false\n",
        1,
    );
    let tmp = cfg.dir.path().join(".routes.toml.swp");
    std::fs::write(&tmp, edited).unwrap();
    std::fs::rename(&tmp, cfg.routes_path()).unwrap();

    let off = eventually(Duration::from_secs(3), || async {
        let r = reqwest::get(&url).await.ok()?;
        (!r.headers().contains_key("x-cutover-route")).then_some(())
    })
    .await;
    assert!(off.is_some(), "response_headers = false was not applied");
    let log = cutover.log();
    assert!(
        log.contains("need a restart or a graceful upgrade"),
        "{log}"
    );
    assert_eq!(cutover.metric("cutover_config_generation").await, 2.0);
}
