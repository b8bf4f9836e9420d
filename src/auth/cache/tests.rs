use super::{CacheKey, Source, TokenCache, same_bytes};
use crate::identity::{AuthScheme, Identity};

fn id(exp: Option<u64>) -> Identity {
    user("u", exp)
}

fn user(user_id: &str, exp: Option<u64>) -> Identity {
    Identity {
        scheme: AuthScheme::Session,
        user_id: user_id.into(),
        email: None,
        tenant_id: None,
        issuer: None,
        expires_at: exp,
    }
}

/// `key` with its hash forced to `hash`: two tokens that collide.
fn colliding<'a>(
    cache: &TokenCache,
    source: Source<'a>,
    token: &'a str,
    hash: u64,
) -> CacheKey<'a> {
    CacheKey {
        hash,
        ..cache.key(source, token, 0)
    }
}

#[test]
fn entry_is_served_until_exp_and_not_after() {
    let cache = TokenCache::new(10);
    let k = cache.key(Source::Bearer, "t", 0);
    cache.insert(&k, &id(Some(100)), 50);
    assert!(cache.get(&k, 99).is_some());
    assert!(cache.get(&k, 100).is_none());
    assert_eq!(cache.len(), 0, "expired entry is dropped on lookup");
}

#[test]
fn identity_without_exp_is_never_cached() {
    let cache = TokenCache::new(10);
    cache.insert(&cache.key(Source::Bearer, "t", 0), &id(None), 50);
    assert_eq!(cache.len(), 0);
}

#[test]
fn same_token_from_another_source_is_another_entry() {
    let cache = TokenCache::new(10);
    cache.insert(&cache.key(Source::Cookie("a"), "t", 0), &id(Some(100)), 1);
    assert!(
        cache
            .get(&cache.key(Source::Cookie("a"), "t", 0), 2)
            .is_some()
    );
    assert!(
        cache
            .get(&cache.key(Source::Cookie("b"), "t", 0), 2)
            .is_none()
    );
    assert!(cache.get(&cache.key(Source::Bearer, "t", 0), 2).is_none());
    assert!(
        cache
            .get(&cache.key(Source::Cookie("a"), "u", 0), 2)
            .is_none()
    );
}

#[test]
fn a_colliding_token_never_gets_the_cached_identity() {
    let cache = TokenCache::new(10);
    let alice = colliding(&cache, Source::Bearer, "alice-token", 7);
    let mallory = colliding(&cache, Source::Bearer, "mallory-tok", 7);
    cache.insert(&alice, &user("alice", Some(100)), 1);
    assert!(
        cache.get(&mallory, 2).is_none(),
        "same hash, other token: a miss"
    );
    assert_eq!(
        cache.get(&alice, 2).map(|i| i.user_id),
        Some("alice".into())
    );
    let cookie = colliding(&cache, Source::Cookie("s"), "alice-token", 7);
    assert!(
        cache.get(&cookie, 2).is_none(),
        "same hash and token, other source"
    );
}

#[test]
fn a_colliding_insert_replaces_the_entry_and_serves_only_its_own_token() {
    let cache = TokenCache::new(10);
    let alice = colliding(&cache, Source::Bearer, "alice-token", 7);
    let bob = colliding(&cache, Source::Bearer, "bob-token", 7);
    cache.insert(&alice, &user("alice", Some(100)), 1);
    cache.insert(&bob, &user("bob", Some(100)), 1);
    assert_eq!(cache.len(), 1);
    assert!(cache.get(&alice, 2).is_none());
    assert_eq!(cache.get(&bob, 2).map(|i| i.user_id), Some("bob".into()));
}

#[test]
fn same_bytes_is_exact() {
    assert!(same_bytes(b"", b""));
    assert!(same_bytes(b"token", b"token"));
    assert!(!same_bytes(b"token", b"tokem"));
    assert!(!same_bytes(b"token", b"Token"));
    assert!(!same_bytes(b"token", b"token "));
    let long = "x".repeat(1000);
    let mut other = long.clone().into_bytes();
    other[999] = b'y';
    assert!(!same_bytes(long.as_bytes(), &other));
}

#[test]
fn cache_never_grows_past_capacity() {
    let cache = TokenCache::new(3);
    for i in 0..20u64 {
        let token = i.to_string();
        cache.insert(&cache.key(Source::Bearer, &token, 0), &id(Some(1_000)), i);
        assert!(cache.len() <= 3);
    }
}

#[test]
fn full_cache_sweeps_expired_entries_first() {
    let cache = TokenCache::new(2);
    cache.insert(&cache.key(Source::Bearer, "old", 0), &id(Some(10)), 1);
    let keep = cache.key(Source::Bearer, "keep", 0);
    cache.insert(&keep, &id(Some(1_000)), 1);
    cache.insert(&cache.key(Source::Bearer, "new", 0), &id(Some(1_000)), 20);
    assert!(cache.get(&keep, 21).is_some());
}

#[test]
fn zero_capacity_disables_the_cache() {
    let cache = TokenCache::new(0);
    cache.insert(&cache.key(Source::Bearer, "t", 0), &id(Some(100)), 1);
    assert_eq!(cache.len(), 0);
}

#[test]
fn entries_of_an_older_key_set_do_not_match() {
    let cache = TokenCache::new(10);
    cache.insert(&cache.key(Source::Bearer, "t", 1), &id(Some(100)), 1);
    assert!(cache.get(&cache.key(Source::Bearer, "t", 1), 2).is_some());
    assert!(cache.get(&cache.key(Source::Bearer, "t", 2), 2).is_none());
}

#[test]
fn two_caches_hash_the_same_token_differently() {
    // Seeded per cache: a collision found against one process is no use against another.
    let (a, b) = (TokenCache::new(1), TokenCache::new(1));
    assert_ne!(
        a.key(Source::Bearer, "t", 0).hash,
        b.key(Source::Bearer, "t", 0).hash
    );
}
