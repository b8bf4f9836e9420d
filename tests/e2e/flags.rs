//! Flag files are applied per file (issue 13, items 1 and 3): a typo in one
//! route's file never blocks a flip or a rollback of another, and shows in
//! the log, `/-/config`, `/-/ready`, the metric and `cutover routes`; `cutover
//! flip` edits in place, says what changed, and waits for the running proxy.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::support::*;

const ROUTES: &str = r#"
[[route]]
id = "threads"
path = "/api/chat/user-threads"
methods = ["GET"]

[[route]]
id = "messages"
path = "/api/chat/messages"
methods = ["GET"]
"#;

/// `cutover ARGS --config ROUTES`: (exit code, stdout, stderr).
fn cli(config: &Path, args: &[&str]) -> (i32, String, String) {
    let out = tokio::task::block_in_place(|| {
        Command::new(env!("CARGO_BIN_EXE_cutover"))
            .args(args)
            .arg("--config")
            .arg(config)
            .env_remove("CUTOVER_ADMIN")
            .output()
            .unwrap()
    });
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn json(url: String) -> (u16, serde_json::Value) {
    let r = reqwest::get(url).await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

fn route<'a>(config: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    config["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap()
}

/// Waits until `cutover_flag_file_valid{route}` reads `value`.
async fn flag_valid_becomes(c: &Cutover, route: &str, value: f64) -> bool {
    let series = format!("cutover_flag_file_valid{{route=\"{route}\"}}");
    eventually(Duration::from_secs(3), || async {
        (c.metrics().await.contains(&format!("{series} {value}"))).then_some(())
    })
    .await
    .is_some()
}

#[tokio::test(flavor = "multi_thread")]
async fn typo_in_one_flag_file_never_blocks_flipping_another_route_and_shows_everywhere() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", ROUTES));
    cfg.write_flag("threads", "backend = \"rust\"\n");
    cfg.write_flag("messages", "backend = \"rust\"\n");
    let c = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    let (a, b) = (c.url("/api/chat/user-threads"), c.url("/api/chat/messages"));
    assert_eq!(backend_of(&client, &b).await.unwrap(), "rust");

    // Route A's file gets a typo.
    cfg.write_flag("threads", "backnd = \"rust\"\n");
    assert!(
        flag_valid_becomes(&c, "threads", 0.0).await,
        "{}",
        c.metrics().await
    );
    assert_eq!(
        c.metric("cutover_flag_file_valid{route=\"messages\"}")
            .await,
        1.0
    );

    // Rolling route B back is not blocked, and the CLI waits for the proxy.
    let admin = c.admin.to_string();
    let (code, out, err) = cli(
        &cfg.routes_path(),
        &["flip", "messages", "next", "--admin", &admin],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("messages: rust → next"), "{out}");
    assert!(
        out.contains("wrote ") && out.contains("messages.toml"),
        "{out}"
    );
    assert!(out.contains("applied it: generation 2"), "{out}");
    // Waited: B has moved by the time flip returns; A keeps its last good flag.
    assert_eq!(backend_of(&client, &b).await.unwrap(), "next");
    for _ in 0..10 {
        assert_eq!(backend_of(&client, &a).await.unwrap(), "rust");
    }

    // The log: file:line, the fix, what the route keeps.
    let log = c.log();
    assert!(
        log.contains("threads.toml:1: unknown field `backnd`")
            && log.contains("did you mean `backend`?")
            && log.contains("keeps its last good flag"),
        "{log}"
    );
    // /-/config: per-file status, the error with file:line, since when.
    let (_, config) = json(format!("http://{}/-/config", c.admin)).await;
    let status = &route(&config, "threads")["flag_file_status"];
    assert_eq!(status["valid"], false, "{config}");
    assert_eq!(status["line"], 1);
    assert!(
        status["error"]
            .as_str()
            .unwrap()
            .contains("threads.toml:1: unknown field `backnd`")
    );
    assert!(status["since"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(route(&config, "threads")["flag"], "rust");
    assert_eq!(
        route(&config, "messages")["flag_file_status"]["valid"],
        true
    );
    assert!(
        config["flag_files_last_error"]["error"]
            .as_str()
            .unwrap()
            .contains("backnd")
    );
    // /-/ready: still 200 (see README), and says which file is not applied.
    let (status, ready) = json(format!("http://{}/-/ready", c.admin)).await;
    assert_eq!(status, 200);
    assert_eq!(
        ready["flag_files_invalid"][0]["route"], "threads",
        "{ready}"
    );
    // The metric.
    assert_eq!(
        c.metric("cutover_flag_file_valid{route=\"threads\"}").await,
        0.0
    );
    // `cutover routes`: the table, with A marked.
    let (code, out, err) = cli(&cfg.routes_path(), &["routes"]);
    assert_eq!(code, 0, "{err}");
    let line = |id: &str| {
        out.lines()
            .find(|l| l.starts_with(id))
            .unwrap_or_default()
            .to_string()
    };
    assert!(line("threads").contains("INVALID"), "{out}");
    assert!(line("messages").ends_with("next"), "{out}");
    assert!(
        err.contains("threads.toml:1: unknown field `backnd`"),
        "{err}"
    );

    // Fixing A with flip (the typo'd key is removed and named) applies too.
    let (code, out, _) = cli(
        &cfg.routes_path(),
        &["flip", "threads", "next", "--admin", &admin],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("removed the unknown key `backnd`"), "{out}");
    assert_eq!(backend_of(&client, &a).await.unwrap(), "next");
    assert!(flag_valid_becomes(&c, "threads", 1.0).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn hand_edit_of_another_flag_applies_while_one_file_is_broken() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", ROUTES));
    cfg.write_flag("threads", "backend = \"rust\"\n");
    let c = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    cfg.write_flag("threads", "canary = { percent = 120 }\n");
    assert!(flag_valid_becomes(&c, "threads", 0.0).await);

    cfg.write_flag("messages", "backend = \"rust\"\n");
    let b = c.url("/api/chat/messages");
    let moved = eventually(Duration::from_secs(3), || async {
        (backend_of(&client, &b).await.ok()? == "rust").then_some(())
    })
    .await;
    assert!(moved.is_some(), "B's hand edit was blocked by A's bad file");
    assert_eq!(
        backend_of(&client, &c.url("/api/chat/user-threads"))
            .await
            .unwrap(),
        "rust"
    );
    assert_eq!(c.metric("cutover_config_generation").await, 2.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn leftover_flag_file_of_a_removed_route_is_reported_and_blocks_nothing() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", ROUTES));
    cfg.write_flag("messages", "backend = \"rust\"\n");
    let c = Cutover::start(&cfg);
    let client = reqwest::Client::new();

    // Remove route `messages` from routes.toml; its flag file stays behind.
    let text = std::fs::read_to_string(cfg.routes_path()).unwrap();
    let without = text.replace(
        "[[route]]\nid = \"messages\"\npath = \"/api/chat/messages\"\nmethods = [\"GET\"]\n",
        "",
    );
    assert_ne!(text, without);
    let tmp = cfg.dir.path().join(".routes.toml.swp");
    std::fs::write(&tmp, without).unwrap();
    std::fs::rename(&tmp, cfg.routes_path()).unwrap();
    let applied = eventually(Duration::from_secs(3), || async {
        (c.metric("cutover_config_generation").await == 2.0).then_some(())
    })
    .await;
    assert!(
        applied.is_some(),
        "the route removal was blocked by its leftover flag file"
    );
    assert!(flag_valid_becomes(&c, "messages", 0.0).await);

    // A flip of the remaining route works, and applies.
    let admin = c.admin.to_string();
    let (code, out, err) = cli(
        &cfg.routes_path(),
        &["flip", "threads", "rust", "--admin", &admin],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("threads: next (no flag) → rust"), "{out}");
    assert_eq!(
        backend_of(&client, &c.url("/api/chat/user-threads"))
            .await
            .unwrap(),
        "rust"
    );
    let (_, config) = json(format!("http://{}/-/config", c.admin)).await;
    let files = config["flag_files"].as_array().unwrap();
    let leftover = files.iter().find(|f| f["route"] == "messages").unwrap();
    assert_eq!(
        (&leftover["valid"], &leftover["orphan"]),
        (&false.into(), &true.into())
    );
    assert!(
        leftover["error"]
            .as_str()
            .unwrap()
            .contains("no route `messages`")
    );
    assert!(c.log().contains("names no route of routes.toml"));
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_starts_with_a_broken_flag_file_and_serves_that_route_from_next() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", ROUTES));
    cfg.write_flag("threads", "backnd = \"rust\"\n");
    cfg.write_flag("messages", "backend = \"rust\"\n");
    let c = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    assert_eq!(
        backend_of(&client, &c.url("/api/chat/user-threads"))
            .await
            .unwrap(),
        "next"
    );
    assert_eq!(
        backend_of(&client, &c.url("/api/chat/messages"))
            .await
            .unwrap(),
        "rust"
    );
    assert!(flag_valid_becomes(&c, "threads", 0.0).await);
}

const COMMENTED: &str = "# chat team owns this route; page #chat-oncall before a flip\nbackend = \"next\"  # rolled back 2026-11-28\nshadow = { percent = 20, noise_percent = 10 }\n";

#[tokio::test(flavor = "multi_thread")]
async fn flip_keeps_comments_and_the_shadow_setting_and_says_it_did_not_wait() {
    let cfg = ConfigDir::new(&routes_toml(
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
        "",
        ROUTES,
    ));
    cfg.write_flag("threads", COMMENTED);
    let file = cfg.flags().join("threads.toml");

    let (code, out, err) = cli(
        &cfg.routes_path(),
        &["flip", "threads", "rust", "--percent", "10"],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "# chat team owns this route; page #chat-oncall before a flip\ncanary = { percent = 10 }  # rolled back 2026-11-28\nshadow = { percent = 20, noise_percent = 10 }\n"
    );
    assert!(
        out.contains("threads: next, shadow 20% → canary 10% rust by user, shadow 20%"),
        "{out}"
    );
    assert!(out.contains(&format!("wrote {}", file.display())), "{out}");
    // admin_listen has port 0 here: it says why it did not wait.
    assert!(
        out.contains("did not wait") && out.contains("--admin"),
        "{out}"
    );

    // --shadow changes only the shadow percent; an unreachable admin port is said.
    let (code, out, err) = cli(
        &cfg.routes_path(),
        &[
            "flip",
            "threads",
            "rust",
            "--shadow",
            "50",
            "--admin",
            "127.0.0.1:9",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "# chat team owns this route; page #chat-oncall before a flip\nbackend = \"rust\"  # rolled back 2026-11-28\nshadow = { percent = 50, noise_percent = 10 }\n"
    );
    assert!(
        out.contains("did not wait: the admin port 127.0.0.1:9 does not answer"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn flip_dry_run_prints_the_diff_and_writes_nothing() {
    let cfg = ConfigDir::new(&routes_toml(
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
        "",
        ROUTES,
    ));
    cfg.write_flag("threads", COMMENTED);
    let (code, out, err) = cli(
        &cfg.routes_path(),
        &["flip", "threads", "rust", "--dry-run"],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("threads: next, shadow 20% → rust, shadow 20%"),
        "{out}"
    );
    assert!(
        out.contains("- backend = \"next\"  # rolled back 2026-11-28"),
        "{out}"
    );
    assert!(
        out.contains("+ backend = \"rust\"  # rolled back 2026-11-28"),
        "{out}"
    );
    assert_eq!(
        std::fs::read_to_string(cfg.flags().join("threads.toml")).unwrap(),
        COMMENTED
    );
    // A route with no file yet: nothing is created either.
    let (code, out, _) = cli(
        &cfg.routes_path(),
        &["flip", "messages", "rust", "--dry-run"],
    );
    assert_eq!(code, 0);
    assert!(out.contains("+ backend = \"rust\""), "{out}");
    assert!(!path_exists(&cfg.flags().join("messages.toml")));
}

#[tokio::test(flavor = "multi_thread")]
async fn flip_refuses_contradictory_options_and_suggests_the_route_on_a_typo() {
    let cfg = ConfigDir::new(&routes_toml(
        "http://127.0.0.1:9",
        "http://127.0.0.1:9",
        "",
        ROUTES,
    ));
    cfg.write_flag("threads", COMMENTED);
    let cases: [(&[&str], &str); 6] = [
        (
            &["flip", "threads", "next", "--percent", "10"],
            "--percent goes with rust",
        ),
        (
            &["flip", "threads", "rust", "--sticky-by", "ip"],
            "add --percent N",
        ),
        (
            &["flip", "threads", "rust", "--dry-run", "--wait"],
            "--dry-run writes nothing",
        ),
        (
            &["flip", "threads", "rust", "--percent", "120"],
            "--percent 120 is out of range 0..=100",
        ),
        (&["flip", "thraeds", "rust"], "no route `thraeds`"),
        (&["flip", "threads", "rsut"], "did you mean `rust`?"),
    ];
    for (args, want) in cases {
        let (code, out, err) = cli(&cfg.routes_path(), args);
        assert_eq!(code, 64, "{args:?}: {out}{err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
    let (_, _, err) = cli(&cfg.routes_path(), &["flip", "thraeds", "rust"]);
    assert!(err.contains("did you mean `threads`?"), "{err}");
    assert_eq!(
        std::fs::read_to_string(cfg.flags().join("threads.toml")).unwrap(),
        COMMENTED
    );
}
