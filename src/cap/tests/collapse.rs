use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;
use tokio::sync::watch;

use crate::cap::{ClientKey, CollapseKey, CollapseRole, Collapser};

fn key(channel: &str) -> CollapseKey {
    CollapseKey::new(
        "realtime-auth",
        &ClientKey::User("u1".into()),
        "1.2",
        channel,
    )
}

type Call = Pin<Box<dyn Future<Output = (Result<String, String>, CollapseRole)>>>;

#[tokio::test]
async fn concurrent_identical_calls_run_once_and_share_the_answer() {
    let collapser: Arc<Collapser<String>> = Arc::new(Collapser::new(100));
    let runs = Arc::new(AtomicUsize::new(0));
    let (open, gate) = watch::channel(false);
    let now = Instant::now();
    let mut calls: Vec<Call> = (0..50)
        .map(|_| {
            let (collapser, runs, mut gate) = (collapser.clone(), runs.clone(), gate.clone());
            Box::pin(async move {
                collapser
                    .run(key("private-a"), Duration::ZERO, now, move || async move {
                        runs.fetch_add(1, Ordering::SeqCst);
                        let _ = gate.wait_for(|open| *open).await;
                        Ok("sig".to_string())
                    })
                    .await
            }) as Call
        })
        .collect();
    for call in &mut calls {
        assert!(futures::poll!(call.as_mut()).is_pending());
    }
    open.send_replace(true);
    let results = join_all(calls).await;
    assert_eq!(runs.load(Ordering::SeqCst), 1);
    assert!(
        results
            .iter()
            .all(|(answer, _)| answer.as_deref() == Ok("sig"))
    );
    let leaders = results
        .iter()
        .filter(|(_, role)| *role == CollapseRole::Leader)
        .count();
    let followers = results
        .iter()
        .filter(|(_, role)| *role == CollapseRole::Follower)
        .count();
    assert_eq!((leaders, followers), (1, 49));
}

#[tokio::test]
async fn successful_answer_is_served_from_cache_within_ttl_and_not_after() {
    let collapser: Collapser<String> = Collapser::new(100);
    let runs = AtomicUsize::new(0);
    let call = || async {
        runs.fetch_add(1, Ordering::SeqCst);
        Ok("sig".to_string())
    };
    let t0 = Instant::now();
    let ttl = Duration::from_secs(2);
    assert_eq!(
        collapser.run(key("c"), ttl, t0, call).await.1,
        CollapseRole::Leader
    );
    let hit = collapser
        .run(key("c"), ttl, t0 + Duration::from_millis(1999), call)
        .await;
    assert_eq!(hit, (Ok("sig".to_string()), CollapseRole::CacheHit));
    let miss = collapser.run(key("c"), ttl, t0 + ttl, call).await;
    assert_eq!(miss.1, CollapseRole::Leader);
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn failed_answer_is_not_cached() {
    let collapser: Collapser<String> = Collapser::new(100);
    let runs = AtomicUsize::new(0);
    let failing = || async {
        runs.fetch_add(1, Ordering::SeqCst);
        Err("backend 500".to_string())
    };
    let t0 = Instant::now();
    let ttl = Duration::from_secs(2);
    assert_eq!(
        collapser.run(key("c"), ttl, t0, failing).await.1,
        CollapseRole::Leader
    );
    let again = collapser.run(key("c"), ttl, t0, failing).await;
    assert_eq!(
        again,
        (Err("backend 500".to_string()), CollapseRole::Leader)
    );
    assert_eq!(runs.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn zero_ttl_disables_the_cache() {
    let collapser: Collapser<String> = Collapser::new(100);
    let t0 = Instant::now();
    let ok = || async { Ok("sig".to_string()) };
    let _ = collapser.run(key("c"), Duration::ZERO, t0, ok).await;
    assert_eq!(
        collapser.run(key("c"), Duration::ZERO, t0, ok).await.1,
        CollapseRole::Leader
    );
    assert!(collapser.is_empty());
}

#[tokio::test]
async fn different_channels_are_not_collapsed() {
    let collapser: Collapser<String> = Collapser::new(100);
    let t0 = Instant::now();
    let ttl = Duration::from_secs(2);
    let _ = collapser
        .run(key("a"), ttl, t0, || async { Ok("a".to_string()) })
        .await;
    let b = collapser
        .run(key("b"), ttl, t0, || async { Ok("b".to_string()) })
        .await;
    assert_eq!(b, (Ok("b".to_string()), CollapseRole::Leader));
}

#[tokio::test]
async fn follower_takes_over_when_the_leader_is_cancelled() {
    let collapser: Collapser<String> = Collapser::new(100);
    let t0 = Instant::now();
    let mut leader = Box::pin(collapser.run(key("c"), Duration::ZERO, t0, || {
        futures::future::pending::<Result<String, String>>()
    }));
    assert!(futures::poll!(leader.as_mut()).is_pending());
    let mut follower = Box::pin(collapser.run(key("c"), Duration::ZERO, t0, || async {
        Ok("from follower".to_string())
    }));
    assert!(futures::poll!(follower.as_mut()).is_pending());
    drop(leader);
    let answer = follower.await;
    assert_eq!(
        answer,
        (Ok("from follower".to_string()), CollapseRole::Leader)
    );
}

#[tokio::test]
async fn cache_stays_bounded_under_many_distinct_requests() {
    let collapser: Collapser<String> = Collapser::new(50);
    let t0 = Instant::now();
    for i in 0..5000 {
        let channel = format!("private-{i}");
        let _ = collapser
            .run(key(&channel), Duration::from_secs(60), t0, || async {
                Ok("s".to_string())
            })
            .await;
        assert!(collapser.len() <= 50);
    }
}

#[test]
fn collapse_key_parts_do_not_run_together() {
    assert_ne!(
        CollapseKey::from_parts(&[b"ab", b"c"]),
        CollapseKey::from_parts(&[b"a", b"bc"])
    );
}
