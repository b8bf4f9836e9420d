use proptest::prelude::*;

use super::*;

#[test]
fn a_new_stream_is_at_a_boundary() {
    assert_eq!(SseBoundaries::default().feed(b""), Some(0));
}

#[test]
fn the_boundary_is_after_the_blank_line_never_inside_an_event() {
    let mut t = SseBoundaries::default();
    assert_eq!(t.feed(b"id: 1\ndata: a\n\nid: 2\ndata: b"), Some(15));
    // Still inside event 2: no boundary until its blank line.
    assert_eq!(t.feed(b"b\n"), None);
    assert_eq!(t.feed(b"\n"), Some(1));
    // At a boundary between chunks: the next chunk may be cut before it.
    assert_eq!(t.feed(b"data: c"), Some(0));
    assert_eq!(t.feed(b"\n"), None);
}

#[test]
fn crlf_and_cr_line_ends_are_boundaries_too() {
    let mut t = SseBoundaries::default();
    assert_eq!(t.feed(b"data: a\r\n\r\ndata: b"), Some(11));
    let mut t = SseBoundaries::default();
    assert_eq!(t.feed(b"data: a\r\rdata"), Some(9));
    let mut t = SseBoundaries::default();
    assert_eq!(t.feed(b"data: a\r\n\r"), Some(10));
    // The `\n` of the split `\r\n` moves the boundary past it.
    assert_eq!(t.feed(b"\n"), Some(1));
}

fn events(n: usize) -> Vec<u8> {
    (0..n)
        .map(|i| format!("id: {i}\nevent: tick\ndata: {{\"n\":{i}}}\n\n"))
        .collect::<String>()
        .into_bytes()
}

proptest! {
    /// However the body is chunked, cutting at the offset `feed` returns
    /// leaves only whole events.
    #[test]
    fn cutting_at_the_reported_offset_leaves_whole_events(
        n in 1usize..20,
        cuts in proptest::collection::vec(1usize..40, 1..60),
    ) {
        let body = events(n);
        let mut t = SseBoundaries::default();
        let mut pos = 0;
        for c in cuts {
            if pos >= body.len() { break; }
            let end = (pos + c).min(body.len());
            if let Some(off) = t.feed(&body[pos..end]) {
                let kept = &body[..pos + off];
                prop_assert!(kept.is_empty() || kept.ends_with(b"\n\n"));
            }
            pos = end;
        }
    }
}
