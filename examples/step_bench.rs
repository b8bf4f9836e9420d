//! ns per call of the pure steps every routed request runs, on the shipped
//! `routes.toml` (its 25 routes): route match (a claimed and an unclaimed
//! path), the flag decision (fixed and canary), a session cookie found in the
//! verified-token cache, and signing the identity headers. A regression in
//! one of them shows here before it shows in `bench/run.sh`.
//!
//! Run: `cargo run --release --example step_bench` from the repo root (mints
//! a next-auth cookie with `node tests/tokens/mint.mjs`; `npm ci` there once).

use std::borrow::Cow;
use std::hint::black_box;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use cutover::auth::{AuthOutcome, Credentials};
use cutover::config::{Config, parse_flag_text};
use cutover::flags::{self, Flag};
use cutover::identity::{Audience, IdentityKey, SignedRequest, signed_identity};

const SECRET: &str = "step-bench-nextauth-secret-0123456789abcdef";

/// Runs `f` for about 0.3 s and prints ns per call.
fn bench(name: &str, mut f: impl FnMut()) {
    for _ in 0..1_000 {
        f();
    }
    let mut n = 0u64;
    let start = Instant::now();
    while start.elapsed().as_millis() < 300 {
        for _ in 0..1_000 {
            f();
        }
        n += 1_000;
    }
    let ns = start.elapsed().as_nanos() as f64 / n as f64;
    println!("{name:<34} {ns:>9.1} ns/call");
}

fn mint_cookie() -> String {
    let spec = format!(
        r#"[{{"kind":"nextauth_v4","secret":"{SECRET}","claims":{{"sub":"bench-user","email":"b@example.com"}},"maxAge":86400}}]"#
    );
    let mut child = std::process::Command::new("node")
        .arg("mint.mjs")
        .current_dir("tests/tokens")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("node runs (run from the repo root; `npm ci` in tests/tokens)");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), spec.as_bytes())
        .expect("write the spec to mint.mjs");
    let out = child.wait_with_output().expect("mint.mjs finishes");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .expect("mint.mjs printed JSON (did `npm ci` run in tests/tokens?)");
    v[0]["token"].as_str().expect("a token").to_string()
}

fn main() {
    // SAFETY: single-threaded here, before anything reads the environment.
    unsafe {
        std::env::set_var("NEXTAUTH_SECRET", SECRET);
        std::env::set_var(
            "CUTOVER_IDENTITY_KEY",
            "step-bench-identity-key-0123456789abcdef",
        );
        std::env::set_var(
            "CHATBOT_JWT_SECRET",
            "step-bench-chatbot-secret-0123456789abcdef",
        );
    }
    let cfg = Config::load_lenient(std::path::Path::new("routes.toml"))
        .expect("routes.toml loads (run from the repo root)");
    let get = http::Method::GET;
    let claimed = "/api/chat/user-threads/3f0c8a52-1d7e-4c1b-9a53-0d3c2f5e8b71/messages";
    let m = cfg
        .routes
        .find(&get, claimed)
        .expect("the shipped routes claim {claimed}");
    let route = m.route;
    println!(
        "route match over {} routes; {claimed} -> {}",
        cfg.routes.iter().count(),
        route.id.as_str()
    );
    bench("route match (claimed)", || {
        black_box(cfg.routes.find(&get, black_box(claimed)));
    });
    bench("route match (unclaimed)", || {
        black_box(
            cfg.routes
                .find(&get, black_box("/_next/static/chunks/main-1a2b3c.js")),
        );
    });

    let id = route.id.clone();
    let file = std::path::PathBuf::from(format!("flags/{}.toml", id.as_str()));
    let flag =
        |text: &str| -> Flag { parse_flag_text(&file, text, &cfg.routes).expect("a valid flag") };
    let fixed = flag("backend = \"rust\"");
    let canary = flag("canary = { percent = 25, sticky_by = \"user\" }");
    bench("flag decision (fixed)", || {
        black_box(flags::decide(&id, Some(&fixed), |_| Cow::Borrowed("u1")));
    });
    bench("flag decision (canary, sticky user)", || {
        black_box(flags::decide(&id, Some(&canary), |_| {
            Cow::Borrowed(black_box("user-42"))
        }));
    });

    let cookie = format!("next-auth.session-token={}", mint_cookie());
    let cookies = [cookie.as_str()];
    let creds = Credentials {
        cookies: &cookies,
        authorization: None,
        query_token: None,
        https: false,
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let auth = cfg.authenticator.authenticate(&route.auth, &creds, now);
    let AuthOutcome::Authenticated(identity) = auth else {
        panic!(
            "the minted cookie was not accepted on {}: {auth:?}",
            route.id.as_str()
        );
    };
    bench("session cookie (cache hit)", || {
        black_box(
            cfg.authenticator
                .authenticate(&route.auth, black_box(&creds), now),
        );
    });

    let key =
        IdentityKey::new(b"step-bench-identity-key-0123456789abcdef".to_vec()).expect("a key");
    let req = SignedRequest {
        audience: Audience::Rust,
        method: "GET",
        target: claimed,
    };
    // What the proxy adds upstream: the signed header values, each consumed.
    bench("identity signing", || {
        for header in signed_identity(&identity, &key, black_box(&req), now) {
            black_box(header);
        }
    });
}
