use std::pin::pin;
use std::time::Duration;

use super::{FakeTimer, nzu};
use crate::cap::inflight::{Inflight, QueueTimeout};

#[tokio::test]
async fn queued_request_is_refused_when_the_queue_timeout_passes() {
    let timer = FakeTimer::default();
    let inflight = Inflight::default();
    let _held = inflight
        .acquire(nzu(1), Duration::from_millis(50), &timer)
        .await;
    let mut waiting = pin!(inflight.acquire(nzu(1), Duration::from_millis(50), &timer));
    assert!(futures::poll!(waiting.as_mut()).is_pending());
    timer.advance(Duration::from_millis(49));
    assert!(futures::poll!(waiting.as_mut()).is_pending());
    timer.advance(Duration::from_millis(1));
    assert_eq!(waiting.await.err(), Some(QueueTimeout));
}

#[tokio::test]
async fn queued_request_gets_the_slot_freed_before_its_timeout() {
    let timer = FakeTimer::default();
    let inflight = Inflight::default();
    let held = inflight
        .acquire(nzu(1), Duration::from_millis(50), &timer)
        .await;
    let mut waiting = pin!(inflight.acquire(nzu(1), Duration::from_millis(50), &timer));
    assert!(futures::poll!(waiting.as_mut()).is_pending());
    assert_eq!(timer.sleepers(), 1);
    drop(held);
    assert!(waiting.await.is_ok());
}

#[tokio::test]
async fn zero_queue_timeout_refuses_at_once_when_full() {
    let timer = FakeTimer::default();
    let inflight = Inflight::default();
    let _held = inflight.acquire(nzu(1), Duration::ZERO, &timer).await;
    let refused = inflight.acquire(nzu(1), Duration::ZERO, &timer).await;
    assert_eq!(refused.err(), Some(QueueTimeout));
    assert_eq!(timer.sleepers(), 0);
}

#[tokio::test]
async fn raising_max_inflight_on_reload_takes_effect_at_once() {
    let timer = FakeTimer::default();
    let inflight = Inflight::default();
    let _first = inflight.acquire(nzu(1), Duration::ZERO, &timer).await;
    assert!(
        inflight
            .acquire(nzu(1), Duration::ZERO, &timer)
            .await
            .is_err()
    );
    assert!(
        inflight
            .acquire(nzu(2), Duration::ZERO, &timer)
            .await
            .is_ok()
    );
}
