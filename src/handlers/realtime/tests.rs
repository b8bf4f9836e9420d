//! Unit tests of the pure realtime parts: TTL cache, input rules, channel
//! kinds, body parsing, thread keys and their sort order.

use std::time::{Duration, Instant};

use axum::http::HeaderMap;

use super::cache::RealtimeConfigCache;
use super::channels::{locale_cmp, recipient, thread_key};
use super::rules::{Channel, classify, valid_channel_name, valid_socket_id};
use super::*;

fn payload(key: &str) -> RealtimeConfigPayload {
    RealtimeConfigPayload {
        key: key.into(),
        host: "127.0.0.1".into(),
        port: 6001,
        use_tls: false,
        app_id: "app-1".into(),
        cluster: "mt1",
    }
}

#[test]
fn cached_config_expires_after_the_ttl() {
    let cache = RealtimeConfigCache::new(Duration::from_secs(60));
    let t0 = Instant::now();
    cache.put(t0, payload("a"));
    assert_eq!(cache.get(t0 + Duration::from_secs(59)), Some(payload("a")));
    assert_eq!(cache.get(t0 + Duration::from_secs(60)), None);
}

#[test]
fn cleared_cache_is_empty() {
    let cache = RealtimeConfigCache::new(Duration::from_secs(60));
    let t0 = Instant::now();
    cache.put(t0, payload("a"));
    cache.clear();
    assert_eq!(cache.get(t0), None);
}

#[test]
fn socket_ids_must_be_two_digit_groups() {
    assert!(valid_socket_id("123.456"));
    for bad in ["", "123", "123.", ".456", "12a.4", "1.2.3", "１.2"] {
        assert!(!valid_socket_id(bad), "{bad}");
    }
}

#[test]
fn channel_names_follow_the_pusher_alphabet() {
    assert!(valid_channel_name("presence-tenant.t1.thread.abc_1=@,.;"));
    assert!(!valid_channel_name("presence-tenant.t1.thread.a b"));
    assert!(!valid_channel_name(""));
    assert!(!valid_channel_name(&"a".repeat(201)));
}

#[test]
fn channels_are_classified_by_prefix() {
    assert_eq!(
        classify("presence-tenant.t1.thread.u1--u2"),
        Channel::Thread {
            tenant: "t1",
            key: "u1--u2"
        }
    );
    assert_eq!(
        classify("presence-tenant.t1.online"),
        Channel::TenantPresence("t1")
    );
    assert_eq!(
        classify("presence-tenant.t1.thread."),
        Channel::TenantPresence("t1")
    );
    assert_eq!(
        classify("private-tenant.t1.notifications"),
        Channel::TenantPrivate("t1")
    );
    assert_eq!(
        classify("private-scheduled.t1.u1"),
        Channel::Scheduled {
            tenant: "t1",
            sender: "u1"
        }
    );
    assert_eq!(classify("private-chatbot-c"), Channel::Chatbot("c"));
    assert_eq!(classify("private-whatsapp.wa1"), Channel::WhatsApp("wa1"));
    for other in [
        "private-whatsapp.",
        "whatsapp.wa1",
        "presence-tenant.t1.",
        "presence-tenant..online",
        "private-scheduled.t1.u1.x",
        "private-thread-th1",
        "presence-tenant-t1",
        "private-user-u1",
        "public-news",
        "private-encrypted-user-u1",
    ] {
        assert_eq!(classify(other), Channel::Other, "{other}");
    }
}

#[test]
fn one_to_one_thread_key_is_the_sorted_trimmed_ids() {
    let people = |a: &str, b: &str| vec![a.to_owned(), b.to_owned()];
    assert_eq!(thread_key("th1", &people("u2", " u1 ")), "u1--u2");
    assert_eq!(thread_key("th1", &people("u1", "u2")), "u1--u2");
    assert_eq!(thread_key("th9", &["u1".to_owned()]), "group-th9");
    assert_eq!(
        thread_key("th9", &["u1".into(), "u2".into(), "u3".into()]),
        "group-th9"
    );
    assert_eq!(recipient(&people("u1", "u2"), "u1"), Some("u2"));
    assert_eq!(
        recipient(&["u1".into(), "u2".into(), "u3".into()], "u1"),
        None
    );
}

/// The expected order is what Node prints for
/// `ids.sort((a, b) => a.localeCompare(b))` (full-icu).
#[test]
fn ids_sort_as_javascript_locale_compare_does() {
    let expected = [
        "_x", "-x", "10", "9", "a", "A", "a_", "a_b", "a-", "a-b", "a.b", "a1", "ab", "aB", "Ab",
        "b", "B", "cm0abc", "cm0Abd", "u,1", "u;1", "u=1", "u1", "U1", "u2", "user@x", "x", "x1",
        "X1",
    ];
    let mut ids = expected.to_vec();
    ids.reverse();
    ids.sort_by(|a, b| locale_cmp(a, b));
    assert_eq!(ids, expected);
}

#[test]
fn auth_body_is_read_as_form_unless_json() {
    let form = parse_auth_request(
        &HeaderMap::new(),
        b"socket_id=1.2&channel_name=private-tenant.t1.notifications",
    )
    .unwrap();
    assert_eq!(
        form.channel_name.as_deref(),
        Some("private-tenant.t1.notifications")
    );
    let mut headers = HeaderMap::new();
    headers.insert(
        "content-type",
        "application/json; charset=utf-8".parse().unwrap(),
    );
    let json = parse_auth_request(&headers, br#"{"socket_id":"1.2"}"#).unwrap();
    assert_eq!(
        (json.socket_id.as_deref(), json.channel_name),
        (Some("1.2"), None)
    );
    assert!(parse_auth_request(&headers, b"socket_id=1.2").is_err());
}
