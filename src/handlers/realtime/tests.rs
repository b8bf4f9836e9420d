//! Unit tests of the pure realtime parts: TTL cache, input rules, channel kinds, body parsing.

use std::time::{Duration, Instant};

use axum::http::HeaderMap;

use super::cache::RealtimeConfigCache;
use super::rules::{Channel, classify, valid_channel_name, valid_socket_id};
use super::*;

fn payload(key: &str) -> RealtimeConfigPayload {
    RealtimeConfigPayload {
        key: key.into(),
        host: "127.0.0.1".into(),
        port: 6001,
        use_tls: false,
        cluster: "mt1".into(),
        auth_endpoint: AUTH_ENDPOINT,
        user_auth_endpoint: AUTH_ENDPOINT,
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
    assert!(valid_channel_name("private-thread-abc_1=@,.;"));
    assert!(!valid_channel_name("private-thread-a b"));
    assert!(!valid_channel_name(""));
    assert!(!valid_channel_name(&"a".repeat(201)));
}

#[test]
fn channels_are_classified_by_prefix() {
    assert_eq!(classify("private-user-u1"), Channel::User("u1"));
    assert_eq!(classify("private-thread-t1"), Channel::Thread("t1"));
    assert_eq!(classify("presence-tenant-x"), Channel::TenantPresence("x"));
    assert_eq!(classify("private-chatbot-c"), Channel::Chatbot("c"));
    assert_eq!(classify("private-whatsapp.wa1"), Channel::WhatsApp("wa1"));
    assert_eq!(classify("private-whatsapp."), Channel::Other);
    assert_eq!(classify("whatsapp.wa1"), Channel::Other);
    assert_eq!(classify("private-user-"), Channel::Other);
    assert_eq!(classify("public-news"), Channel::Other);
    assert_eq!(classify("private-encrypted-user-u1"), Channel::Other);
}

#[test]
fn auth_body_is_read_as_form_unless_json() {
    let form = parse_auth_request(
        &HeaderMap::new(),
        b"socket_id=1.2&channel_name=private-user-u1",
    )
    .unwrap();
    assert_eq!(form.channel_name.as_deref(), Some("private-user-u1"));
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
