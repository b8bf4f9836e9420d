use http::Method;
use proptest::prelude::*;

use super::{Ambiguity, canonical, check};
use crate::route::{PathPattern, Route, RouteId, RouteKind, RouteTable};

fn table() -> RouteTable {
    let route = |id: &str, path: &str| Route {
        id: RouteId::parse(id).unwrap(),
        pattern: PathPattern::parse(path).unwrap(),
        methods: None,
        rust_path: None,
        kind: RouteKind::Http,
        auth: Default::default(),
        cap: None,
    };
    RouteTable::new(vec![
        route("messages", "/api/chat/user-threads/{threadId}/messages"),
        route("media", "/api/whatsapp/media/{*rest}"),
    ])
}

fn verdict(path: &str) -> Result<(), Ambiguity> {
    check(&table(), &Method::GET, path)
}

#[test]
fn plain_paths_pass_untouched() {
    assert_eq!(canonical("/api/chat/user-threads/t1/messages"), None);
    assert_eq!(canonical("/_next/static/chunks/app.js"), None);
    assert_eq!(canonical("/"), None);
    assert_eq!(verdict("/api/chat/user-threads/t1/messages/"), Ok(()));
}

#[test]
fn dot_segments_that_reach_a_route_are_refused() {
    for p in [
        "/api/chat/user-threads/x/../t1/messages",
        "/api/chat/x/../user-threads/t1/messages",
        "/api/chat/user-threads/x/%2e%2e/t1/messages",
        "/api/chat/user-threads/x/%2E./t1/messages",
        "/api/chat/./user-threads/t1/messages",
    ] {
        assert_eq!(verdict(p), Err(Ambiguity::DotSegment), "{p}");
    }
}

/// Read either way, these claim no other route: the route cutover matched
/// (and its auth) stays in charge, and its handler sees the id as sent.
#[test]
fn variants_whose_other_reading_claims_nothing_stay_with_their_route() {
    for p in [
        "/api/whatsapp/media/..%2F..%2Fetc%2Fpasswd",
        "/api/whatsapp/media/../../../etc/passwd",
        "/api/chat/user-threads/a%2Fb/messages",
    ] {
        assert_eq!(verdict(p), Ok(()), "{p}");
    }
}

#[test]
fn separators_and_empty_segments_that_reach_a_route_are_refused() {
    assert_eq!(
        verdict("/api/chat%2fuser-threads/t1/messages"),
        Err(Ambiguity::EncodedSeparator)
    );
    assert_eq!(
        verdict("/api\\chat/user-threads/t1/messages"),
        Err(Ambiguity::EncodedSeparator)
    );
    assert_eq!(
        verdict("//api/chat/user-threads/t1/messages"),
        Err(Ambiguity::EmptySegment)
    );
    assert_eq!(
        verdict("/api/ch%61t/user-threads/t1/messages"),
        Err(Ambiguity::EncodedPlainCharacter)
    );
}

#[test]
fn odd_paths_no_route_claims_are_left_to_next() {
    for p in [
        "/blog/../about",
        "//cdn/x.js",
        "/files/a%2Fb",
        "/search/%41",
        "/api/other/./x",
    ] {
        assert_eq!(verdict(p), Ok(()), "{p}");
    }
}

#[test]
fn reserved_and_non_ascii_escapes_are_kept() {
    assert_eq!(
        canonical("/api/x%3Fy/./z").map(|c| c.0),
        Some("/api/x%3Fy/z".to_string())
    );
    assert_eq!(
        canonical("/api/%C3%A9/%2e").map(|c| c.0),
        Some("/api/%C3%A9/".to_string())
    );
}

proptest! {
    /// Arbitrary bytes (as a request path would arrive, lossily decoded):
    /// no panic, and a refusal only ever names a reason that is in the path.
    #[test]
    fn arbitrary_paths_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..256)) {
        let path = String::from_utf8_lossy(&raw);
        let _ = canonical(&path);
        let _ = verdict(&path);
        let mut with_slash = String::from("/");
        with_slash.push_str(&path);
        if let Err(a) = verdict(&with_slash) {
            prop_assert!(with_slash.contains('%') || with_slash.contains('\\') || with_slash.contains("//") || with_slash.contains("/."), "{a:?}");
        }
    }
}
