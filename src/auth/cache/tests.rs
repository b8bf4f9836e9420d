use super::{TokenCache, key};
use crate::identity::{AuthScheme, Identity};

fn id(exp: Option<u64>) -> Identity {
    Identity {
        scheme: AuthScheme::Session,
        user_id: "u".into(),
        email: None,
        tenant_id: None,
        issuer: None,
        expires_at: exp,
    }
}

#[test]
fn entry_is_served_until_exp_and_not_after() {
    let cache = TokenCache::new(10);
    let k = key("bearer", "t", 0);
    cache.insert(k, &id(Some(100)), 50);
    assert!(cache.get(&k, 99).is_some());
    assert!(cache.get(&k, 100).is_none());
    assert_eq!(cache.len(), 0, "expired entry is dropped on lookup");
}

#[test]
fn identity_without_exp_is_never_cached() {
    let cache = TokenCache::new(10);
    cache.insert(key("bearer", "t", 0), &id(None), 50);
    assert_eq!(cache.len(), 0);
}

#[test]
fn same_token_from_another_source_is_another_key() {
    assert_ne!(key("cookie:a", "t", 0), key("cookie:b", "t", 0));
    assert_ne!(key("bearer", "t", 0), key("bearer", "u", 0));
}

#[test]
fn cache_never_grows_past_capacity() {
    let cache = TokenCache::new(3);
    for i in 0..20u64 {
        cache.insert(key("bearer", &i.to_string(), 0), &id(Some(1_000)), i);
        assert!(cache.len() <= 3);
    }
}

#[test]
fn full_cache_sweeps_expired_entries_first() {
    let cache = TokenCache::new(2);
    cache.insert(key("bearer", "old", 0), &id(Some(10)), 1);
    let keep = key("bearer", "keep", 0);
    cache.insert(keep, &id(Some(1_000)), 1);
    cache.insert(key("bearer", "new", 0), &id(Some(1_000)), 20);
    assert!(cache.get(&keep, 21).is_some());
}

#[test]
fn zero_capacity_disables_the_cache() {
    let cache = TokenCache::new(0);
    cache.insert(key("bearer", "t", 0), &id(Some(100)), 1);
    assert_eq!(cache.len(), 0);
}

#[test]
fn entries_of_an_older_key_set_do_not_match() {
    let cache = TokenCache::new(10);
    cache.insert(key("bearer", "t", 1), &id(Some(100)), 1);
    assert!(cache.get(&key("bearer", "t", 1), 2).is_some());
    assert!(cache.get(&key("bearer", "t", 2), 2).is_none());
}
