//! Every parser fed from the network or an operator's edit, with arbitrary
//! bytes and with mutations of real inputs: no panic, and no input that takes
//! more than a second (a hang detector, not a performance claim). Cookies,
//! JWT/JWE and bearer tokens are in `tests/auth/fuzz.rs` and
//! `src/auth/tests.rs`; ambiguous paths in `src/route/ambiguity/tests.rs`; the
//! tester override token in `src/override/tests.rs`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use cutover::config::{Config, ConfigFiles, Offline};
use proptest::prelude::*;

const BOUND: Duration = Duration::from_secs(1);

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn shipped_routes() -> String {
    std::fs::read_to_string(repo().join("routes.toml")).unwrap()
}

/// The shipped config's files, with `routes_text` and one flag file replaced.
fn files(routes_text: String, flag: Option<(&str, String)>) -> ConfigFiles {
    let mut files = ConfigFiles::read(&repo().join("routes.toml")).unwrap();
    files.routes_text = routes_text;
    if let Some((name, text)) = flag {
        files.flag_files.retain(|(p, _)| !p.ends_with(name));
        files.flag_files.push((files.flags_dir.join(name), text));
    }
    files
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    assert!(start.elapsed() < BOUND, "{what} took {:?}", start.elapsed());
    out
}

fn mutate(text: &str, edits: &[(usize, u8)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for (pos, byte) in edits {
        if !bytes.is_empty() {
            let i = pos % bytes.len();
            bytes[i] = *byte;
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn table() -> &'static cutover::route::RouteTable {
    static CFG: std::sync::OnceLock<Offline> = std::sync::OnceLock::new();
    // Matching needs no secret values.
    &CFG.get_or_init(|| Offline::load(&repo().join("routes.toml")).expect("routes.toml loads"))
        .routes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// routes.toml with bytes overwritten: an error naming the file, or a
    /// config; never a panic.
    #[test]
    fn mutated_routes_toml_never_panics(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let text = mutate(&shipped_routes(), &edits);
        let _ = timed("routes.toml", || Config::from_files(&files(text, None), None));
    }

    #[test]
    fn arbitrary_routes_toml_never_panics(text in "\\PC{0,400}") {
        let _ = timed("routes.toml", || Config::from_files(&files(text, None), None));
    }

    /// A flag file an operator could write, broken anywhere.
    #[test]
    fn mutated_flag_files_never_panic(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        base in prop::sample::select(vec![
            "backend = \"rust\"\n",
            "canary = { percent = 50, sticky_by = \"cookie:sid\" }\n",
            "backend = \"next\"\n[shadow]\npercent = 10\n",
        ]),
    ) {
        let text = mutate(base, &edits);
        let _ = timed("flag file", || {
            Config::from_files(&files(shipped_routes(), Some(("user-threads.toml", text))), None)
        });
    }

    #[test]
    fn arbitrary_request_paths_never_panic_in_the_matcher(path in "/\\PC{0,200}", raw in proptest::collection::vec(any::<u8>(), 0..200)) {
        let table = table();
        for method in [http::Method::GET, http::Method::POST, http::Method::DELETE] {
            let _ = timed("route match", || table.find(&method, &path));
            let lossy = String::from_utf8_lossy(&raw);
            let _ = timed("route match", || table.find(&method, &lossy));
            let _ = timed("ambiguity", || cutover::route::ambiguity::check(table, &method, &path));
        }
    }

    /// The Pusher auth body, as the cap reads it and as the rust handler does.
    #[test]
    fn auth_bodies_never_panic(
        content_type in proptest::option::of("\\PC{0,60}"),
        body in proptest::collection::vec(any::<u8>(), 0..600),
        form in "(socket_id|channel_name|%|=|&|[a-z0-9.%+-]){0,80}",
    ) {
        let _ = timed("cap form", || cutover::proxy::caps::parse_form(content_type.as_deref(), &body));
        let _ = timed("cap form", || cutover::proxy::caps::parse_form(None, form.as_bytes()));
        let mut headers = http::HeaderMap::new();
        if let Some(v) = content_type.as_deref().and_then(|c| http::HeaderValue::from_str(c).ok()) {
            headers.insert(http::header::CONTENT_TYPE, v);
        }
        let _ = timed("auth request", || cutover::handlers::realtime::auth::parse_auth_request(&headers, &body));
        let _ = timed("auth request", || cutover::handlers::realtime::auth::parse_auth_request(&headers, form.as_bytes()));
    }
}
