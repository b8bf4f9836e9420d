//! The whole-body deadline: a grace, extended by what the client has sent.

use std::time::{Duration, Instant};

use pingora::{Error, ErrorType};

use super::{classify, client_stalled, deadline};
use crate::proxy::respond::Failure;

#[test]
fn without_a_minimum_rate_the_deadline_is_fixed() {
    let start = Instant::now();
    let grace = Duration::from_secs(60);
    assert_eq!(deadline(start, grace, 0, 0), start + grace);
    assert_eq!(deadline(start, grace, 0, 10 << 20), start + grace);
}

#[test]
fn each_min_rate_of_bytes_earns_one_second() {
    let start = Instant::now();
    let grace = Duration::from_secs(60);
    assert_eq!(deadline(start, grace, 1024, 0), start + grace);
    assert_eq!(
        deadline(start, grace, 1024, 10 * 1024),
        start + grace + Duration::from_secs(10)
    );
    assert_eq!(
        deadline(start, grace, 1024, 512),
        start + grace + Duration::from_millis(500)
    );
}

#[test]
fn an_upload_at_the_minimum_rate_is_never_due_but_a_trickle_is() {
    let start = Instant::now();
    let grace = Duration::from_secs(2);
    // 1 KiB/s against a 1 KiB/s minimum: always 2 s ahead of its deadline.
    for secs in [1u64, 10, 100, 1000] {
        let now = start + Duration::from_secs(secs);
        assert!(deadline(start, grace, 1024, secs * 1024) > now, "{secs} s");
    }
    // One byte every 5 s: due soon after the grace.
    let now = start + Duration::from_secs(10);
    assert!(deadline(start, grace, 1024, 2) < now);
}

#[test]
fn a_client_read_that_timed_out_is_a_408() {
    let down = Error::new_down(ErrorType::ReadTimedout);
    assert_eq!(
        classify(&down, true, false),
        Failure::Downstream { status: 408 }
    );
    // A body read cutover did itself (caps, fallback prefetch) has no source.
    let unset = Error::new(ErrorType::ReadTimedout);
    assert_eq!(
        classify(&unset, false, false),
        Failure::Downstream { status: 408 }
    );
    let deadline = Error::new_down(ErrorType::HTTPStatus(408));
    assert_eq!(
        classify(&deadline, true, false),
        Failure::Downstream { status: 408 }
    );
}

#[test]
fn an_upstream_timeout_is_the_clients_only_while_it_owes_body_bytes() {
    let up = Error::new_up(ErrorType::ReadTimedout);
    // Proxied, body not finished: the upstream was waiting for the client.
    assert_eq!(
        classify(&up, true, false),
        Failure::Downstream { status: 408 }
    );
    // The whole body was sent: the backend's 504.
    assert!(matches!(
        classify(&up, true, true),
        Failure::Upstream { status: 504, .. }
    ));
    // The embedded handler's own timeout stays the side's.
    assert!(matches!(
        classify(&up, false, false),
        Failure::Upstream { status: 504, .. }
    ));
    // Other upstream failures are never the client's.
    let refused = Error::new_up(ErrorType::ConnectRefused);
    assert!(!client_stalled(&refused, true, false));
}
