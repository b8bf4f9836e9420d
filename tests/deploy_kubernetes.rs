//! `deploy/kubernetes` validated offline, as CI can without a cluster:
//! Kubernetes' own schemas (`kubernetes-validate`), promtool on the
//! PrometheusRule, the pieces agreeing with each other and with routes.toml,
//! the generated ConfigMaps up to date and loadable by `cutover check`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn validate(dir: &Path) -> Output {
    Command::new("python3")
        .arg(repo().join("deploy/kubernetes/validate.py"))
        .arg("--dir")
        .arg(dir)
        .arg("--cutover")
        .arg(env!("CARGO_BIN_EXE_cutover"))
        .output()
        .expect("python3 deploy/kubernetes/validate.py (pip install -r deploy/kubernetes/requirements.txt)")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[test]
fn shipped_manifests_validate_and_agree_with_routes_toml() {
    let out = validate(&repo().join("deploy/kubernetes"));
    assert!(
        out.status.success(),
        "deploy/kubernetes is not valid:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Each mistake an operator could make in the manifests is caught, with the
/// file and the fix named.
#[test]
fn broken_manifests_are_refused_naming_file_and_fix() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "deployment.yaml",
            "terminationGracePeriodSeconds: 25",
            "terminationGracePeriodSeconds: 8",
            "SIGKILL",
        ),
        (
            "deployment.yaml",
            "maxUnavailable: 0",
            "maxUnavailble: 0",
            "maxUnavailble",
        ),
        (
            "deployment.yaml",
            "path: /-/ready, port: admin",
            "path: /-/ready, port: http",
            "readinessProbe",
        ),
        ("deployment.yaml", "replicas: 2", "replicas: 1", "replicas"),
        (
            "deployment.yaml",
            "mountPath: /etc/cutover/flags, readOnly: true",
            "mountPath: /etc/cutover/flags, subPath: x, readOnly: true",
            "subPath",
        ),
        (
            "deployment.yaml",
            "- name: CHATBOT_JWT_SECRET\n",
            "- name: CHATBOT_JWT_SECRET_TYPO\n",
            "CHATBOT_JWT_SECRET is named by routes.toml but not set",
        ),
        (
            "generated/configmap-flags.yaml",
            "  realtime-auth.toml: |\n    # Who answers route `realtime-auth`",
            "  realtime-auth.toml: |\n    backnd = \"rust\"\n    # Who answers route `realtime-auth`",
            "backnd",
        ),
        (
            "pdb.yaml",
            "minAvailable: 1",
            "minAvailable: 2",
            "minAvailable",
        ),
    ];
    for (file, from, to, expect) in cases {
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&repo().join("deploy/kubernetes"), tmp.path());
        let path = tmp.path().join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file} no longer contains {from:?}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
        let out = validate(tmp.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{file}: {to:?} was accepted");
        assert!(
            stderr.contains(expect),
            "{file}: {to:?}: the error does not say {expect:?}:\n{stderr}"
        );
    }
}
