//! The operator's commands without production secrets: `flip` and `routes`
//! need none, `serve` lists every unset one with its line, `serve --help`
//! names the environment, and `routes` prints a readable table. Also the
//! operator docs: the scrape port and the README's links.

use std::path::Path;
use std::time::{Duration, Instant};

use super::check::{SHIPPED_SECRETS, cutover, line_naming, repo, run};
use super::support::{ConfigDir, routes_toml};

/// A copy of the shipped routes.toml and flags/ in a tempdir.
fn shipped_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(repo().join("routes.toml"), dir.path().join("routes.toml")).unwrap();
    std::fs::create_dir(dir.path().join("flags")).unwrap();
    for e in std::fs::read_dir(repo().join("flags")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join("flags").join(e.file_name())).unwrap();
    }
    dir
}

/// The first `[[route]]` id of a routes.toml.
fn first_route_id(routes: &Path) -> String {
    let text = std::fs::read_to_string(routes).unwrap();
    let line = text
        .lines()
        .find(|l| l.starts_with("id = \""))
        .expect("a route");
    line.trim_start_matches("id = \"")
        .trim_end_matches('"')
        .to_string()
}

#[test]
fn flip_and_routes_need_no_secret_in_the_environment() {
    let dir = shipped_copy();
    let routes = dir.path().join("routes.toml");
    let id = first_route_id(&routes);
    let (code, out, err) = run(cutover()
        .args(["flip", &id, "rust", "--no-wait", "--config"])
        .arg(&routes));
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains(&format!("{id}: ")), "{out}");
    let (code, out, err) = run(cutover()
        .args(["flip", &id, "next", "--no-wait", "--config"])
        .arg(&routes));
    assert_eq!(code, 0, "{out}{err}");
    let flag = std::fs::read_to_string(dir.path().join(format!("flags/{id}.toml"))).unwrap();
    assert!(flag.contains("backend = \"next\""), "{flag}");
    let (code, out, err) = run(cutover().args(["routes", "--config"]).arg(&routes));
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().any(|l| l.starts_with(&id)), "{out}");
}

#[test]
fn flip_and_routes_from_another_directory_suggest_config() {
    let elsewhere = tempfile::tempdir().unwrap();
    for args in [&["routes"][..], &["flip", "x", "next", "--no-wait"][..]] {
        let (code, _, err) = run(cutover().current_dir(elsewhere.path()).args(args));
        assert_eq!(code, 64, "{args:?}: {err}");
        assert!(
            err.contains("--config") && err.contains("CUTOVER_CONFIG"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn serve_without_secrets_exits_64_listing_every_unset_variable_at_its_line() {
    let dir = shipped_copy();
    let mut child = cutover()
        .current_dir(dir.path())
        .args(["serve", "--config", "routes.toml"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            child.kill().unwrap();
            panic!("serve kept running without its secrets");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(status.code(), Some(64), "{err}");
    for var in SHIPPED_SECRETS {
        let at = format!("error: routes.toml:{}: ", line_naming(var));
        assert!(
            err.lines().any(|l| l.starts_with(&at) && l.contains(var)),
            "{var}: {err}"
        );
    }
}

#[test]
fn serve_help_lists_every_environment_variable_the_shipped_config_reads() {
    let (code, help, _) = run(cutover().args(["serve", "--help"]));
    assert_eq!(code, 0);
    let text = std::fs::read_to_string(repo().join("routes.toml")).unwrap();
    // Every variable routes.toml names (`*_env = "X"`, `*_envs = ["X", …]`).
    let mut named = Vec::new();
    for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
        if let Some((key, value)) = line.split_once('=')
            && (key.trim().ends_with("_env") || key.trim().ends_with("_envs"))
        {
            named.extend(value.split('"').skip(1).step_by(2).map(str::to_string));
        }
    }
    assert!(named.len() >= 3, "{named:?}");
    let process = [
        "CUTOVER_CONFIG",
        "DATABASE_URL",
        "PUSHER_APP_ID",
        "PUSHER_KEY",
        "PUSHER_SECRET",
        "PUSHER_HOST",
        "PUSHER_PORT",
        "CUTOVER_LOG_FORMAT",
        "RUST_LOG",
    ];
    for var in named.iter().map(String::as_str).chain(process) {
        assert!(
            help.contains(var),
            "serve --help does not name {var}:\n{help}"
        );
    }
}

#[test]
fn routes_prints_file_order_in_aligned_columns() {
    // File order differs from match order (the more specific route first).
    let cfg = ConfigDir::new(&routes_toml(
        "http://127.0.0.1:1",
        "http://127.0.0.1:2",
        "",
        r#"
[[route]]
id = "z"
path = "/api/a"

[[route]]
id = "a-much-longer-route-id-than-the-default-column-width"
path = "/api/chat/user-threads/{threadId}/messages/{messageId}/reactions"
methods = ["GET", "POST"]

[[route]]
id = "m"
path = "/api/m"
"#,
    ));
    cfg.write_flag("z", "backend = \"rust\"\n");
    let (code, out, err) = run(cutover()
        .args(["routes", "--config"])
        .arg(cfg.routes_path()));
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    let ids: Vec<&str> = lines
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "ROUTE",
            "z",
            "a-much-longer-route-id-than-the-default-column-width",
            "m",
            "(unmatched)"
        ],
        "{out}"
    );
    // Each column starts at the same character on every line.
    // A column starts at 0 or after two spaces (cells hold single spaces).
    let starts = |l: &str| -> Vec<usize> {
        l.char_indices()
            .filter(|&(i, c)| c != ' ' && (i == 0 || l[..i].ends_with("  ")))
            .map(|(i, _)| i)
            .collect()
    };
    let header = starts(lines[0]);
    assert_eq!(header.len(), 4, "{out}");
    for l in &lines[1..] {
        assert_eq!(starts(l)[..4], header[..], "misaligned:\n{out}");
    }
    assert!(lines[1].ends_with("rust"), "{out}");
    assert!(lines[3].ends_with("next (no flag)"), "{out}");
}

#[test]
fn dashboards_readme_scrapes_the_admin_port_of_the_shipped_config() {
    let routes = std::fs::read_to_string(repo().join("routes.toml")).unwrap();
    let admin = routes
        .lines()
        .find_map(|l| l.strip_prefix("admin_listen = \""))
        .and_then(|v| v.trim_end_matches('"').rsplit(':').next())
        .expect("admin_listen in routes.toml")
        .to_string();
    let readme = std::fs::read_to_string(repo().join("dashboards/README.md")).unwrap();
    let targets: Vec<&str> = readme.lines().filter(|l| l.contains("targets:")).collect();
    assert!(!targets.is_empty(), "no scrape example");
    for t in targets {
        assert!(t.contains(&format!(":{admin}\"")), "not port {admin}: {t}");
    }
}

#[test]
fn readme_links_stay_inside_the_repo() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(!readme.contains("../"), "README.md links outside the repo");
    assert!(readme.contains("(docs/ARCHITECTURE.md)"));
    let arch = std::fs::read_to_string(repo().join("docs/ARCHITECTURE.md")).unwrap();
    // The module map names modules that exist.
    for module in [
        "src/server.rs",
        "src/cli.rs",
        "src/config.rs",
        "src/identity.rs",
    ] {
        assert!(arch.contains(module), "{module} missing from the map");
        assert!(repo().join(module).exists(), "{module} no longer exists");
    }
}

#[test]
fn serve_logs_a_weak_secret_by_key_and_line_but_never_its_value() {
    let weak = "hunter2";
    let cfg = ConfigDir::new(&routes_toml(
        "http://127.0.0.1:1",
        "http://127.0.0.1:2",
        "",
        "[auth.session]\nflavor = \"nextauth-v4\"\nsecret_envs = [\"WEAK_SESSION_SECRET\"]\n",
    ));
    let c = super::support::Cutover::start_with_env(&cfg, &[("WEAK_SESSION_SECRET", weak)]);
    // Line numbers of the file serve read (the harness adds its own keys first).
    let text = std::fs::read_to_string(cfg.routes_path()).unwrap();
    let line = 1 + text
        .lines()
        .position(|l| l.contains("\"WEAK_SESSION_SECRET\""))
        .unwrap();
    let log = c.log();
    let at = format!("routes.toml:{line}: auth.session.secret_envs");
    let warning = log
        .lines()
        .find(|l| l.contains(&at))
        .unwrap_or_else(|| panic!("no warning at {at}: {log}"));
    assert!(
        warning.contains("WARN") && warning.contains("32"),
        "{warning}"
    );
    assert!(!log.contains(weak), "the value is in the log: {log}");
}
