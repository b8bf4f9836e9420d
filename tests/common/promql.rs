//! Every PromQL expression in `dashboards/` (the Grafana JSON and the rules
//! files), and the metric names each one uses. Shared by `tests/dashboards.rs`
//! (promtool, metric names) and the real-Prometheus scrape test, which runs
//! each `Expr::runnable()` through the HTTP API. Include with
//! `#[path = "common/promql.rs"] mod promql;`.
#![allow(dead_code)]

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// One PromQL expression and where it came from.
#[derive(Debug, Clone)]
pub struct Expr {
    /// e.g. `cutover.json panel "Request rate" A` or `cutover.rules.yml alert CutoverGuardTripped`.
    pub source: String,
    /// As written (may hold Grafana variables like `$route`).
    pub expr: String,
}

impl Expr {
    /// The expression with Grafana variables replaced so Prometheus can run it.
    pub fn runnable(&self) -> String {
        substitute_grafana_vars(&self.expr)
    }
}

pub fn dashboards_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards")
}

fn files_with_suffix(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    out.sort();
    out
}

/// `dashboards/*.json`.
pub fn dashboard_files() -> Vec<PathBuf> {
    files_with_suffix(&dashboards_dir(), ".json")
}

/// `dashboards/*.rules.yml`.
pub fn rule_files() -> Vec<PathBuf> {
    files_with_suffix(&dashboards_dir(), ".rules.yml")
}

/// `dashboards/tests/*.test.yml`.
pub fn rule_test_files() -> Vec<PathBuf> {
    files_with_suffix(&dashboards_dir().join("tests"), ".test.yml")
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub fn read_json(p: &Path) -> Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", p.display()))
}

pub fn read_yaml(p: &Path) -> serde_yaml::Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{} is not YAML: {e}", p.display()))
}

/// Panel targets (rows included) and annotation queries of one dashboard.
pub fn dashboard_exprs(path: &Path) -> Vec<Expr> {
    let dash = read_json(path);
    let name = file_name(path);
    let mut out = Vec::new();
    let mut panels: Vec<&Value> = Vec::new();
    for p in dash["panels"].as_array().into_iter().flatten() {
        panels.push(p);
        panels.extend(p["panels"].as_array().into_iter().flatten());
    }
    for p in panels {
        let title = p["title"].as_str().unwrap_or("?");
        for t in p["targets"].as_array().into_iter().flatten() {
            if let Some(e) = t["expr"].as_str() {
                let source = format!(
                    "{name} panel {title:?} {}",
                    t["refId"].as_str().unwrap_or("")
                );
                out.push(Expr {
                    source,
                    expr: e.to_string(),
                });
            }
        }
    }
    for a in dash["annotations"]["list"].as_array().into_iter().flatten() {
        if let Some(e) = a["expr"].as_str() {
            let source = format!("{name} annotation {:?}", a["name"].as_str().unwrap_or("?"));
            out.push(Expr {
                source,
                expr: e.to_string(),
            });
        }
    }
    out
}

/// The `expr` of every recording and alerting rule of one rules file.
pub fn rule_exprs(path: &Path) -> Vec<Expr> {
    let doc = read_yaml(path);
    let name = file_name(path);
    let mut out = Vec::new();
    for group in doc["groups"].as_sequence().into_iter().flatten() {
        for rule in group["rules"].as_sequence().into_iter().flatten() {
            let what = match (rule["record"].as_str(), rule["alert"].as_str()) {
                (Some(r), _) => format!("record {r}"),
                (_, Some(a)) => format!("alert {a}"),
                _ => "rule ?".to_string(),
            };
            if let Some(e) = rule["expr"].as_str() {
                out.push(Expr {
                    source: format!("{name} {what}"),
                    expr: e.trim().to_string(),
                });
            }
        }
    }
    out
}

/// Names defined by `record:` in the rules files.
pub fn recorded_names() -> BTreeSet<String> {
    rule_files()
        .iter()
        .flat_map(|p| {
            let doc = read_yaml(p);
            let mut names = Vec::new();
            for group in doc["groups"].as_sequence().into_iter().flatten() {
                for rule in group["rules"].as_sequence().into_iter().flatten() {
                    names.extend(rule["record"].as_str().map(str::to_string));
                }
            }
            names
        })
        .collect()
}

/// Every PromQL expression in the dashboards and the rules.
pub fn all_expressions() -> Vec<Expr> {
    let mut out: Vec<Expr> = dashboard_files()
        .iter()
        .flat_map(|p| dashboard_exprs(p))
        .collect();
    out.extend(rule_files().iter().flat_map(|p| rule_exprs(p)));
    out
}

/// `$route` → `.*`, `$__rate_interval` → `1m`, `$__interval` → `30s`, `$__range` → `5m`.
pub fn substitute_grafana_vars(expr: &str) -> String {
    expr.replace("${route}", ".*")
        .replace("$route", ".*")
        .replace("${instance}", ".*")
        .replace("$instance", ".*")
        .replace("$__rate_interval", "1m")
        .replace("$__interval", "30s")
        .replace("$__range", "5m")
}

/// Metric and recording-rule names an expression reads: identifiers outside
/// strings that are not PromQL functions, keywords, label names or variables.
/// Kept: names starting `cutover_` and names with a `:` (recording rules).
pub fn metric_names(expr: &str) -> BTreeSet<String> {
    let chars: Vec<char> = expr.chars().collect();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '"' || c == '\'' || c == '`' {
            i += 1;
            while i < chars.len() && chars[i] != c {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '$' {
            i += 1;
            while i < chars.len() && (chars[i].is_alphanumeric() || "_{}".contains(chars[i])) {
                i += 1;
            }
        } else if c.is_ascii_digit() {
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '.' || chars[i] == '_')
            {
                i += 1;
            }
        } else if c.is_alphabetic() || c == '_' || c == ':' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == ':')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if word.starts_with("cutover_") || word.contains(':') {
                names.insert(word);
            }
        } else {
            i += 1;
        }
    }
    names
}

/// A histogram's series name → the metric's base name.
pub fn base_metric(name: &str) -> &str {
    ["_bucket", "_sum", "_count"]
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .unwrap_or(name)
}

/// The `label_values(…)` / query strings of a dashboard's template variables
/// (not PromQL, but they name metrics too).
pub fn dashboard_variable_queries(path: &Path) -> Vec<String> {
    let dash = read_json(path);
    dash["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| {
            v["definition"]
                .as_str()
                .or(v["query"]["query"].as_str())
                .or(v["query"].as_str())
        })
        .map(str::to_string)
        .collect()
}
