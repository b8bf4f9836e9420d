use super::*;

fn connect_refused() -> Failure {
    Failure {
        kind: "connect",
        reason: "cannot connect (ConnectRefused)".into(),
        down: true,
    }
}

#[test]
fn unreachable_backend_is_down_with_its_reason_and_up_after_a_response() {
    let h = Health::new();
    h.configure(Backend::Next, false);
    assert_eq!(h.state(Backend::Next).0, State::Unknown);
    h.failure(Backend::Next, connect_refused(), 100);
    assert_eq!(
        h.state(Backend::Next),
        (State::Down, Some("cannot connect (ConnectRefused)".into()))
    );
    assert_eq!(
        h.unhealthy(),
        vec![("next", "cannot connect (ConnectRefused)".into())]
    );
    h.success(Backend::Next, 105);
    assert_eq!(h.state(Backend::Next).0, State::Up);
    assert!(h.unhealthy().is_empty());
    let j = h.to_json();
    assert_eq!(j["next"]["since"], 105);
    assert_eq!(j["next"]["last_error"]["kind"], "connect");
}

#[test]
fn a_slow_response_is_recorded_but_does_not_mark_the_backend_down() {
    let h = Health::new();
    h.configure(Backend::Rust, false);
    h.success(Backend::Rust, 1);
    h.failure(
        Backend::Rust,
        Failure {
            kind: "timeout",
            reason: "response timed out".into(),
            down: false,
        },
        2,
    );
    assert_eq!(h.state(Backend::Rust).0, State::Up);
    assert_eq!(h.to_json()["rust"]["last_error"]["kind"], "timeout");
}

#[test]
fn with_an_active_check_only_the_check_marks_the_backend_up() {
    let h = Health::new();
    h.configure(Backend::Database, true);
    h.probed(Backend::Database, Err("database unreachable: x".into()), 10);
    h.success(Backend::Database, 11);
    assert_eq!(h.state(Backend::Database).0, State::Down);
    h.probed(Backend::Database, Ok(()), 12);
    assert_eq!(h.state(Backend::Database).0, State::Up);
    assert_eq!(h.to_json()["database"]["last_probe"]["ok"], true);
}

#[test]
fn backends_not_configured_are_left_out_of_json_and_metrics() {
    let h = Health::new();
    h.configure(Backend::Next, false);
    h.failure(Backend::Soketi, connect_refused(), 1);
    let j = h.to_json();
    assert!(j.get("soketi").is_none());
    assert_eq!(j["next"]["state"], "unknown");
    let g = prometheus::IntGaugeVec::new(prometheus::Opts::new("g", "g"), &["backend"]).unwrap();
    h.failure(Backend::Next, connect_refused(), 2);
    h.export(&g);
    assert_eq!(g.with_label_values(&["next"]).get(), 0);
    // Only `next` has a series: soketi is not configured.
    let families = {
        let r = prometheus::Registry::new();
        r.register(Box::new(g.clone())).unwrap();
        r.gather()
    };
    let series: usize = families.iter().map(|f| f.get_metric().len()).sum();
    assert_eq!(series, 1);
}

#[test]
fn errors_older_than_the_window_are_not_counted() {
    let h = Health::new();
    h.configure(Backend::Next, false);
    h.failure(Backend::Next, connect_refused(), 0);
    h.failure(Backend::Next, connect_refused(), ERROR_WINDOW_SECS + 1);
    let e = h.entry(Backend::Next);
    assert_eq!(e.errors_recent(ERROR_WINDOW_SECS + 1), 1);
}
