//! The status page (`/-/ui`), its JSON (`/-/routes`) and `cutover status`,
//! end to end: the real binary in front of the stand-in upstreams, and the
//! page in headless Chromium (Debian's `/usr/bin/chromium`, driven by
//! tests/browser/status-page.cjs) during a scripted cutover.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

const CHROMIUM: &str = "/usr/bin/chromium";
const GUARD: &str = "guard = { max_error_ratio_delta = 0.2, min_requests = 5, window = \"60s\" }";

fn route(id: &str, path: &str, extra: &str) -> String {
    format!("[[route]]\nid = \"{id}\"\npath = \"{path}\"\n{extra}\n")
}

/// Four routes, one per event the page must show.
fn scripted_cutover(next: &Upstream, rust: &Upstream) -> ConfigDir {
    let routes = [
        route("flipper", "/differ/same", ""),
        route("shadowed", "/differ/field", ""),
        route("judged", "/differ/fail", GUARD),
        route("broken", "/broken", ""),
    ]
    .concat();
    let cfg = ConfigDir::new(&routes_toml(&next.url(), &rust.url(), "", &routes));
    cfg.write_flag("flipper", "backend = \"next\"\n");
    cfg.write_flag(
        "shadowed",
        "shadow = { percent = 100, noise_percent = 0 }\n",
    );
    cfg.write_flag(
        "judged",
        "canary = { percent = 50, sticky_by = \"header:x-client\" }\n",
    );
    cfg.write_flag("broken", "backend = \"next\"\n");
    cfg
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// tests/browser/status-page.cjs, spoken to one JSON line at a time.
struct Browser {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Browser {
    fn start(admin: std::net::SocketAddr) -> Browser {
        assert!(
            Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is missing: apt-get install chromium (the status page test drives Debian's Chromium)"
        );
        let dir = repo().join("tests/browser");
        assert!(
            dir.join("node_modules/playwright-core").exists(),
            "tests/browser/node_modules is missing: cd tests/browser && npm ci"
        );
        let mut child = Command::new(std::env::var("NODE").unwrap_or_else(|_| "node".into()))
            .arg(dir.join("status-page.cjs"))
            .env("ADMIN_URL", format!("http://{admin}"))
            .env("CHROMIUM", CHROMIUM)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs tests/browser/status-page.cjs (is node installed?)");
        let stdin = child.stdin.take().unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut b = Browser {
            child,
            stdin,
            stdout,
        };
        assert_eq!(b.read()["ready"], true, "the page never showed its table");
        b
    }

    fn read(&mut self) -> Value {
        let mut line = String::new();
        tokio::task::block_in_place(|| self.stdout.read_line(&mut line)).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
    }

    fn ask(&mut self, req: Value) -> Value {
        writeln!(self.stdin, "{req}").unwrap();
        let reply = self.read();
        assert_eq!(reply["ok"], true, "{req} -> {reply}");
        reply
    }

    /// The page shows `text` in the route's `field` cell within 2 s.
    fn shows(&mut self, route: &str, field: &str, text: &str) {
        let r = self.ask(
            json!({ "op": "expect", "route": route, "field": field, "text": text, "within": 2000 }),
        );
        eprintln!("{route}.{field} showed {text:?} after {} ms", r["ms"]);
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = writeln!(self.stdin, "{}", json!({ "op": "close" }));
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn status_page_shows_a_flip_a_mismatch_a_trip_and_a_broken_flag_file_within_2s() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cfg = scripted_cutover(&next, &rust);
    let c = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    let mut page = Browser::start(c.admin);
    page.shows("flipper", "side", "next");

    // A flip.
    cfg.write_flag("flipper", "backend = \"rust\"\n");
    page.shows("flipper", "side", "rust");

    // A shadow mismatch: next says "hello", rust "hi".
    client.get(c.url("/differ/field")).send().await.unwrap();
    let series =
        "cutover_shadow_mismatches_total{category=\"body\",kind=\"cross\",route=\"shadowed\"}";
    let seen = eventually(Duration::from_secs(10), || async {
        (c.metric(series).await >= 1.0).then_some(())
    });
    assert!(seen.await.is_some(), "no mismatch was recorded");
    page.shows("shadowed", "shadow", "/greeting");

    // A guard trip: rust answers 500 until the judge trips the route.
    let mut tripped = false;
    for i in 0..200 {
        let r = client
            .get(c.url("/differ/fail"))
            .header("x-client", format!("client-{i}"))
            .send()
            .await
            .unwrap();
        r.bytes().await.unwrap();
        if c.metric("cutover_guard_tripped{route=\"judged\"}").await == 1.0 {
            tripped = true;
            break;
        }
    }
    assert!(tripped, "the guard never tripped");
    page.shows("judged", "guard", "TRIPPED");
    page.shows("judged", "side", "tripped");

    // A broken flag file.
    cfg.write_flag("broken", "backnd = \"rust\"\n");
    page.shows("broken", "flag", "INVALID");
    page.shows("broken", "flag", "flags/broken.toml:1");

    // JavaScript off: the server-rendered table carries everything.
    let nojs = page.ask(json!({ "op": "nojs" }));
    assert_eq!(nojs["rows"], 4, "{nojs}");
    let text = nojs["text"].as_str().unwrap();
    for want in ["flipper", "TRIPPED", "INVALID", "/greeting"] {
        assert!(
            text.contains(want),
            "{want} missing without JavaScript: {text}"
        );
    }

    // A phone: cards, nothing wider than the screen.
    let phone = repo().join("target/status-page-phone.png");
    let narrow = page.ask(json!({ "op": "narrow", "width": 375, "path": phone }));
    assert!(
        narrow["scrollWidth"].as_u64() <= narrow["innerWidth"].as_u64(),
        "overflows at 375 px: {narrow}"
    );
    assert_eq!(narrow["theadDisplay"], "none", "{narrow}");
    // A terminal-sized window (about 80 columns): cards too, no overflow.
    let term = repo().join("target/status-page-640.png");
    let narrow = page.ask(json!({ "op": "narrow", "width": 640, "path": term }));
    assert!(
        narrow["scrollWidth"].as_u64() <= narrow["innerWidth"].as_u64(),
        "overflows at 640 px: {narrow}"
    );

    let shot = repo().join("target/status-page.png");
    page.ask(json!({ "op": "screenshot", "path": shot }));
    if std::env::var_os("CUTOVER_UPDATE_SCREENSHOT").is_some() {
        std::fs::copy(&shot, repo().join("docs/status-page.png")).unwrap();
    }
    // The terminal shows the same states.
    let out = tokio::task::block_in_place(|| cutover_status(&c.admin.to_string()));
    let table = String::from_utf8(out.stdout).unwrap();
    eprintln!("{table}");
    for want in ["TRIPPED", "INVALID flags/broken.toml:1", "(/greeting)"] {
        assert!(
            table.contains(want),
            "{want} missing from cutover status: {table}"
        );
    }
    // No CSP violation (the inline script and style are allowed by hash) and no script error.
    let errors = page.ask(json!({ "op": "errors" }));
    assert_eq!(errors["errors"], json!([]), "{errors}");
}

#[tokio::test(flavor = "multi_thread")]
async fn status_page_and_routes_json_are_not_served_on_the_proxy_port() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cfg = scripted_cutover(&next, &rust);
    let c = Cutover::start(&cfg);
    let client = reqwest::Client::new();
    for path in ["/-/ui", "/-/routes"] {
        // Unclaimed paths go to next, like any other.
        let r = client.get(c.url(path)).send().await.unwrap();
        assert_eq!(r.headers()["x-cutover-backend"], "next");
        let body = r.text().await.unwrap();
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("{body}"));
        assert_eq!(v["backend"], "next", "{body}");
        assert!(
            !body.contains("flipper") && !body.contains("generation"),
            "{body}"
        );
        // The admin port has them.
        let admin = client
            .get(format!("http://{}{path}", c.admin))
            .send()
            .await
            .unwrap();
        assert_eq!(admin.status(), 200);
        assert_eq!(admin.headers()["cache-control"], "no-store");
        assert!(admin.text().await.unwrap().contains("flipper"));
    }
    let ui = client
        .get(format!("http://{}/-/ui", c.admin))
        .send()
        .await
        .unwrap();
    let csp = ui.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.starts_with("default-src 'none'"), "{csp}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_routes_toml_edit_is_shown_with_file_and_line() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cfg = scripted_cutover(&next, &rust);
    let c = Cutover::start(&cfg);
    let good = std::fs::read_to_string(cfg.routes_path()).unwrap();
    std::fs::write(
        cfg.routes_path(),
        format!("{good}\n[[route]]\nid = \"x\"\n"),
    )
    .unwrap();
    let url = format!("http://{}/-/routes", c.admin);
    let rejected = eventually(Duration::from_secs(10), || async {
        let v: Value = reqwest::get(&url).await.ok()?.json().await.ok()?;
        v["last_rejected_config_edit"]["error"]
            .as_str()
            .map(str::to_string)
    })
    .await
    .expect("the rejected edit never showed on /-/routes");
    assert!(rejected.contains("routes.toml:"), "{rejected}");
    let page = reqwest::get(format!("http://{}/-/ui", c.admin))
        .await
        .unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("Last rejected routes.toml edit"), "{html}");
    assert!(
        html.contains("the last good config stays in force"),
        "{html}"
    );
}

fn cutover_status(admin: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cutover"))
        .args(["status", "--admin", admin])
        .env_remove("NO_COLOR")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn cutover_status_prints_a_row_per_route_with_its_side_and_no_colour_when_piped() {
    let next = Upstream::start("next").await;
    let rust = Upstream::start("rust").await;
    let cfg = scripted_cutover(&next, &rust);
    cfg.write_flag("flipper", "backend = \"rust\"\n");
    let c = Cutover::start(&cfg);
    let out = tokio::task::block_in_place(|| cutover_status(&c.admin.to_string()));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(out.status.success(), "{stdout}");
    assert!(!stdout.contains('\x1b'), "ANSI codes on a pipe: {stdout:?}");
    let row = |id: &str| {
        stdout
            .lines()
            .find(|l| l.starts_with(&format!("{id} ")))
            .unwrap_or_else(|| panic!("no row for {id}: {stdout}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    assert_eq!(row("flipper")[1..3], ["rust", "rust"], "{stdout}");
    assert_eq!(
        row("shadowed")[1..4],
        ["shadow", "next", "+shadow"],
        "{stdout}"
    );
    assert_eq!(row("judged")[1..4], ["canary", "canary", "50%"], "{stdout}");
    assert_eq!(row("broken")[1..3], ["next", "next"], "{stdout}");
}

#[test]
fn cutover_status_without_a_running_proxy_exits_non_zero_with_a_hint() {
    // A port nothing listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = cutover_status(&format!("127.0.0.1:{port}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("does not answer"), "{stderr}");
    assert!(
        stderr.contains("hint: is `cutover serve` running"),
        "{stderr}"
    );
}
