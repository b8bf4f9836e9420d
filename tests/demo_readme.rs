//! The README's demo, run exactly as written: the bash block between
//! `<!-- demo:start -->` and `<!-- demo:end -->` in README.md, from the
//! repository root (where its relative paths and `cargo build` point; the
//! debug build the tests already made is reused), against a fresh database
//! (`DATABASE_URL`, which the block defaults). It logs in through cutover,
//! reads the seeded thread from next, flips the route to rust and reads it
//! again. Its processes are killed (their process group) and its database
//! dropped afterwards; the flag file it flips is restored if it did not.
//!
//! `cargo test --test demo_readme -- --ignored`

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const FLAG: &str = "flags/user-thread-messages.toml";
/// The shipped routes.toml's ports, and Next's and Soketi's in the block.
const PORTS: [u16; 4] = [8080, 9090, 3000, 6001];
const MESSAGES: [&str; 3] = [
    "Hi Bob, this thread is served by Next.",
    "Flip the route and it comes from Rust.",
    "Same bytes either way.",
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The commands of the README's demo block (without the code fence).
fn demo_block(readme: &str) -> String {
    let start = readme
        .find("<!-- demo:start -->")
        .expect("no <!-- demo:start --> in README.md");
    let end = readme[start..]
        .find("<!-- demo:end -->")
        .expect("no <!-- demo:end --> after demo:start")
        + start;
    readme[start..end]
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with("```"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Kills the block's process group, drops its database, restores the flag.
struct Cleanup {
    child: Child,
    database: String,
    flag: (PathBuf, String),
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        for sig in ["-TERM", "-KILL"] {
            let _ = Command::new("kill").args([sig, "--", &group]).status();
            std::thread::sleep(Duration::from_millis(500));
        }
        let _ = self.child.wait();
        let _ = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-q", "-c"])
            .arg(format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.database
            ))
            .status();
        let (path, text) = &self.flag;
        if std::fs::read_to_string(path).ok().as_ref() != Some(text) {
            let _ = std::fs::write(path, text);
        }
    }
}

fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

#[test]
#[ignore = "builds the Next app"]
fn the_readme_demo_logs_in_and_serves_the_seeded_thread_from_next_then_rust() {
    use std::os::unix::process::CommandExt;

    let repo = repo();
    for port in PORTS {
        assert!(
            std::net::TcpListener::bind(("0.0.0.0", port)).is_ok(),
            "port {port} is in use: the README demo needs 8080, 9090, 3000 and 6001 free"
        );
    }
    let block = demo_block(&std::fs::read_to_string(repo.join("README.md")).unwrap());
    let database = format!("cutover_demo_readme_{}", std::process::id());
    let flag = repo.join(FLAG);
    let original_flag = std::fs::read_to_string(&flag).unwrap();
    let out = tempfile::tempdir().unwrap();
    let (stdout, stderr) = (out.path().join("stdout"), out.path().join("stderr"));
    let child = Command::new("bash")
        .args(["-e", "-o", "pipefail", "-c", &block])
        .current_dir(&repo)
        .env(
            "DATABASE_URL",
            format!("postgres://postgres@127.0.0.1:5432/{database}"),
        )
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .process_group(0)
        .spawn()
        .unwrap();
    let mut run = Cleanup {
        child,
        database,
        flag: (flag.clone(), original_flag.clone()),
    };
    let deadline = Instant::now() + Duration::from_secs(20 * 60);
    let status = loop {
        if let Some(s) = run.child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut printed = String::new();
    std::fs::File::open(&stdout)
        .unwrap()
        .read_to_string(&mut printed)
        .unwrap();
    let logs = ["cutover.log", "next.log", "soketi.log"]
        .map(|f| format!("--- {f}\n{}", tail(&repo.join("target/demo").join(f))))
        .join("\n");
    let context = format!(
        "--- stdout\n{printed}\n--- stderr\n{}\n{logs}",
        tail(&stderr)
    );
    let status = status.unwrap_or_else(|| panic!("the demo did not finish in 20 min\n{context}"));
    assert!(status.success(), "the demo failed: {status:?}\n{context}");

    assert!(
        printed.contains("alice@demo.test  password: cutover-demo"),
        "migrate --demo did not print the credentials\n{context}"
    );
    // Two responses for the same thread: from next, then (flipped) from rust.
    let lower = printed.to_ascii_lowercase();
    let from_next = lower
        .find("x-cutover-backend: next")
        .unwrap_or_else(|| panic!("no response from next\n{context}"));
    let from_rust = lower
        .find("x-cutover-backend: rust")
        .unwrap_or_else(|| panic!("the flipped route was not served by rust\n{context}"));
    assert!(from_next < from_rust, "{context}");
    let responses: Vec<&str> = printed.split("HTTP/1.1 ").skip(1).collect();
    assert_eq!(responses.len(), 2, "{context}");
    for response in responses {
        assert!(response.starts_with("200"), "{context}");
        for body in MESSAGES {
            assert!(response.contains(body), "{body:?} missing\n{context}");
        }
    }
    // The block put the route back: the tracked flag file is as it was.
    assert_eq!(
        std::fs::read_to_string(&flag).unwrap(),
        original_flag,
        "{context}"
    );
}
