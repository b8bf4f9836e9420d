//! Tests of the cap config tables: parsers, defaults, errors naming the fix,
//! and the commented example block parsing as documented.

use std::time::Duration;

use serde::Deserialize;

use super::{CapConfigError, RawCap, RawCaps, parse_duration, parse_rate};
use crate::cap::{CapPolicy, CapStore, CapsConfig};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    caps: RawCaps,
    route: Vec<Route>,
}

#[derive(Deserialize)]
struct Route {
    #[allow(dead_code)]
    id: String,
    cap: Option<RawCap>,
}

/// The block from the module docs, as the lead pastes it into routes.toml.
fn example() -> String {
    let doc = include_str!("../cap.rs");
    let start = doc.find("//! ```toml").expect("example block");
    let block = &doc[start..];
    let end = block[3..].find("//! ```").expect("end of example") + 3;
    block[..end]
        .lines()
        .skip(1)
        .map(|line| {
            line.strip_prefix("//!")
                .unwrap_or(line)
                .strip_prefix(' ')
                .unwrap_or("")
        })
        .map(|line| format!("{line}\n"))
        .collect::<String>()
        .replace("# …\n", "")
}

fn cap(toml_text: &str) -> Result<CapPolicy, CapConfigError> {
    let raw: RawCap = toml::from_str(toml_text).expect("valid toml");
    CapPolicy::try_from(raw)
}

#[test]
fn documented_example_parses_into_the_documented_values() {
    let file: File = toml::from_str(&example()).expect("example parses");
    let caps = CapsConfig::try_from(file.caps).expect("valid [caps]");
    assert_eq!(caps.store, CapStore::Memory);
    let raw = file
        .route
        .into_iter()
        .next()
        .and_then(|r| r.cap)
        .expect("cap");
    let policy = CapPolicy::try_from(raw).expect("valid cap");
    let client = policy.per_client.expect("per_client");
    assert_eq!(client.rate.emission_interval(), Duration::from_millis(500));
    assert_eq!(client.burst.get(), 10);
    assert_eq!(policy.per_channel.map(|r| r.count.get()), Some(5));
    assert!(policy.collapse);
    assert_eq!(policy.cache_ttl, Duration::from_secs(2));
    assert_eq!(policy.max_inflight.map(|n| n.get()), Some(64));
    assert_eq!(policy.queue_timeout, Duration::from_millis(50));
    let breaker = policy.breaker.expect("breaker");
    assert_eq!((breaker.error_ratio, breaker.min_requests.get()), (0.5, 20));
    assert_eq!(
        (breaker.window, breaker.cooldown),
        (Duration::from_secs(10), Duration::from_secs(5))
    );
    assert_eq!(policy.retry_after, Duration::from_secs(1));
}

#[test]
fn empty_cap_table_caps_nothing() {
    assert_eq!(cap("").expect("valid"), CapPolicy::default());
}

#[test]
fn burst_defaults_to_the_rate_count() {
    let policy = cap(r#"per_client = "5/s""#).expect("valid");
    assert_eq!(policy.per_client.map(|c| c.burst.get()), Some(5));
}

#[test]
fn durations_are_parsed_strictly() {
    assert_eq!(parse_duration("k", "500ms"), Ok(Duration::from_millis(500)));
    assert_eq!(parse_duration("k", "2m"), Ok(Duration::from_secs(120)));
    for bad in [
        "",
        "10",
        "s",
        "1.5s",
        "-1s",
        " 1s",
        "1 s",
        "1sec",
        "+1s",
        "99999999999999999999h",
    ] {
        assert!(parse_duration("k", bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn rates_are_parsed_strictly() {
    assert_eq!(
        parse_rate("k", "20/10s").map(|r| r.per),
        Ok(Duration::from_secs(10))
    );
    assert_eq!(
        parse_rate("k", "5/s").map(|r| r.per),
        Ok(Duration::from_secs(1))
    );
    for bad in [
        "20",
        "0/s",
        "20/0s",
        "/s",
        "20/",
        "x/s",
        "20/10",
        "20 /s",
        "2000000/1ms",
    ] {
        assert!(parse_rate("k", bad).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn bad_rate_error_names_the_key_and_the_format() {
    let error = cap(r#"per_client = "20 per 10s""#)
        .expect_err("bad")
        .to_string();
    assert!(error.contains("cap.per_client"), "{error}");
    assert!(error.contains("\"20/10s\""), "{error}");
}

#[test]
fn burst_without_per_client_is_rejected_with_the_fix() {
    let error = cap("burst = 10").expect_err("bad").to_string();
    assert!(
        error.contains("cap.burst") && error.contains("add per_client"),
        "{error}"
    );
}

#[test]
fn cache_without_collapse_is_rejected_with_the_fix() {
    let error = cap("cache_ttl_ms = 2000").expect_err("bad").to_string();
    assert!(error.contains("set collapse = true"), "{error}");
}

#[test]
fn out_of_range_values_are_rejected() {
    for bad in [
        "max_inflight = 0",
        "queue_timeout_ms = 60000",
        "cache_ttl_ms = 600000\ncollapse = true",
        r#"per_channel = "5000/10s""#,
        r#"retry_after = "0s""#,
        "breaker = { error_ratio = 1.5 }",
        "breaker = { probes = 0 }",
    ] {
        assert!(
            matches!(cap(bad), Err(CapConfigError::OutOfRange { .. })),
            "{bad:?} accepted"
        );
    }
}

#[test]
fn unknown_cap_keys_are_rejected() {
    assert!(toml::from_str::<RawCap>("per_clients = \"1/s\"").is_err());
    assert!(toml::from_str::<RawCap>("breaker = { ratio = 0.5 }").is_err());
}

#[test]
fn redis_store_gets_defaults() {
    let raw: RawCaps = toml::from_str(r#"store = "redis://127.0.0.1:6379/0""#).expect("toml");
    let CapStore::Redis(redis) = CapsConfig::try_from(raw).expect("valid").store else {
        panic!("not redis");
    };
    assert_eq!(redis.timeout, Duration::from_millis(5));
    assert_eq!(redis.retry_after, Duration::from_secs(1));
    assert_eq!(redis.key_prefix, "cutover:cap:");
}

#[test]
fn bad_store_is_rejected_without_echoing_the_password() {
    let raw: RawCaps = toml::from_str(r#"store = "mongodb://u:hunter2@db""#).expect("toml");
    let error = CapsConfig::try_from(raw).expect_err("bad").to_string();
    assert!(
        error.contains("caps.store") && !error.contains("hunter2"),
        "{error}"
    );
}

#[test]
fn redis_settings_are_ignored_with_the_memory_store() {
    let raw: RawCaps = toml::from_str("redis_timeout_ms = 5").expect("toml");
    assert_eq!(
        CapsConfig::try_from(raw).map(|c| c.store),
        Ok(CapStore::Memory)
    );
}

#[test]
fn debug_output_hides_the_redis_password() {
    let raw: RawCaps = toml::from_str(r#"store = "redis://u:hunter2@h:6379/0""#).expect("toml");
    assert!(!format!("{raw:?}").contains("hunter2"));
    let config = CapsConfig::try_from(raw).expect("valid");
    assert!(!format!("{config:?}").contains("hunter2"));
}
