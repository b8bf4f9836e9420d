use std::time::Duration;

use crate::config::{Config, RustBackend};

fn load(next_extra: &str, rust: &str, server_extra: &str) -> Result<Config, String> {
    let routes = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nadmin_listen = \"127.0.0.1:0\"\n{server_extra}\n\n\
         [backends.next]\nurl = \"http://127.0.0.1:3000\"\n{next_extra}\n\n\
         [backends.rust]\n{rust}\n"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("routes.toml"), routes).unwrap();
    std::fs::create_dir(dir.path().join("flags")).unwrap();
    Config::load(&dir.path().join("routes.toml"))
        .map_err(|e| format!("{}: {}", e.line.unwrap_or(0), e.message))
}

#[test]
fn health_path_gets_default_interval_and_timeout() {
    let cfg = load("health_path = \"/api/health\"", "url = \"embedded\"", "").unwrap();
    let check = cfg.next.0.health.unwrap();
    assert_eq!(check.path, "/api/health");
    assert_eq!(check.interval, Duration::from_millis(5_000));
    assert_eq!(check.timeout, Duration::from_millis(2_000));
}

#[test]
fn health_path_must_be_a_path_and_its_timing_in_range() {
    let e = load("health_path = \"api/health\"", "url = \"embedded\"", "").unwrap_err();
    assert!(e.starts_with("8: backends.next.health_path"), "{e}");
    let e = load(
        "health_path = \"/h\"\nhealth_interval_ms = 50",
        "url = \"embedded\"",
        "",
    )
    .unwrap_err();
    assert!(
        e.contains("health_interval_ms must be in 100..=300000"),
        "{e}"
    );
    let e = load(
        "health_path = \"/h\"\nhealth_interval_ms = 1000\nhealth_timeout_ms = 2000",
        "url = \"embedded\"",
        "",
    )
    .unwrap_err();
    assert!(
        e.contains("health_timeout_ms must be in 1..=health_interval_ms (1000)"),
        "{e}"
    );
    let e = load("health_interval_ms = 1000", "url = \"embedded\"", "").unwrap_err();
    assert!(e.contains("need health_path"), "{e}");
}

#[test]
fn health_keys_on_embedded_rust_are_refused_but_allowed_on_a_remote_one() {
    let e = load("", "url = \"embedded\"\nhealth_path = \"/h\"", "").unwrap_err();
    assert!(e.contains("backends.rust: health_* keys need a URL"), "{e}");
    let cfg = load(
        "",
        "url = \"http://127.0.0.1:4000\"\nhealth_path = \"/h\"",
        "",
    )
    .unwrap();
    let RustBackend::Remote(up) = cfg.rust else {
        panic!("remote rust expected");
    };
    assert_eq!(up.health.unwrap().path, "/h");
}

#[test]
fn instance_is_literal_or_from_the_environment_and_must_be_a_header_value() {
    let cfg = load("", "url = \"embedded\"", "instance = \"replica-1\"").unwrap();
    assert_eq!(cfg.live.instance.as_deref(), Some("replica-1"));
    assert_eq!(
        load("", "url = \"embedded\"", "").unwrap().live.instance,
        None
    );
    // HOME is set in any test environment (and short).
    let home = std::env::var("HOME").unwrap();
    assert_eq!(super::instance("x-${HOME}").unwrap(), format!("x-{home}"));
    let e = super::instance("${CUTOVER_TEST_SURELY_UNSET_VAR}").unwrap_err();
    assert!(
        e.contains("CUTOVER_TEST_SURELY_UNSET_VAR is not set"),
        "{e}"
    );
    assert!(super::instance("two\nlines").is_err());
    assert!(super::instance("").is_err());
    assert!(super::instance("${HOSTNAME").is_err());
}
