use super::*;

fn headers() -> http::HeaderMap {
    let mut h = http::HeaderMap::new();
    h.insert(
        "content-type",
        http::HeaderValue::from_static("application/json"),
    );
    h
}

#[test]
fn body_within_the_cap_is_kept_whole() {
    let mut c = Capture::new(10);
    c.head(200, headers().iter());
    c.body(b"hello");
    c.body(b"world");
    let got = c.finish(None);
    assert_eq!(got.status, 200);
    assert_eq!(&got.body[..], b"helloworld");
    assert!(!got.truncated);
    assert_eq!(
        got.header("content-type").as_deref(),
        Some("application/json")
    );
}

#[test]
fn body_over_the_cap_is_cut_and_marked_truncated() {
    let mut c = Capture::new(4);
    c.head(200, headers().iter());
    c.body(b"abc");
    c.body(b"def");
    let got = c.finish(None);
    assert_eq!(&got.body[..], b"abcd");
    assert!(got.truncated);
}

#[test]
fn a_side_without_a_response_is_a_failed_capture() {
    let got = Capture::new(4).finish(None);
    assert_eq!(got.outcome, CaptureOutcome::Error);
    let mut c = Capture::new(4);
    c.head(200, headers().iter());
    assert_eq!(
        c.finish(Some(CaptureOutcome::Timeout)).outcome,
        CaptureOutcome::Timeout
    );
}
