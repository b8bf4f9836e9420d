//! The dashboards and alerts in `dashboards/` are checked by the real
//! `promtool` (Debian package `prometheus`): the rules files pass
//! `promtool check rules`, every alert has firing and silent unit tests that
//! pass `promtool test rules`, every dashboard expression parses, and every
//! metric they use is one `src/metrics.rs` defines.

#[path = "common/promql.rs"]
mod promql;

use promql::{Expr, base_metric, metric_names};
use std::collections::BTreeSet;
use std::process::Command;

/// The metrics cutover exports (issue 2 and issue 6); `src/metrics.rs` holds each.
const DOCUMENTED: [&str; 26] = [
    "cutover_requests_total",
    "cutover_request_duration_seconds",
    "cutover_upstream_errors_total",
    "cutover_config_reloads_total",
    "cutover_config_generation",
    "cutover_config_last_success_timestamp_seconds",
    "cutover_flag_file_valid",
    "cutover_route_backend",
    "cutover_route_canary_percent",
    "cutover_auth_total",
    "cutover_cap_rejections_total",
    "cutover_cap_collapsed_total",
    "cutover_cap_cache_hits_total",
    "cutover_inflight",
    "cutover_breaker_state",
    "cutover_cap_store_fallbacks_total",
    "cutover_shadow_requests_total",
    "cutover_shadow_compared_total",
    "cutover_shadow_mismatches_total",
    "cutover_fallbacks_total",
    "cutover_guard_tripped",
    "cutover_stage",
    "cutover_backend_up",
    "cutover_flags_fingerprint",
    "cutover_open_streams",
    "cutover_stream_migrations_total",
];

fn promtool(args: &[&str]) -> String {
    let out = Command::new("promtool")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| {
            panic!("promtool not runnable ({e}); install it: apt-get install prometheus")
        });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "promtool {} failed:\n{text}",
        args.join(" ")
    );
    text
}

fn paths(files: Vec<std::path::PathBuf>) -> Vec<String> {
    assert!(!files.is_empty(), "no files found");
    files
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn rules_files_pass_promtool_check() {
    let files = paths(promql::rule_files());
    let mut args = vec!["check", "rules"];
    args.extend(files.iter().map(String::as_str));
    promtool(&args);
}

#[test]
fn rule_unit_tests_pass_promtool_test() {
    let files = paths(promql::rule_test_files());
    let mut args = vec!["test", "rules"];
    args.extend(files.iter().map(String::as_str));
    let out = promtool(&args);
    assert!(out.contains("SUCCESS"), "{out}");
}

#[test]
fn every_alert_has_a_firing_and_a_silent_unit_test() {
    let alerts: BTreeSet<String> = promql::all_expressions()
        .iter()
        .filter_map(|e| e.source.split(" alert ").nth(1).map(str::to_string))
        .collect();
    assert!(
        alerts.len() >= 6,
        "expected the six alerts, found {alerts:?}"
    );
    let (mut fires, mut silent) = (BTreeSet::new(), BTreeSet::new());
    for file in promql::rule_test_files() {
        let doc = promql::read_yaml(&file);
        for test in doc["tests"].as_sequence().into_iter().flatten() {
            for case in test["alert_rule_test"].as_sequence().into_iter().flatten() {
                let name = case["alertname"].as_str().unwrap_or_default().to_string();
                let expected = case["exp_alerts"]
                    .as_sequence()
                    .map(|s| s.len())
                    .unwrap_or(0);
                if expected > 0 {
                    fires.insert(name)
                } else {
                    silent.insert(name)
                };
            }
        }
    }
    for a in &alerts {
        assert!(
            fires.contains(a),
            "alert {a} has no unit test where it fires"
        );
        assert!(
            silent.contains(a),
            "alert {a} has no unit test where it stays silent"
        );
    }
}

#[test]
fn every_dashboard_expression_parses() {
    // promtool parses PromQL when checking rules: wrap each expression as one.
    let exprs: Vec<Expr> = promql::dashboard_files()
        .iter()
        .flat_map(|p| promql::dashboard_exprs(p))
        .collect();
    assert!(
        exprs.len() > 20,
        "dashboard has only {} expressions",
        exprs.len()
    );
    let mut rules = String::from("groups:\n  - name: dashboard-expressions\n    rules:\n");
    for (i, e) in exprs.iter().enumerate() {
        let quoted = serde_json::to_string(&e.runnable()).expect("a string serialises");
        rules.push_str(&format!(
            "      - record: dashboard:expr_{i}\n        expr: {quoted}\n"
        ));
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("dashboard.rules.yml");
    std::fs::write(&file, rules).expect("write temp rules");
    promtool(&["check", "rules", &file.to_string_lossy()]);
}

#[test]
fn dashboard_is_importable_with_a_datasource_input_and_a_route_variable() {
    for path in promql::dashboard_files() {
        let d = promql::read_json(&path);
        let inputs = d["__inputs"].as_array().cloned().unwrap_or_default();
        assert!(
            inputs
                .iter()
                .any(|i| i["name"] == "DS_PROMETHEUS" && i["pluginId"] == "prometheus"),
            "{}: needs an __inputs entry DS_PROMETHEUS",
            path.display()
        );
        let vars = promql::dashboard_variable_queries(&path);
        assert!(
            vars.iter()
                .any(|q| q.starts_with("label_values(") && q.ends_with(", route)")),
            "{vars:?}"
        );
        let mut ids = BTreeSet::new();
        for p in d["panels"].as_array().into_iter().flatten() {
            assert!(
                ids.insert(p["id"].as_u64()),
                "duplicate panel id {}",
                p["id"]
            );
            if p["type"] != "row" {
                assert_eq!(
                    p["datasource"]["uid"], "${DS_PROMETHEUS}",
                    "panel {}",
                    p["title"]
                );
                let targets = p["targets"].as_array().map(|t| t.len()).unwrap_or(0);
                assert!(targets > 0, "panel {} has no query", p["title"]);
            }
        }
    }
}

/// Every name the dashboards and rules read, recording-rule names excepted.
fn used_metrics() -> BTreeSet<String> {
    let recorded = promql::recorded_names();
    let mut texts: Vec<(String, String)> = promql::all_expressions()
        .into_iter()
        .map(|e| (e.source, e.expr))
        .collect();
    for p in promql::dashboard_files() {
        texts.extend(
            promql::dashboard_variable_queries(&p)
                .into_iter()
                .map(|q| ("variable".to_string(), q)),
        );
    }
    let mut used = BTreeSet::new();
    for (source, text) in texts {
        for name in metric_names(&text) {
            if name.contains(':') {
                assert!(
                    recorded.contains(&name),
                    "{source}: {name} is not a recording rule"
                );
            } else if !recorded.contains(&name) {
                used.insert(name);
            }
        }
    }
    used
}

fn known(name: &str, set: &dyn Fn(&str) -> bool) -> bool {
    set(name) || set(base_metric(name))
}

#[test]
fn dashboards_use_only_documented_metrics_and_all_of_them() {
    let used = used_metrics();
    for name in &used {
        assert!(
            known(name, &|n| DOCUMENTED.contains(&n)),
            "{name} is not a documented cutover metric"
        );
    }
    let bases: BTreeSet<&str> = used.iter().map(|n| base_metric(n)).collect();
    for name in DOCUMENTED {
        assert!(bases.contains(name), "no panel or rule shows {name}");
    }
}

/// Fails until `src/metrics.rs` (issue 2) is merged: it reads the file at test time.
#[test]
fn every_metric_the_dashboards_use_is_defined_in_metrics_rs() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/metrics.rs");
    let source =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let missing: Vec<String> = used_metrics()
        .into_iter()
        .filter(|n| !known(n, &|m| source.contains(&format!("\"{m}\""))))
        .collect();
    assert!(
        missing.is_empty(),
        "not a string literal in src/metrics.rs: {missing:?}"
    );
}

#[test]
fn metric_names_skip_strings_functions_labels_and_variables() {
    let names = metric_names(
        r#"sum by (route) (rate(cutover_requests_total{route=~"$route",x="cutover_fake"}[5m])) / on(route) a:b:c offset 1m"#,
    );
    let want: BTreeSet<String> = ["a:b:c", "cutover_requests_total"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(names, want);
}
