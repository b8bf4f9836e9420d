//! Signed tester overrides (issue 16): a valid cookie beats the flag for its
//! routes only, until it expires; a forged, expired or foreign one is counted
//! and ignored (the request follows its flag, never an error page); the cookie
//! reaches no backend and no log; overridden requests stay out of the judge.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use cutover::flags::Side;
use cutover::r#override::{Grant, OverrideKey, RouteSet, sign};

use crate::support::*;

pub const KEY: &str = "override-key-for-tests-0123456789abcdef";

pub const OVERRIDE: &str = "[override]\nkeys_env = [\"CUTOVER_OVERRIDE_KEY\"]\nmax_ttl = \"4h\"\n";

const ROUTES: &str = r#"
[[route]]
id = "threads"
path = "/api/chat/user-threads"

[[route]]
id = "messages"
path = "/api/chat/messages"

[[route]]
id = "judged"
path = "/differ/fail"
guard = { max_error_ratio_delta = 0.2, min_requests = 5, window = "60s" }
"#;

/// `cutover override ARGS` with the signing key set: (exit code, stdout, stderr).
pub fn cli(config: &Path, args: &[&str], key: Option<&str>) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cutover"));
    cmd.arg("override").args(args).arg("--config").arg(config);
    match key {
        Some(k) => cmd.env("CUTOVER_OVERRIDE_KEY", k),
        None => cmd.env_remove("CUTOVER_OVERRIDE_KEY"),
    };
    let out = tokio::task::block_in_place(|| cmd.output().unwrap());
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The token `cutover override ARGS` prints.
pub fn token(config: &Path, args: &[&str]) -> String {
    let (code, out, err) = cli(config, args, Some(KEY));
    assert_eq!(code, 0, "{err}");
    out.lines()
        .find_map(|l| l.strip_prefix("page: /-/override?token="))
        .unwrap_or_else(|| panic!("no page line in {out}"))
        .to_string()
}

/// A token signed with the test key, expiring at `expires` (unix seconds).
pub fn signed(routes: &[&str], side: Side, expires: u64) -> String {
    let grant = Grant {
        routes: RouteSet::Only(routes.iter().map(|r| r.to_string()).collect()),
        side,
        expires,
        user: None,
    };
    sign(&grant, &OverrideKey::new(KEY.as_bytes().to_vec()).unwrap())
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The same token with one payload character changed.
pub fn tampered(token: &str) -> String {
    let mut b = token.as_bytes().to_vec();
    b[6] = if b[6] == b'A' { b'B' } else { b'A' };
    String::from_utf8(b).unwrap()
}

async fn start(flags: &[(&str, &str)]) -> (Upstream, Upstream, ConfigDir, Cutover) {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let routes = format!("{OVERRIDE}{ROUTES}");
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", &routes));
    for (route, flag) in flags {
        cfg.write_flag(route, flag);
    }
    let c = Cutover::start_with_env(&cfg, &[("CUTOVER_OVERRIDE_KEY", KEY)]);
    (next, rust, cfg, c)
}

/// (status, x-cutover-backend, echoed request) of a GET with `cookie`.
async fn get(c: &Cutover, path: &str, cookie: Option<&str>) -> (u16, String, serde_json::Value) {
    let mut req = reqwest::Client::new().get(c.url(path));
    if let Some(ck) = cookie {
        req = req.header("cookie", ck);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let backend = r.headers()["x-cutover-backend"]
        .to_str()
        .unwrap()
        .to_string();
    let body = r.json().await.unwrap_or_default();
    (status, backend, body)
}

fn rejected(reason: &str) -> String {
    format!("cutover_override_rejected_total{{reason=\"{reason}\"}}")
}

#[tokio::test(flavor = "multi_thread")]
async fn valid_rust_cookie_beats_a_next_flag_for_its_tester_only_and_never_reaches_a_backend() {
    let (_next, _rust, cfg, c) = start(&[("threads", "backend = \"next\"\n")]).await;
    let t = token(
        &cfg.routes_path(),
        &["--route", "threads", "--side", "rust"],
    );
    let cookie = format!("a=1; cutover_override={t}; b=2");
    let (status, backend, seen) = get(&c, "/api/chat/user-threads", Some(&cookie)).await;
    assert_eq!((status, backend.as_str()), (200, "rust"));
    assert_eq!(seen["backend"], "rust");
    assert_eq!(seen["headers"]["cookie"], "a=1; b=2", "{seen}");
    // Another client, no cookie: the flag.
    let (_, backend, _) = get(&c, "/api/chat/user-threads", Some("a=1")).await;
    assert_eq!(backend, "next");
    // Only the cookie: no Cookie header left at all.
    let (_, backend, seen) = get(
        &c,
        "/api/chat/user-threads",
        Some(&format!("cutover_override={t}")),
    )
    .await;
    assert_eq!(backend, "rust");
    assert!(seen["headers"].get("cookie").is_none(), "{seen}");
    // Unclaimed paths lose the cookie too.
    let (_, backend, seen) = get(&c, "/elsewhere", Some(&cookie)).await;
    assert_eq!(backend, "next");
    assert_eq!(seen["headers"]["cookie"], "a=1; b=2", "{seen}");

    let m = c.metrics().await;
    let decided = |d: &str| {
        metric_value(
            &m,
            &format!("cutover_decisions_total{{decision=\"{d}\",route=\"threads\"}}"),
        )
    };
    assert_eq!(decided("override"), 2.0, "{m}");
    assert_eq!(decided("flag"), 1.0, "{m}");
    let log = c.log();
    assert!(
        log.contains("decision=\"override\"") || log.contains("decision=override"),
        "{log}"
    );
    assert!(!log.contains(&t), "the token is in the log");
}

#[tokio::test(flavor = "multi_thread")]
async fn next_cookie_keeps_every_canary_client_on_next() {
    let flag = "canary = { percent = 50, sticky_by = \"header:x-client\" }\n";
    let (_next, _rust, cfg, c) = start(&[("threads", flag)]).await;
    let t = token(&cfg.routes_path(), &["--all", "--side", "next"]);
    let client = reqwest::Client::new();
    let mut plain = Vec::new();
    for i in 0..20 {
        let send = |cookie: Option<String>| {
            let mut r = client
                .get(c.url("/api/chat/user-threads"))
                .header("x-client", format!("client-{i}"));
            if let Some(ck) = cookie {
                r = r.header("cookie", ck);
            }
            r.send()
        };
        let with = send(Some(format!("cutover_override={t}"))).await.unwrap();
        assert_eq!(with.headers()["x-cutover-backend"], "next", "client {i}");
        let without = send(None).await.unwrap();
        plain.push(
            without.headers()["x-cutover-backend"]
                .to_str()
                .unwrap()
                .to_string(),
        );
    }
    // The canary itself still splits the clients without the cookie.
    assert!(plain.iter().any(|b| b == "rust"), "{plain:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn expired_tampered_and_foreign_cookies_follow_the_flag_and_are_counted() {
    let (_next, _rust, cfg, c) = start(&[("threads", "backend = \"next\"\n")]).await;
    let good = token(
        &cfg.routes_path(),
        &["--route", "messages", "--side", "rust"],
    );
    let cases = [
        ("expired", signed(&["threads"], Side::Rust, unix_now() - 5)),
        (
            "bad_signature",
            tampered(&signed(&["threads"], Side::Rust, unix_now() + 600)),
        ),
        ("route_not_in_set", good.clone()),
        ("malformed", "not-a-token".to_string()),
    ];
    for (reason, t) in &cases {
        let cookie = format!("cutover_override={t}");
        let (status, backend, seen) = get(&c, "/api/chat/user-threads", Some(&cookie)).await;
        assert_eq!((status, backend.as_str()), (200, "next"), "{reason}");
        assert!(seen["headers"].get("cookie").is_none(), "{reason}: {seen}");
        assert_eq!(c.metric(&rejected(reason)).await, 1.0, "{reason}");
    }
    // The same good token on its own route.
    let (_, backend, _) = get(
        &c,
        "/api/chat/messages",
        Some(&format!("cutover_override={good}")),
    )
    .await;
    assert_eq!(backend, "rust");
}

#[tokio::test(flavor = "multi_thread")]
async fn override_page_sets_and_clears_the_cookie_and_never_echoes_a_bad_token() {
    let (_next, _rust, cfg, c) = start(&[]).await;
    let t = token(
        &cfg.routes_path(),
        &["--route", "threads", "--side", "rust", "--ttl", "30m"],
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = client
        .get(c.url(&format!("/-/override?token={t}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let set = r.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(
        set.starts_with(&format!("cutover_override={t}; Path=/; Max-Age=")),
        "{set}"
    );
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "plain http: {set}");
    let max_age: u64 = set
        .split("Max-Age=")
        .nth(1)
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1700..=1800).contains(&max_age), "{max_age}");
    let page = r.text().await.unwrap();
    assert!(
        page.contains("requests for route threads go to rust"),
        "{page}"
    );

    let bad = tampered(&t);
    let r = client
        .get(c.url(&format!("/-/override?token={bad}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("set-cookie").is_none());
    let page = r.text().await.unwrap();
    assert!(page.contains("not valid") && !page.contains(&bad), "{page}");
    let r = client
        .get(c.url("/-/override?token=v1.x.y"))
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["reason"], "malformed");

    let r = client
        .get(c.url("/-/override?clear=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .starts_with("cutover_override=; Path=/; Max-Age=0")
    );

    // Access lines go out in batches (`logbuf`): wait for the last one.
    let log = eventually(Duration::from_secs(5), || async {
        let log = c.log();
        log.contains("/-/override?clear=1").then_some(log)
    })
    .await
    .unwrap_or_else(|| c.log());
    assert!(
        !log.contains(&t) && !log.contains(&bad),
        "a token is in the log"
    );
    assert!(log.contains("/-/override?token=REDACTED"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn overridden_rust_errors_stay_out_of_the_judge() {
    let (_next, _rust, cfg, c) = start(&[("judged", "backend = \"next\"\n")]).await;
    let t = token(&cfg.routes_path(), &["--route", "judged", "--side", "rust"]);
    let cookie = format!("cutover_override={t}");
    for _ in 0..10 {
        let (status, backend, _) = get(&c, "/differ/fail", None).await;
        assert_eq!((status, backend.as_str()), (200, "next"));
    }
    // Every overridden request fails on rust: counted, the judge would trip on them.
    for _ in 0..30 {
        let (status, backend, _) = get(&c, "/differ/fail", Some(&cookie)).await;
        assert_eq!((status, backend.as_str()), (500, "rust"));
    }
    assert_eq!(
        c.metric("cutover_guard_tripped{route=\"judged\"}").await,
        0.0
    );
    assert!(!c.log().contains("guard tripped"));
    let decided = "cutover_decisions_total{decision=\"override\",route=\"judged\"}";
    assert_eq!(c.metric(decided).await, 30.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn override_command_checks_routes_ttl_and_key_and_says_how_to_fix() {
    let (_next, _rust, cfg, _c) = start(&[]).await;
    let p = cfg.routes_path();
    let (code, _, err) = cli(&p, &["--route", "thraeds", "--side", "rust"], Some(KEY));
    assert_eq!(code, 64);
    assert!(err.contains("did you mean `threads`"), "{err}");
    let (code, _, err) = cli(&p, &["--all", "--side", "rust", "--ttl", "5h"], Some(KEY));
    assert_eq!(code, 64);
    assert!(err.contains("max_ttl"), "{err}");
    let (code, _, err) = cli(&p, &["--all", "--side", "rust"], None);
    assert_eq!(code, 64);
    assert!(err.contains("export CUTOVER_OVERRIDE_KEY"), "{err}");
    let (code, out, _) = cli(&p, &["--all", "--side", "next", "--user", "u-1"], Some(KEY));
    assert_eq!(code, 0);
    assert!(out.contains("cookie: cutover_override=v1."), "{out}");
    assert!(out.contains("all routes on next"), "{out}");
    // Without [override], the page says overrides are off.
    let next = Upstream::start("next").await;
    let off = ConfigDir::new(&routes_toml(&next.url(), &next.url(), "", ROUTES));
    let c = Cutover::start(&off);
    let r = reqwest::get(c.url("/-/override?token=x")).await.unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(next.hits.load(std::sync::atomic::Ordering::Relaxed), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn rewriting_the_key_file_reloads_and_retires_every_token_of_the_old_key() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let routes = format!("[override]\nkey_files = [\"override.key\"]\n{ROUTES}");
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", &routes));
    let key_file = cfg.dir.path().join("override.key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let c = Cutover::start(&cfg);
    let old = token(
        &cfg.routes_path(),
        &["--route", "threads", "--side", "rust"],
    );
    let with = |t: &str| format!("cutover_override={t}");
    assert_eq!(
        get(&c, "/api/chat/user-threads", Some(&with(&old))).await.1,
        "rust"
    );

    std::fs::write(&key_file, "a-brand-new-override-key-0123456789abcdef\n").unwrap();
    let retired = eventually(Duration::from_secs(5), || async {
        let (_, backend, _) = get(&c, "/api/chat/user-threads", Some(&with(&old))).await;
        (backend == "next").then_some(())
    })
    .await;
    assert!(
        retired.is_some(),
        "the old key still verifies after the rewrite"
    );
    assert!(c.metric(&rejected("bad_signature")).await >= 1.0);
    let new = token(
        &cfg.routes_path(),
        &["--route", "threads", "--side", "rust"],
    );
    assert_eq!(
        get(&c, "/api/chat/user-threads", Some(&with(&new))).await.1,
        "rust"
    );
}
