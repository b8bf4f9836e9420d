use super::*;
use serde::Deserialize;
use std::time::Duration;

/// Stands in for the lead's raw route: the same seven keys, moved out whole.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Route {
    shadow_writes: Option<RawShadowWrites>,
    shadow_limits: Option<RawShadowLimits>,
    compare: Option<RawCompare>,
    fallback: Option<RawFallbackTarget>,
    fallback_budget: Option<RawFallbackBudget>,
    fallback_non_idempotent: Option<bool>,
    guard: Option<RawGuard>,
}

fn route(toml_text: &str) -> Result<RouteShadowConfig> {
    let r: Route = toml::from_str(toml_text).expect("test TOML parses");
    RouteShadowConfig::try_from(RawRouteShadowKeys {
        shadow_writes: r.shadow_writes,
        shadow_limits: r.shadow_limits,
        compare: r.compare,
        fallback: r.fallback,
        fallback_budget: r.fallback_budget,
        fallback_non_idempotent: r.fallback_non_idempotent,
        guard: r.guard,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Flag {
    shadow: RawShadowFlag,
}

fn flag(toml_text: &str) -> Result<ShadowFlag> {
    let f: Flag = toml::from_str(toml_text).expect("test TOML parses");
    ShadowFlag::try_from(f.shadow)
}

#[test]
fn empty_route_gets_the_defaults() {
    let c = route("").unwrap();
    assert_eq!(
        c.shadow,
        ShadowRoute {
            policy: ComparePolicy {
                ignore: vec![],
                headers: vec!["content-type".into()]
            },
            ..ShadowRoute::default()
        }
    );
    assert_eq!(c.fallback, None);
    assert_eq!(c.guard, None);
}

#[test]
fn full_route_example_parses() {
    let c = route(
        r#"
        shadow_writes = "dry-run"
        shadow_limits = { timeout = "500ms", queue = 16, max_request_body_bytes = 1024 }
        compare = { ignore = ["/id", "**/createdAt"], headers = ["Content-Type", "cache-control"], max_body_bytes = 2048 }
        fallback = "next"
        fallback_budget = { ratio = 0.1, window = "2m" }
        fallback_non_idempotent = true
        guard = { max_error_ratio_delta = 0.05, max_p99_ratio = 2.0, min_requests = 10, window = "1h" }
        "#,
    )
    .unwrap();
    assert_eq!(c.shadow.writes, ShadowWrites::DryRun);
    assert_eq!(c.shadow.timeout, Duration::from_millis(500));
    assert_eq!(
        (c.shadow.queue, c.shadow.max_request_body_bytes),
        (16, 1024)
    );
    assert_eq!(c.shadow.max_response_body_bytes, 2048);
    assert_eq!(c.shadow.policy.headers, ["content-type", "cache-control"]);
    assert_eq!(c.shadow.policy.ignore.len(), 2);
    assert_eq!(
        c.fallback,
        Some(BudgetPolicy {
            ratio: 0.1,
            window: Duration::from_secs(120),
            methods: RetryMethods::AlsoNonIdempotent,
        })
    );
    let g = c.guard.unwrap();
    assert_eq!(
        (g.max_error_ratio_delta, g.max_p99_ratio, g.min_requests),
        (0.05, 2.0, 10)
    );
    assert_eq!(g.window, Duration::from_secs(3600));
}

#[test]
fn fallback_alone_gets_the_default_budget_and_guard_its_defaults() {
    let c = route("fallback = \"next\"\nguard = {}").unwrap();
    assert_eq!(c.fallback, Some(BudgetPolicy::default()));
    let g = c.guard.unwrap();
    assert_eq!(
        (g.max_error_ratio_delta, g.max_p99_ratio, g.min_requests),
        (0.02, 1.5, 50)
    );
    assert_eq!(g.window, Duration::from_secs(300));
}

#[test]
fn fallback_non_idempotent_lets_the_route_retry_post_and_patch() {
    let methods = |t: &str| route(t).unwrap().fallback.map(|p| p.methods);
    assert_eq!(
        methods("fallback = \"next\"\nfallback_non_idempotent = true"),
        Some(RetryMethods::AlsoNonIdempotent)
    );
    assert_eq!(
        methods("fallback = \"next\"\nfallback_non_idempotent = false"),
        Some(RetryMethods::Idempotent)
    );
    assert_eq!(
        methods("fallback = \"next\""),
        Some(RetryMethods::Idempotent),
        "default: idempotent methods only"
    );
}

fn err(toml_text: &str) -> String {
    match route(toml_text) {
        Ok(c) => panic!("expected an error, got {c:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn invalid_route_values_name_the_key_and_the_fix() {
    let cases = [
        (
            "fallback_budget = { ratio = 0.05 }",
            "fallback_budget is set but fallback is not; add fallback = \"next\"",
        ),
        (
            "fallback_non_idempotent = true",
            "fallback_non_idempotent is set but fallback is not; add fallback = \"next\"",
        ),
        (
            "fallback_non_idempotent = false",
            "or remove fallback_non_idempotent",
        ),
        (
            "fallback = \"next\"\nfallback_budget = { ratio = 1.5 }",
            "fallback_budget.ratio = 1.5 is out of range (0, 1]",
        ),
        (
            "guard = { max_p99_ratio = 0.5 }",
            "guard.max_p99_ratio = 0.5 is out of range 1..=100",
        ),
        (
            "guard = { max_error_ratio_delta = -1.0 }",
            "guard.max_error_ratio_delta = -1 is out of range 0..=1",
        ),
        (
            "guard = { min_requests = 0 }",
            "guard.min_requests = 0 is out of range 1..",
        ),
        (
            "guard = { window = \"5 minutes\" }",
            "guard.window = \"5 minutes\" is not a duration",
        ),
        (
            "guard = { window = \"0s\" }",
            "guard.window = \"0s\" is out of range 1s..=24h",
        ),
        (
            "shadow_limits = { max_request_body_bytes = 100000 }",
            "Pingora replays at most 64 KiB",
        ),
        (
            "shadow_limits = { queue = 0 }",
            "shadow_limits.queue = 0 is out of range 1..=10000",
        ),
        (
            "compare = { ignore = [\"items/*\"] }",
            "compare.ignore[0]: ignore path \"items/*\" must start with '/'",
        ),
        (
            "compare = { headers = [\"bad header\"] }",
            "compare.headers[0] = \"bad header\" is not a valid header name",
        ),
        (
            "compare = { max_body_bytes = 0 }",
            "compare.max_body_bytes = 0 is out of range 1..=16777216",
        ),
    ];
    for (input, want) in cases {
        let got = err(input);
        assert!(got.contains(want), "{input}\n  got:  {got}\n  want: {want}");
    }
}

#[test]
fn unknown_keys_and_values_are_rejected_by_serde() {
    assert!(toml::from_str::<Route>("shadow_writes = \"on\"").is_err());
    assert!(toml::from_str::<Route>("fallback = \"rust\"").is_err());
    assert!(toml::from_str::<Route>("fallback_non_idempotent = \"yes\"").is_err());
    assert!(toml::from_str::<Route>("guard = { windw = \"5m\" }").is_err());
    assert!(toml::from_str::<Flag>("shadow = { percent = 5, nosie_percent = 1 }").is_err());
}

#[test]
fn shadow_flag_percentages_are_checked() {
    assert_eq!(
        flag("shadow = { percent = 25 }").unwrap(),
        ShadowFlag {
            percent: 25,
            noise_percent: 10
        }
    );
    assert_eq!(
        flag("shadow = { percent = 100, noise_percent = 0 }")
            .unwrap()
            .noise_percent,
        0
    );
    let e = flag("shadow = { percent = 120 }").unwrap_err().to_string();
    assert_eq!(
        e,
        "shadow.percent = 120 is out of range 0..=100; use a whole number of percent from 0 to 100"
    );
    let e = flag("shadow = { percent = 5, noise_percent = -1 }")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("shadow.noise_percent = -1 is out of range"),
        "{e}"
    );
}

#[test]
fn durations_need_a_whole_number_and_a_unit() {
    assert_eq!(parse_duration("250ms"), Some(Duration::from_millis(250)));
    assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
    assert_eq!(parse_duration("2h"), Some(Duration::from_secs(7200)));
    for bad in ["5", "s", "1.5s", "-1s", "5 m", "5d"] {
        assert_eq!(parse_duration(bad), None, "{bad}");
    }
}
