use std::path::Path;

use super::*;
use crate::flags::{Rule, Side};

const ROUTES: &str = r#"
[server]
listen = "127.0.0.1:0"
admin_listen = "127.0.0.1:0"

[backends.next]
url = "http://127.0.0.1:3000"

[backends.rust]
url = "embedded"

[[route]]
id = "realtime-auth"
path = "/api/chat/realtime/auth"
methods = ["POST"]
rust_path = "/chat/realtime/auth"
"#;

fn load(routes: &str, flags: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("routes.toml"), routes).unwrap();
    std::fs::create_dir(dir.path().join("flags")).unwrap();
    for (name, text) in flags {
        std::fs::write(dir.path().join("flags").join(name), text).unwrap();
    }
    Config::load(&dir.path().join("routes.toml"))
}

fn message(e: ConfigError) -> String {
    format!(
        "{}:{}: {}",
        e.file.file_name().unwrap().to_string_lossy(),
        e.line.unwrap_or(0),
        e.message
    )
}

#[test]
fn shipped_style_config_loads() {
    let cfg = load(ROUTES, &[("realtime-auth.toml", "backend = \"rust\"\n")]).unwrap();
    let id = RouteId::parse("realtime-auth").unwrap();
    assert_eq!(cfg.flag(&id).unwrap().rule, Rule::Fixed(Side::Rust));
    assert!(matches!(cfg.rust, RustBackend::Embedded));
}

#[test]
fn percent_out_of_range_names_file_line_and_range() {
    let e = load(
        ROUTES,
        &[("realtime-auth.toml", "# c\ncanary = { percent = 120 }\n")],
    )
    .unwrap_err();
    assert_eq!(
        message(e),
        "realtime-auth.toml:2: percent = 120 is out of range 0..=100"
    );
}

#[test]
fn flag_for_unknown_route_is_rejected() {
    let e = load(ROUTES, &[("realtime-authh.toml", "backend = \"rust\"\n")]).unwrap_err();
    let m = message(e);
    assert!(
        m.starts_with("realtime-authh.toml:1: no route `realtime-authh`"),
        "{m}"
    );
    assert!(m.contains("known: realtime-auth"), "{m}");
}

#[test]
fn unknown_key_in_flag_is_rejected_with_its_line() {
    let e = load(
        ROUTES,
        &[("realtime-auth.toml", "backend = \"rust\"\npercnt = 5\n")],
    )
    .unwrap_err();
    let m = message(e);
    assert!(
        m.starts_with("realtime-auth.toml:2: unknown field `percnt`"),
        "{m}"
    );
}

#[test]
fn unknown_backend_value_is_rejected() {
    let e = load(ROUTES, &[("realtime-auth.toml", "backend = \"rsut\"\n")]).unwrap_err();
    assert_eq!(
        message(e),
        "realtime-auth.toml:1: backend = \"rsut\" is not \"next\" or \"rust\""
    );
}

#[test]
fn unknown_route_key_is_rejected_with_its_line() {
    let bad = ROUTES.replace("methods = [\"POST\"]", "methods = [\"POST\"]\ntimeout = 3");
    let m = message(load(&bad, &[]).unwrap_err());
    assert!(
        m.starts_with("routes.toml:16: unknown field `timeout`"),
        "{m}"
    );
}

#[test]
fn rust_path_param_must_exist_in_path() {
    let bad = ROUTES.replace(
        "rust_path = \"/chat/realtime/auth\"",
        "rust_path = \"/chat/{id}/auth\"",
    );
    let m = message(load(&bad, &[]).unwrap_err());
    assert!(
        m.contains("rust_path uses `{id}` which path does not capture"),
        "{m}"
    );
}

#[test]
fn unresolvable_backend_is_rejected_at_load() {
    let bad = ROUTES.replace("http://127.0.0.1:3000", "http://no-such-host.invalid:3000");
    let m = message(load(&bad, &[]).unwrap_err());
    assert!(
        m.contains("backends.next.url") && m.contains("cannot resolve"),
        "{m}"
    );
}

#[test]
fn duplicate_route_ids_are_rejected() {
    let dup = format!("{ROUTES}\n[[route]]\nid = \"realtime-auth\"\npath = \"/x\"\n");
    let m = message(load(&dup, &[]).unwrap_err());
    assert!(m.contains("used twice"), "{m}");
}

#[test]
fn content_hash_changes_with_any_flag_file() {
    let dir = tempfile::tempdir().unwrap();
    let routes = dir.path().join("routes.toml");
    std::fs::write(&routes, ROUTES).unwrap();
    std::fs::create_dir(dir.path().join("flags")).unwrap();
    let h1 = ConfigFiles::read(&routes).unwrap().hash;
    std::fs::write(
        dir.path().join("flags/realtime-auth.toml"),
        "backend = \"next\"\n",
    )
    .unwrap();
    let h2 = ConfigFiles::read(&routes).unwrap().hash;
    assert_ne!(h1, h2);
    assert_eq!(h2, ConfigFiles::read(Path::new(&routes)).unwrap().hash);
}

#[test]
fn shadow_route_keys_and_flag_load() {
    let routes = format!(
        "{ROUTES}shadow_writes = \"dry-run\"\ncompare = {{ ignore = [\"/id\"] }}\nfallback = \"next\"\nguard = {{ min_requests = 10 }}\n"
    );
    let cfg = load(
        &routes,
        &[(
            "realtime-auth.toml",
            "shadow = { percent = 10, noise_percent = 5 }\n",
        )],
    )
    .unwrap();
    let id = RouteId::parse("realtime-auth").unwrap();
    let flag = cfg.flag(&id).unwrap();
    assert_eq!(
        flag.rule,
        Rule::Fixed(Side::Next),
        "shadow alone means next"
    );
    assert_eq!(flag.shadow_percent(), 10);
    let rs = cfg.route_shadow(&id).unwrap();
    assert_eq!(rs.shadow.writes, crate::shadow::ShadowWrites::DryRun);
    assert!(rs.fallback.is_some());
    assert_eq!(rs.guard.map(|g| g.min_requests), Some(10));
}

#[test]
fn bad_guard_value_names_file_line_route_and_fix() {
    let routes = format!("{ROUTES}guard = {{ max_p99_ratio = 0.5 }}\n");
    let e = message(load(&routes, &[]).unwrap_err());
    assert!(
        e.starts_with("routes.toml:17: route `realtime-auth`: guard.max_p99_ratio = 0.5"),
        "{e}"
    );
    assert!(e.contains("use a factor such as 1.5"), "{e}");
}

#[test]
fn fallback_budget_without_fallback_is_rejected_at_its_line() {
    let routes = format!("{ROUTES}\nfallback_budget = {{ ratio = 0.1 }}\n");
    let e = message(load(&routes, &[]).unwrap_err());
    assert!(
        e.starts_with("routes.toml:18: route `realtime-auth`: fallback_budget"),
        "{e}"
    );
}

#[test]
fn fallback_non_idempotent_loads_into_the_route_fallback_policy() {
    let routes = format!("{ROUTES}fallback = \"next\"\nfallback_non_idempotent = true\n");
    let cfg = load(&routes, &[]).unwrap();
    let id = RouteId::parse("realtime-auth").unwrap();
    let policy = cfg.route_shadow(&id).unwrap().fallback.unwrap();
    assert_eq!(
        policy.methods,
        crate::fallback::RetryMethods::AlsoNonIdempotent
    );
}

#[test]
fn fallback_non_idempotent_without_fallback_is_rejected_at_its_line() {
    let routes = format!("{ROUTES}guard = {{}}\nfallback_non_idempotent = true\n");
    let e = message(load(&routes, &[]).unwrap_err());
    assert!(
        e.starts_with(
            "routes.toml:18: route `realtime-auth`: fallback_non_idempotent is set but fallback is not; add fallback = \"next\""
        ),
        "{e}"
    );
    assert!(e.contains("or remove fallback_non_idempotent"), "{e}");
}

#[test]
fn bad_shadow_percent_in_a_flag_file_names_its_line() {
    let e = message(
        load(
            ROUTES,
            &[(
                "realtime-auth.toml",
                "backend = \"rust\"\nshadow = { percent = 120 }\n",
            )],
        )
        .unwrap_err(),
    );
    assert!(
        e.starts_with("realtime-auth.toml:2: route `realtime-auth`: shadow.percent = 120 is out of range 0..=100"),
        "{e}"
    );
}

#[test]
fn flag_fingerprint_follows_the_file_content() {
    let a = load(ROUTES, &[("realtime-auth.toml", "backend = \"rust\"\n")]).unwrap();
    let b = load(
        ROUTES,
        &[("realtime-auth.toml", "# edited\nbackend = \"rust\"\n")],
    )
    .unwrap();
    let id = RouteId::parse("realtime-auth").unwrap();
    assert_ne!(
        a.flag(&id).unwrap().fingerprint,
        b.flag(&id).unwrap().fingerprint
    );
}

#[test]
fn trusted_proxies_load_and_a_bad_block_names_its_line_and_fix() {
    let with = |list: &str| {
        ROUTES.replacen(
            "admin_listen = \"127.0.0.1:0\"\n",
            &format!("admin_listen = \"127.0.0.1:0\"\ntrusted_proxies = {list}\n"),
            1,
        )
    };
    let cfg = load(&with(r#"["10.0.0.0/8", "fd00::/8"]"#), &[]).unwrap();
    assert!(
        cfg.live
            .trusted_proxies
            .contains("10.1.2.3".parse().unwrap())
    );
    assert!(load(ROUTES, &[]).unwrap().live.trusted_proxies.is_empty());
    let e = load(&with(r#"["10.0.0.0/8", "10.0.0.1/8"]"#), &[]).unwrap_err();
    let m = message(e);
    assert!(
        m.starts_with("routes.toml:5: server.trusted_proxies:"),
        "{m}"
    );
    assert!(m.contains("\"10.0.0.0/8\""), "{m}");
}

#[test]
fn a_bad_flag_file_keeps_its_routes_last_good_flag_and_blocks_no_other() {
    let routes = format!("{ROUTES}\n[[route]]\nid = \"threads\"\npath = \"/t\"\n");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("routes.toml");
    std::fs::write(&path, &routes).unwrap();
    std::fs::create_dir(dir.path().join("flags")).unwrap();
    let write =
        |name: &str, text: &str| std::fs::write(dir.path().join("flags").join(name), text).unwrap();
    write("realtime-auth.toml", "backend = \"rust\"\n");
    let before = Config::load(&path).unwrap();

    write("realtime-auth.toml", "backnd = \"next\"\n");
    write("threads.toml", "backend = \"rust\"\n");
    write("gone.toml", "backend = \"rust\"\n");
    let files = ConfigFiles::read(&path).unwrap();
    let cfg = Config::from_files(&files, Some(&before)).unwrap();
    let rule = |id: &str| {
        cfg.flag(&crate::route::RouteId::parse(id).unwrap())
            .map(|f| f.rule.clone())
    };
    assert_eq!(rule("realtime-auth"), Some(Rule::Fixed(Side::Rust)), "kept");
    assert_eq!(rule("threads"), Some(Rule::Fixed(Side::Rust)), "applied");
    let problems: Vec<(&str, bool)> = cfg
        .flag_problems
        .iter()
        .map(|p| (p.route.as_str(), p.orphan))
        .collect();
    assert_eq!(problems, [("gone", true), ("realtime-auth", false)]);
    assert!(
        message(cfg.flag_problems[1].error.clone())
            .contains("realtime-auth.toml:1: unknown field `backnd`")
    );
    assert!(
        cfg.flag_problems[1]
            .error
            .message
            .contains("did you mean `backend`?")
    );

    // Without a last good flag (a fresh start) the route has none: next.
    let fresh = Config::from_files(&files, None).unwrap();
    assert!(
        fresh
            .flag(&crate::route::RouteId::parse("realtime-auth").unwrap())
            .is_none()
    );
    // A rejected edit applies nothing new: the applied hash is the same.
    write("threads.toml", "backend = \"rust\"\n");
    std::fs::remove_file(dir.path().join("flags/threads.toml")).unwrap();
    let again = Config::from_files(&ConfigFiles::read(&path).unwrap(), Some(&before)).unwrap();
    assert_eq!(again.applied_hash, before.applied_hash);
    assert_ne!(again.content_hash, before.content_hash);
}

#[test]
fn stream_policy_keys_are_validated_at_their_line() {
    let with = |keys: &str| format!("{ROUTES}kind = \"sse\"\n{keys}\n");
    let cfg = load(&with("streams = \"migrate\"\npace = \"20/s\""), &[]).unwrap();
    let id = crate::route::RouteId::parse("realtime-auth").unwrap();
    assert_eq!(cfg.stream_policy(&id).as_str(), "migrate");
    // No key: keep, as before streams had a policy.
    let cfg = load(ROUTES, &[]).unwrap();
    assert_eq!(cfg.stream_policy(&id), crate::streams::StreamPolicy::Keep);
    let e = message(load(&with("streams = \"drain\""), &[]).unwrap_err());
    assert!(
        e.starts_with("routes.toml:18:") && e.contains("needs max_age"),
        "{e}"
    );
    let e = message(load(&with("streams = \"keep\"\nmax_age = \"1h\""), &[]).unwrap_err());
    assert!(
        e.starts_with("routes.toml:19:") && e.contains("applies to streams = \"drain\" only"),
        "{e}"
    );
}

#[test]
fn client_body_deadline_defaults_and_bounds() {
    let flags = [("realtime-auth.toml", "backend = \"rust\"\n")];
    let cfg = load(ROUTES, &flags).unwrap();
    assert_eq!(cfg.live.client_body_deadline, Duration::from_secs(60));
    assert_eq!(cfg.live.client_body_min_rate, 1024);
    let set = ROUTES.replace(
        "admin_listen = \"127.0.0.1:0\"\n",
        "admin_listen = \"127.0.0.1:0\"\nclient_body_deadline_seconds = 5\nclient_body_min_bytes_per_second = 0\n",
    );
    let cfg = load(&set, &flags).unwrap();
    assert_eq!(cfg.live.client_body_deadline, Duration::from_secs(5));
    assert_eq!(cfg.live.client_body_min_rate, 0);
    let zero = ROUTES.replace(
        "admin_listen = \"127.0.0.1:0\"\n",
        "admin_listen = \"127.0.0.1:0\"\nclient_body_deadline_seconds = 0\n",
    );
    assert_eq!(
        message(load(&zero, &flags).unwrap_err()),
        "routes.toml:5: client_body_deadline_seconds must be in 1..=86400 (default 60)"
    );
}
