use super::*;

fn route(id: &str, path: &str, methods: Option<&[&str]>) -> Route {
    Route {
        id: RouteId::parse(id).unwrap(),
        pattern: PathPattern::parse(path).unwrap(),
        methods: methods.map(|ms| {
            ms.iter()
                .map(|m| Method::from_bytes(m.as_bytes()).unwrap())
                .collect()
        }),
        rust_path: None,
        kind: RouteKind::Http,
        auth: crate::auth::RouteAuth::none(),
        cap: None,
    }
}

fn table() -> RouteTable {
    RouteTable::new(vec![
        route("chatbot", "/api/tenant-chatbot/{*rest}", None),
        route("threads", "/api/chat/user-threads", Some(&["GET", "POST"])),
        route(
            "messages",
            "/api/chat/user-threads/{threadId}/messages",
            Some(&["GET"]),
        ),
        route(
            "typing",
            "/api/chat/user-threads/typing/messages",
            Some(&["GET"]),
        ),
    ])
}

#[test]
fn named_param_is_captured() {
    let t = table();
    let m = t
        .find(&Method::GET, "/api/chat/user-threads/t-42/messages")
        .unwrap();
    assert_eq!(m.route.id.as_str(), "messages");
    assert_eq!(m.params, vec![("threadId", "t-42")]);
}

#[test]
fn literal_beats_param_whatever_the_file_order() {
    let t = table();
    let m = t
        .find(&Method::GET, "/api/chat/user-threads/typing/messages")
        .unwrap();
    assert_eq!(m.route.id.as_str(), "typing");
}

#[test]
fn other_methods_and_paths_are_unmatched() {
    let t = table();
    assert!(t.find(&Method::DELETE, "/api/chat/user-threads").is_none());
    assert!(t.find(&Method::GET, "/api/chat/user-threads/t1").is_none());
    assert!(
        t.find(&Method::GET, "/api/chat/user-threads//messages")
            .is_none()
    );
    assert!(t.find(&Method::GET, "/_next/static/app.js").is_none());
    assert!(t.find(&Method::GET, "/api/auth/session").is_none());
}

#[test]
fn head_follows_get_and_trailing_slash_matches() {
    let t = table();
    assert!(t.find(&Method::HEAD, "/api/chat/user-threads").is_some());
    assert!(t.find(&Method::GET, "/api/chat/user-threads/").is_some());
}

#[test]
fn tail_param_takes_the_rest() {
    let t = table();
    let m = t
        .find(
            &Method::POST,
            "/api/tenant-chatbot/conversations/c1/messages",
        )
        .unwrap();
    assert_eq!(m.params, vec![("rest", "conversations/c1/messages")]);
}

#[test]
fn rust_path_is_rendered_with_params_and_query() {
    let mut r = route(
        "messages",
        "/api/chat/user-threads/{threadId}/messages",
        None,
    );
    r.rust_path = Some(PathPattern::parse("/chat/threads/{threadId}/messages").unwrap());
    let t = RouteTable::new(vec![r]);
    let m = t
        .find(&Method::GET, "/api/chat/user-threads/abc/messages")
        .unwrap();
    assert_eq!(
        m.rust_path_and_query(Some("cursor=x&limit=2")).unwrap(),
        "/chat/threads/abc/messages?cursor=x&limit=2"
    );
}

#[test]
fn bad_patterns_and_ids_are_rejected_with_the_fix() {
    assert!(
        PathPattern::parse("api/x")
            .unwrap_err()
            .contains("must start with `/`")
    );
    assert!(
        PathPattern::parse("/a/{*rest}/b")
            .unwrap_err()
            .contains("last segment")
    );
    assert!(
        PathPattern::parse("/a/x{id}")
            .unwrap_err()
            .contains("whole `{name}`")
    );
    assert!(
        RouteId::parse("User Threads")
            .unwrap_err()
            .contains("lowercase")
    );
}

#[test]
fn unclaimed_engineio_polling_get_is_a_long_poll_without_read_timeout() {
    let kind =
        |method: Method, query: Option<&str>| RouteKind::of_unclaimed(false, false, &method, query);
    for q in [
        "EIO=4&transport=polling&t=PXk2a1",
        "EIO=4&transport=polling&t=PXk2a1&sid=Zx9-AAAB",
        "t=1&EIO=3&transport=polling",
    ] {
        let k = kind(Method::GET, Some(q));
        assert_eq!(k, RouteKind::LongPoll, "{q}");
        assert!(!k.has_read_timeout() && !k.is_streaming(), "{q}");
    }
    // The client's POSTs are answered at once; other queries are plain HTTP.
    for (m, q) in [
        (Method::POST, Some("EIO=4&transport=polling&sid=x")),
        (Method::GET, Some("EIO=4&transport=websocket&sid=x")),
        (Method::GET, Some("EIO=&transport=polling")),
        (Method::GET, Some("eio=4&transport=polling")),
        (Method::GET, Some("transport=polling")),
        (Method::GET, None),
    ] {
        let k = kind(m.clone(), q);
        assert_eq!(k, RouteKind::Http, "{m} {q:?}");
        assert!(k.has_read_timeout());
    }
    // Upgrades and event streams keep their kinds.
    let eio = Some("EIO=4&transport=websocket");
    assert_eq!(
        RouteKind::of_unclaimed(true, false, &Method::GET, eio),
        RouteKind::Websocket
    );
    assert_eq!(
        RouteKind::of_unclaimed(false, true, &Method::GET, None),
        RouteKind::Sse
    );
}

#[test]
fn longpoll_is_a_route_kind_and_unknown_kinds_name_the_choices() {
    assert_eq!(RouteKind::parse("longpoll"), Ok(RouteKind::LongPoll));
    assert!(
        RouteKind::parse("long-poll")
            .unwrap_err()
            .contains("\"longpoll\"")
    );
}
