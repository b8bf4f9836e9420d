use super::*;
use crate::shadow::{redact_path, redact_text};

fn entry(path: &str, primary_body: &str) -> DiffEntry {
    DiffEntry {
        at: UNIX_EPOCH,
        method: "GET".into(),
        path: path.into(),
        kind: CompareKind::Cross,
        category: Category::Body,
        detail: "body /a: 1 vs 2".into(),
        primary_backend: "next",
        other_backend: "rust",
        primary_status: 200,
        other_status: 200,
        primary_body: Bytes::from(primary_body.to_string()),
        other_body: Bytes::from_static(b"{}"),
    }
}

fn limits(per_route: usize, keep_first: u64, sample_every: u64) -> DiffLogLimits {
    DiffLogLimits {
        per_route,
        max_routes: 2,
        keep_first,
        sample_every,
        max_body_bytes: 64,
    }
}

fn entries(log: &DiffLog, route: &str) -> Vec<Value> {
    log.to_json(Some(route))["routes"][route]["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn log_is_bounded_per_route_keeping_the_newest() {
    let log = DiffLog::new(limits(3, 100, 1));
    for i in 0..10 {
        log.record("r", entry(&format!("/p/{i}"), "{}"));
    }
    let e = entries(&log, "r");
    let paths: Vec<&str> = e.iter().filter_map(|e| e["path"].as_str()).collect();
    assert_eq!(paths, ["/p/7", "/p/8", "/p/9"]);
    assert_eq!(log.to_json(Some("r"))["routes"]["r"]["seen"], 10);
}

#[test]
fn after_the_first_entries_only_one_in_n_is_kept() {
    let log = DiffLog::new(limits(100, 2, 5));
    for _ in 0..22 {
        log.record("r", entry("/x", "{}"));
    }
    let seqs: Vec<u64> = entries(&log, "r")
        .iter()
        .filter_map(|e| e["seq"].as_u64())
        .collect();
    assert_eq!(seqs, [1, 2, 7, 12, 17, 22]);
}

#[test]
fn routes_beyond_the_limit_are_not_logged() {
    let log = DiffLog::new(limits(10, 10, 1));
    for r in ["a", "b", "c"] {
        log.record(r, entry("/x", "{}"));
    }
    let all = log.to_json(None);
    let names: Vec<&String> = all["routes"]
        .as_object()
        .map(|m| m.keys().collect())
        .unwrap_or_default();
    assert_eq!(names, ["a", "b"]);
    assert_eq!(
        log.to_json(Some("zzz")),
        serde_json::json!({ "routes": {} })
    );
}

#[test]
fn tokens_are_redacted_from_path_bodies_and_detail() {
    let log = DiffLog::new(DiffLogLimits {
        max_body_bytes: 512,
        ..limits(10, 10, 1)
    });
    let mut e = entry(
        "/api/x?token=querysecret&a=1",
        r#"{"user":"u1","accessToken":"jsonsecret","nested":{"password":"pw1"},"note":"see ?token=textsecret"}"#,
    );
    e.other_body = Bytes::from_static(b"plain Authorization: Bearer bearersecret and api_key=k1");
    e.detail = "body /session: \"cookiesecret\" vs x".into();
    log.record("r", e);
    let out = log.to_json(None).to_string();
    for secret in [
        "querysecret",
        "jsonsecret",
        "pw1",
        "textsecret",
        "bearersecret",
        "k1\"",
    ] {
        assert!(!out.contains(secret), "{secret} leaked: {out}");
    }
    assert!(out.contains(r#"{\"accessToken\":\"[redacted]\""#), "{out}");
    assert!(out.contains(r#"\"user\":\"u1\""#), "{out}");
    let e = &entries(&log, "r")[0];
    assert_eq!(e["path"], "/api/x");
}

#[test]
fn bodies_are_truncated_to_the_cap() {
    let log = DiffLog::new(limits(10, 10, 1));
    log.record("r", entry("/x", &"é".repeat(100)));
    let e = &entries(&log, "r")[0];
    assert!(e["primary"]["body"].as_str().is_some_and(|b| b.len() <= 64));
    assert_eq!(e["primary"]["body_truncated"], true);
    assert_eq!(e["other"]["body_truncated"], false);
}

#[test]
fn binary_bodies_are_summarised() {
    let log = DiffLog::new(limits(10, 10, 1));
    let mut e = entry("/x", "");
    e.primary_body = Bytes::from_static(&[0xff, 0xfe, 0x00, 0x01]);
    log.record("r", e);
    assert_eq!(
        entries(&log, "r")[0]["primary"]["body"],
        "<4 bytes of binary>"
    );
}

#[test]
fn text_redaction_keeps_ordinary_words() {
    assert_eq!(redact_text("a=1&token=xyz&b=2"), "a=1&token=[redacted]&b=2");
    assert_eq!(redact_text("Bearer abc.def"), "Bearer [redacted]");
    assert_eq!(redact_text("hello world"), "hello world");
    assert_eq!(redact_text("jwt eyJhbGci.eyJzdWIi.sig"), "jwt [redacted]");
    assert_eq!(redact_path("/a/b?token=1#frag"), "/a/b");
}

#[test]
fn entry_debug_hides_bodies_and_query() {
    let dbg = format!("{:?}", entry("/x?token=qs", r#"{"t":"bodysecret"}"#));
    assert!(!dbg.contains("bodysecret") && !dbg.contains("qs"), "{dbg}");
}

#[test]
fn percent_encoded_secret_names_are_redacted() {
    assert_eq!(
        redact_text("a=1&%74oken=xyz&b=2"),
        "a=1&%74oken=[redacted]&b=2"
    );
}

#[test]
fn top_places_count_pointers_with_indices_folded_and_never_values() {
    let log = DiffLog::new(limits(100, 100, 1));
    let with = |category: Category, detail: &str| DiffEntry {
        category,
        detail: detail.into(),
        ..entry("/x", "{}")
    };
    log.record(
        "r",
        with(Category::Body, "body /items/0/name: \"a\" vs \"b\""),
    );
    log.record(
        "r",
        with(Category::Body, "body /items/7/name: \"c\" vs \"d\""),
    );
    log.record(
        "r",
        with(
            Category::Header,
            "header etag: primary \"1\" vs other \"2\"",
        ),
    );
    log.record(
        "r",
        with(Category::Status, "status: primary 200 vs other 500"),
    );
    let (seen, top) = log.top_places("r", 2);
    assert_eq!(seen, 4);
    assert_eq!(
        top,
        [
            ("/items/*/name".to_string(), 2),
            ("header etag".to_string(), 1)
        ]
    );
    let (_, all) = log.top_places("r", 10);
    assert!(all.iter().all(|(p, _)| !p.contains('"')), "{all:?}");
    assert_eq!(log.top_places("unknown", 3), (0, Vec::new()));
}
