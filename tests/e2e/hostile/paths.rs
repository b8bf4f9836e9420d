//! Route differentials: a path variant a backend could read as a claimed
//! route is refused, so no route's handler is reached without that route's
//! auth and rust never sees a path the table did not claim.

use super::{exchange, stack, status_of};

/// `(path, what cutover must do)`: Refused(400), or the route it claims (the
/// auth of `secret` answers 401 without a cookie), or next untouched.
#[tokio::test(flavor = "multi_thread")]
async fn path_variants_never_reach_a_route_without_its_auth() {
    let stack = stack().await;
    let cases: &[(&str, &str)] = &[
        ("/api/secret/1", "401"),
        ("/api/secret/1/", "401"),
        ("/api/secret/%2e%2e/secret/1", "400"),
        ("/api/open/../secret/1", "400"),
        ("/api/open/x/..%2f..%2fsecret/1", "400"),
        ("/api/secret%2f1", "400"),
        ("/api\\secret/1", "400"),
        ("//api/secret/1", "400"),
        ("/api/./secret/1", "400"),
        ("/api/s%65cret/1", "400"),
        ("/API/secret/1", "next"),
        ("/api/secret/1;x=y", "401"),
        ("/api/secret;x/1", "next"),
        ("/api/open/1", "rust"),
        ("/api/open/a%2fb", "rust"),
        ("/blog/../about", "next"),
        ("http://a/api/secret/1", "401"),
        ("http://evil.example/api/secret/1", "400"),
        ("http://evil.example/api/open/1", "400"),
    ];
    let mut failures = Vec::new();
    for (target, want) in cases {
        let raw = format!("GET {target} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
        let (response, _) = exchange(&stack, raw.as_bytes()).await;
        let (next, rust) = (stack.next.take(), stack.rust.take());
        let got = match status_of(&response) {
            Some(401) if next.is_empty() && rust.is_empty() => "401".to_string(),
            // cutover's own answer, labelled as such (an absolute-form target
            // whose host disagrees is refused by Pingora before any header).
            Some(400)
                if next.is_empty()
                    && rust.is_empty()
                    && (target.starts_with("http://")
                        || response
                            .to_ascii_lowercase()
                            .contains("x-cutover-backend: cutover")) =>
            {
                "400".to_string()
            }
            Some(200) if rust.is_empty() && next.len() == 1 => "next".to_string(),
            Some(200) if next.is_empty() && rust.len() == 1 => "rust".to_string(),
            other => format!("{other:?} next={next:?} rust={rust:?}"),
        };
        // Whatever reached an upstream went in origin form.
        for r in next.iter().chain(&rust) {
            let target = r.request_line().split(' ').nth(1).unwrap_or("");
            if !target.starts_with('/') {
                failures.push(format!("{target}: forwarded in absolute form: {}", r.head));
            }
        }
        if got != *want {
            failures.push(format!("{target}: want {want}, got {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
