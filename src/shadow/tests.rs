use super::*;
use crate::judge::Side;
use http::Method;

fn json(status: u16, body: &str) -> Captured {
    let headers = vec![("Content-Type".to_string(), "application/json".to_string())];
    Captured::ok(status, headers, body.to_string())
}

fn text(status: u16, body: &str) -> Captured {
    let headers = vec![("content-type".to_string(), "text/plain".to_string())];
    Captured::ok(status, headers, body.to_string())
}

fn policy(ignore: &[&str]) -> ComparePolicy {
    ComparePolicy {
        ignore: ignore.iter().map(|p| JsonPath::parse(p).unwrap()).collect(),
        headers: vec!["content-type".to_string()],
    }
}

fn category(v: &Verdict) -> Option<Category> {
    v.category()
}

#[test]
fn identical_json_with_other_key_order_is_same() {
    let a = json(200, r#"{"a":1,"b":[1,2],"c":{"d":"x"}}"#);
    let b = json(200, r#"{"c":{"d":"x"},"b":[1,2],"a":1.0}"#);
    assert_eq!(compare(&a, &b, &policy(&[])), Verdict::Same);
}

#[test]
fn changed_field_is_a_body_mismatch_naming_the_pointer() {
    let a = json(200, r#"{"items":[{"name":"a"},{"name":"b"}]}"#);
    let b = json(200, r#"{"items":[{"name":"a"},{"name":"B"}]}"#);
    let v = compare(&a, &b, &policy(&[]));
    assert_eq!(category(&v), Some(Category::Body));
    let Verdict::Differ { detail, .. } = v else {
        unreachable!()
    };
    assert!(detail.contains("/items/1/name"), "{detail}");
    assert!(detail.contains(r#""b" vs "B""#), "{detail}");
}

#[test]
fn random_id_ignored_by_glob_is_same() {
    let a = json(
        200,
        r#"{"id":"r1","items":[{"id":"x1","createdAt":"t1","v":1}]}"#,
    );
    let b = json(
        200,
        r#"{"id":"r2","items":[{"id":"x2","createdAt":"t2","v":1}]}"#,
    );
    assert_eq!(
        compare(&a, &b, &policy(&["**/id", "/items/*/createdAt"])),
        Verdict::Same
    );
    assert_eq!(
        category(&compare(&a, &b, &policy(&["/items/*/createdAt"]))),
        Some(Category::Body)
    );
}

#[test]
fn ignore_pointer_removes_only_that_element() {
    let a = json(200, r#"{"a":[{"id":1},{"id":2}]}"#);
    let b = json(200, r#"{"a":[{"id":9},{"id":3}]}"#);
    assert_eq!(
        category(&compare(&a, &b, &policy(&["/a/0/id"]))),
        Some(Category::Body)
    );
    assert_eq!(
        compare(&a, &b, &policy(&["/a/0/id", "/a/1/id"])),
        Verdict::Same
    );
}

#[test]
fn missing_key_and_array_length_are_reported() {
    let v = compare(
        &json(200, r#"{"a":1,"b":2}"#),
        &json(200, r#"{"a":1}"#),
        &policy(&[]),
    );
    assert!(
        matches!(&v, Verdict::Differ { detail, .. } if detail.contains("\"b\" only in primary"))
    );
    let v = compare(&json(200, "[1,2]"), &json(200, "[1,2,3]"), &policy(&[]));
    assert!(matches!(&v, Verdict::Differ { detail, .. } if detail.contains("array length 2 vs 3")));
}

#[test]
fn server_error_against_ok_is_a_status_mismatch() {
    let v = compare(&json(500, "{}"), &json(200, "{}"), &policy(&[]));
    assert_eq!(category(&v), Some(Category::Status));
}

#[test]
fn denied_against_ok_is_an_auth_decision_mismatch_either_way() {
    for (p, o) in [(401, 200), (200, 403), (403, 204)] {
        let v = compare(&json(p, "{}"), &json(o, "{}"), &policy(&[]));
        assert_eq!(category(&v), Some(Category::AuthDecision), "{p} vs {o}");
    }
    // 401 vs 404 is an ordinary status mismatch.
    let v = compare(&json(401, "{}"), &json(404, "{}"), &policy(&[]));
    assert_eq!(category(&v), Some(Category::Status));
}

#[test]
fn selected_header_difference_is_a_header_mismatch() {
    let a = json(200, "{}");
    let mut b = json(200, "{}");
    b.headers = vec![("content-type".into(), "text/html".into())];
    assert_eq!(
        category(&compare(&a, &b, &policy(&[]))),
        Some(Category::Header)
    );
}

#[test]
fn headers_not_selected_are_ignored() {
    let a = json(200, "{}");
    let mut b = json(200, "{}");
    b.headers.push(("x-request-id".into(), "abc".into()));
    assert_eq!(compare(&a, &b, &policy(&[])), Verdict::Same);
}

#[test]
fn secret_header_values_never_appear_in_detail() {
    let mut a = json(200, "{}");
    let mut b = json(200, "{}");
    a.headers
        .push(("Set-Cookie".into(), "session=s3cret".into()));
    b.headers.push(("set-cookie".into(), "session=zzz".into()));
    let mut p = policy(&[]);
    p.headers.push("set-cookie".into());
    let v = compare(&a, &b, &p);
    let Verdict::Differ { category, detail } = v else {
        panic!("expected a mismatch")
    };
    assert_eq!(category, Category::Header);
    assert!(
        !detail.contains("s3cret") && !detail.contains("zzz"),
        "{detail}"
    );
}

#[test]
fn secret_json_fields_are_redacted_in_detail() {
    let a = json(200, r#"{"accessToken":"eyJhbGciOi.aaa.bbb"}"#);
    let b = json(200, r#"{"accessToken":"eyJhbGciOi.ccc.ddd"}"#);
    let Verdict::Differ { detail, .. } = compare(&a, &b, &policy(&[])) else {
        panic!()
    };
    assert!(
        !detail.contains("aaa") && detail.contains("/accessToken"),
        "{detail}"
    );
}

#[test]
fn non_json_bodies_are_compared_by_digest() {
    assert_eq!(
        compare(&text(200, "hello"), &text(200, "hello"), &policy(&[])),
        Verdict::Same
    );
    let v = compare(&text(200, "hello"), &text(200, "hellO"), &policy(&[]));
    let Verdict::Differ { category, detail } = v else {
        panic!()
    };
    assert_eq!(category, Category::Body);
    assert!(
        detail.starts_with("body digest: primary sha256:"),
        "{detail}"
    );
}

#[test]
fn invalid_json_falls_back_to_digest() {
    let v = compare(
        &json(200, "{not json"),
        &json(200, "{not json"),
        &policy(&[]),
    );
    assert_eq!(v, Verdict::Same);
}

#[test]
fn only_one_side_over_the_cap_is_a_body_mismatch() {
    let a = json(200, r#"{"a":1}"#);
    let mut b = json(200, r#"{"a":1}"#);
    b.truncated = true;
    assert_eq!(
        category(&compare(&a, &b, &policy(&[]))),
        Some(Category::Body)
    );
}

#[test]
fn timeouts_and_errors_have_their_own_categories() {
    let ok = json(200, "{}");
    let t = Captured::failed(CaptureOutcome::Timeout);
    let e = Captured::failed(CaptureOutcome::Error);
    assert_eq!(
        category(&compare(&ok, &t, &policy(&[]))),
        Some(Category::Timeout)
    );
    assert_eq!(
        category(&compare(&e, &ok, &policy(&[]))),
        Some(Category::Error)
    );
    assert_eq!(
        category(&compare(&e, &t, &policy(&[]))),
        Some(Category::Timeout)
    );
    assert_eq!(compare(&t, &t, &policy(&[])), Verdict::Same);
}

#[test]
fn category_labels_match_the_metric_values() {
    let labels: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        labels,
        [
            "status",
            "header",
            "body",
            "auth_decision",
            "timeout",
            "error"
        ]
    );
    assert_eq!(CompareKind::SelfCheck.as_str(), "self");
}

#[test]
fn captured_debug_hides_headers_and_body() {
    let mut c = json(200, r#"{"token":"abc"}"#);
    c.headers.push(("set-cookie".into(), "sid=xyz".into()));
    let dbg = format!("{c:?}");
    assert!(!dbg.contains("abc") && !dbg.contains("xyz"), "{dbg}");
}

#[test]
fn bad_ignore_paths_are_rejected() {
    for p in ["items/*", "/", "", "/a/**"] {
        assert!(JsonPath::parse(p).is_err(), "{p:?} should be rejected");
    }
    assert!(JsonPath::parse("/a~1b/c~0d").is_ok());
}

#[test]
fn escaped_pointer_matches_keys_with_slashes() {
    let a = json(200, r#"{"a/b":1,"c":1}"#);
    let b = json(200, r#"{"a/b":2,"c":1}"#);
    assert_eq!(compare(&a, &b, &policy(&["/a~1b"])), Verdict::Same);
}

fn flag(percent: u8, noise_percent: u8) -> ShadowFlag {
    ShadowFlag {
        percent,
        noise_percent,
    }
}

#[test]
fn unsampled_requests_are_not_shadowed() {
    let r = ShadowRoute::default();
    let p = plan(
        &flag(10, 0),
        &r,
        Side::Next,
        &Method::GET,
        Some(0),
        0.5,
        0.0,
    );
    assert_eq!(p, Plan::Skip(SkipReason::NotSampled));
    let p = plan(
        &flag(10, 0),
        &r,
        Side::Next,
        &Method::GET,
        Some(0),
        0.05,
        0.0,
    );
    assert_eq!(
        p,
        Plan::Shadow {
            dry_run: false,
            self_check: false
        }
    );
}

#[test]
fn writes_are_not_shadowed_unless_dry_run_towards_rust() {
    let mut r = ShadowRoute::default();
    let post = Method::POST;
    let skip = Plan::Skip(SkipReason::Method);
    assert_eq!(
        plan(&flag(100, 0), &r, Side::Next, &post, Some(10), 0.0, 0.0),
        skip
    );
    r.writes = ShadowWrites::DryRun;
    let p = plan(&flag(100, 100), &r, Side::Next, &post, Some(10), 0.0, 0.0);
    assert_eq!(
        p,
        Plan::Shadow {
            dry_run: true,
            self_check: false
        }
    );
    // The copy would go to next, which does not honour x-cutover-shadow.
    assert_eq!(
        plan(&flag(100, 0), &r, Side::Rust, &post, Some(10), 0.0, 0.0),
        skip
    );
}

#[test]
fn large_or_unknown_bodies_are_skipped() {
    let r = ShadowRoute::default();
    let f = flag(100, 0);
    let skip = Plan::Skip(SkipReason::Body);
    assert_eq!(
        plan(&f, &r, Side::Next, &Method::GET, Some(65_537), 0.0, 0.0),
        skip
    );
    assert_eq!(plan(&f, &r, Side::Next, &Method::GET, None, 0.0, 0.0), skip);
    assert_eq!(
        SkipReason::Body.result().map(ShadowResult::as_str),
        Some("skipped_body")
    );
}

#[test]
fn noise_percent_selects_self_checks_on_safe_methods() {
    let r = ShadowRoute::default();
    let p = plan(
        &flag(100, 10),
        &r,
        Side::Rust,
        &Method::GET,
        Some(0),
        0.0,
        0.05,
    );
    assert_eq!(
        p,
        Plan::Shadow {
            dry_run: false,
            self_check: true
        }
    );
    let p = plan(
        &flag(100, 10),
        &r,
        Side::Rust,
        &Method::GET,
        Some(0),
        0.0,
        0.5,
    );
    assert_eq!(
        p,
        Plan::Shadow {
            dry_run: false,
            self_check: false
        }
    );
}
