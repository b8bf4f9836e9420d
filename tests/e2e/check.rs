//! `cutover check` on the shipped config and on broken ones; secrets are
//! references it validates, not values it needs.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The secrets the shipped routes.toml names by env var.
pub const SHIPPED_SECRETS: [&str; 3] = [
    "CUTOVER_IDENTITY_KEY",
    "NEXTAUTH_SECRET",
    "CHATBOT_JWT_SECRET",
];

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The real binary with none of the shipped config's secrets (nor a
/// `CUTOVER_CONFIG`) inherited from whoever runs the tests.
pub fn cutover() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cutover"));
    for var in SHIPPED_SECRETS
        .iter()
        .chain(&["CUTOVER_CONFIG", "CUTOVER_ADMIN"])
    {
        cmd.env_remove(var);
    }
    cmd
}

/// (exit code, stdout, stderr)
pub fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// 1-based line of the shipped routes.toml that names `var` in quotes.
pub fn line_naming(var: &str) -> usize {
    let text = std::fs::read_to_string(repo().join("routes.toml")).unwrap();
    let quoted = format!("\"{var}\"");
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with('#') && l.contains(&quoted))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(lines.len(), 1, "{var} is named on lines {lines:?}");
    lines[0]
}

/// `cutover check ARGS --config routes.toml`, run in the repo.
fn check_shipped(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    run(cutover()
        .current_dir(repo())
        .arg("check")
        .args(args)
        .args(["--config", "routes.toml"])
        .envs(env.iter().copied()))
}

fn check(config: &Path) -> (i32, String) {
    let (code, out, err) = run(cutover().args(["check", "--config"]).arg(config));
    (code, err + &out)
}

#[test]
fn shipped_config_passes_check() {
    let (code, out) = check(&repo().join("routes.toml"));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok ("), "{out}");
}

/// Each directory under tests/configs/ is a broken config; its `expect` file
/// holds a line the error must contain.
#[test]
fn broken_configs_fail_check_with_file_line_and_fix() {
    let root = repo().join("tests/configs");
    let mut seen = 0;
    for entry in std::fs::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        let expect = std::fs::read_to_string(dir.join("expect")).unwrap();
        let (code, out) = check(&dir.join("routes.toml"));
        assert_eq!(code, 64, "{}: {out}", dir.display());
        assert!(
            out.contains(expect.trim()),
            "{}: expected {:?} in {out}",
            dir.display(),
            expect.trim()
        );
        seen += 1;
    }
    assert!(seen >= 5, "only {seen} broken configs");
}

#[test]
fn check_without_any_secret_warns_once_per_variable_at_its_keys_line_and_passes() {
    let (code, out, err) = check_shipped(&[], &[]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("routes.toml: ok ("), "{out}");
    for var in SHIPPED_SECRETS {
        let warning = format!("warning: routes.toml:{}: ", line_naming(var));
        let lines: Vec<&str> = err.lines().filter(|l| l.contains(var)).collect();
        assert_eq!(lines.len(), 1, "{var} once: {err}");
        assert!(lines[0].starts_with(&warning), "{var}: {err}");
        assert!(
            lines[0].contains(&format!("export {var}, or use")),
            "{var}: no fix in {err}"
        );
    }
    assert!(err.contains("--strict"), "{err}");
}

#[test]
fn check_strict_without_secrets_fails_with_64_naming_every_variable() {
    let (code, out, err) = check_shipped(&["--strict"], &[]);
    assert_eq!(code, 64, "{out}{err}");
    for var in SHIPPED_SECRETS {
        let error = format!("error: routes.toml:{}: ", line_naming(var));
        assert!(
            err.lines()
                .any(|l| l.starts_with(&error) && l.contains(var)),
            "{var}: {err}"
        );
    }
    assert!(!out.contains("ok ("), "{out}");
}

#[test]
fn check_strict_with_every_secret_set_passes() {
    let key = "check-identity-key-0123456789abcdef0123";
    let env = [
        ("CUTOVER_IDENTITY_KEY", key),
        ("NEXTAUTH_SECRET", "check-nextauth-secret-0123456789abcdef"),
        (
            "CHATBOT_JWT_SECRET",
            "check-chatbot-secret-0123456789abcdef",
        ),
    ];
    let (code, out, err) = check_shipped(&["--strict"], &env);
    assert_eq!(code, 0, "{out}{err}");
    assert!(!err.contains("warning"), "{err}");
}

#[test]
fn weak_secret_is_a_warning_naming_its_line_but_never_its_value() {
    let weak = "hunter2";
    let env = [
        (
            "CUTOVER_IDENTITY_KEY",
            "check-identity-key-0123456789abcdef0123",
        ),
        ("NEXTAUTH_SECRET", weak),
        (
            "CHATBOT_JWT_SECRET",
            "check-chatbot-secret-0123456789abcdef",
        ),
    ];
    let (code, out, err) = check_shipped(&["--strict"], &env);
    assert_eq!(code, 0, "a weak secret is not fatal: {out}{err}");
    let line = line_naming("NEXTAUTH_SECRET");
    let warning = err
        .lines()
        .find(|l| l.starts_with(&format!("warning: routes.toml:{line}: ")))
        .unwrap_or_else(|| panic!("no weak-secret warning at line {line}: {err}"));
    assert!(
        warning.contains("NEXTAUTH_SECRET") && warning.contains("32"),
        "{warning}"
    );
    assert!(
        !err.contains(weak) && !out.contains(weak),
        "value leaked: {err}{out}"
    );
    assert_eq!(err.lines().count(), 1, "only the weak one: {err}");
}

#[test]
fn check_from_another_directory_suggests_config_and_names_the_cwd() {
    let elsewhere = tempfile::tempdir().unwrap();
    let (code, _, err) = run(cutover().current_dir(elsewhere.path()).arg("check"));
    assert_eq!(code, 64, "{err}");
    assert!(
        err.contains("--config") && err.contains("CUTOVER_CONFIG"),
        "{err}"
    );
    let cwd = elsewhere.path().canonicalize().unwrap();
    let named = err.contains(&cwd.display().to_string())
        || err.contains(&elsewhere.path().display().to_string());
    assert!(named, "cwd not named: {err}");
}
