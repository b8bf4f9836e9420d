//! `cutover check` on the shipped config and on broken ones.

use std::path::Path;
use std::process::Command;

/// Stand-in secrets: the shipped config names them by env var.
const ENV: [(&str, &str); 3] = [
    ("NEXTAUTH_SECRET", "check-nextauth-secret"),
    (
        "CUTOVER_IDENTITY_KEY",
        "check-identity-key-0123456789abcdef0123",
    ),
    ("CHATBOT_JWT_SECRET", "check-chatbot-secret"),
];

fn check(config: &Path) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .envs(ENV)
        .args(["check", "--config"])
        .arg(config)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout),
    )
}

#[test]
fn shipped_config_passes_check() {
    let (code, out) = check(&Path::new(env!("CARGO_MANIFEST_DIR")).join("routes.toml"));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("ok ("), "{out}");
}

/// Each directory under tests/configs/ is a broken config; its `expect` file
/// holds a line the error must contain.
#[test]
fn broken_configs_fail_check_with_file_line_and_fix() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs");
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
fn shipped_config_without_its_secrets_fails_check_naming_the_variable() {
    let out = Command::new(env!("CARGO_BIN_EXE_cutover"))
        .env_remove("CUTOVER_IDENTITY_KEY")
        .env("NEXTAUTH_SECRET", "x")
        .env("CHATBOT_JWT_SECRET", "y")
        .args(["check", "--config"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("routes.toml"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CUTOVER_IDENTITY_KEY is not set"), "{err}");
}
