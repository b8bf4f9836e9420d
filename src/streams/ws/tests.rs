use proptest::prelude::*;

use super::*;

/// A server frame (unmasked) with `len` payload bytes.
fn frame(fin: bool, opcode: u8, len: usize) -> Vec<u8> {
    let mut f = vec![if fin { 0x80 } else { 0 } | opcode];
    match len {
        0..=125 => f.push(len as u8),
        126..=0xffff => {
            f.push(126);
            f.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            f.push(127);
            f.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    f.extend(std::iter::repeat_n(b'x', len));
    f
}

#[test]
fn close_frame_carries_1012() {
    assert_eq!(close_frame(SERVICE_RESTART), [0x88, 0x02, 0x03, 0xf4]);
}

#[test]
fn no_boundary_inside_a_large_frame_until_it_ends() {
    let big = frame(true, 0x2, 4 << 20);
    let mut t = FrameBoundaries::default();
    assert_eq!(t.feed(&big[..1]), Some(0));
    assert_eq!(t.feed(&big[1..100_000]), None);
    assert_eq!(t.feed(&big[100_000..big.len() - 1]), None);
    assert_eq!(t.feed(&big[big.len() - 1..]), Some(1));
}

#[test]
fn no_boundary_between_fragments_even_around_a_ping() {
    let mut bytes = frame(false, 0x1, 10);
    let first_end = bytes.len();
    bytes.extend(frame(true, 0x9, 2));
    bytes.extend(frame(true, 0x0, 10));
    let mut t = FrameBoundaries::default();
    assert_eq!(t.feed(&bytes[..first_end]), Some(0));
    assert_eq!(t.feed(&bytes[first_end..]), Some(bytes.len() - first_end));
}

#[test]
fn nothing_is_injected_after_the_peer_closed_or_into_garbage() {
    let mut t = FrameBoundaries::default();
    assert_eq!(t.feed(&frame(true, 0x8, 2)), None);
    assert_eq!(t.feed(&frame(true, 0x1, 2)), None);
    let mut t = FrameBoundaries::default();
    assert_eq!(t.feed(&frame(true, 0x3, 2)), None);
}

/// A message: text or binary, in 1..4 fragments, pings between fragments.
fn message() -> impl Strategy<Value = (Vec<u8>, Vec<usize>)> {
    (
        proptest::collection::vec(prop_oneof![0usize..200, 100usize..70_000], 1..4),
        any::<bool>(),
    )
        .prop_map(|(sizes, ping)| {
            let mut bytes = Vec::new();
            let n = sizes.len();
            for (k, len) in sizes.into_iter().enumerate() {
                let opcode = if k == 0 { 0x2 } else { 0x0 };
                bytes.extend(frame(k + 1 == n, opcode, len));
                if ping && k + 1 < n {
                    bytes.extend(frame(true, 0x9, 4));
                }
            }
            let end = bytes.len();
            (bytes, vec![end])
        })
}

proptest! {
    /// Whatever the frame sizes, fragmentation and chunking, every offset
    /// `feed` reports is the end of a whole message.
    #[test]
    fn the_injection_point_is_always_a_message_boundary(
        messages in proptest::collection::vec(message(), 1..8),
        cuts in proptest::collection::vec(1usize..9000, 1..400),
    ) {
        let mut stream = Vec::new();
        let mut boundaries = vec![0usize];
        for (bytes, _) in messages {
            stream.extend(bytes);
            boundaries.push(stream.len());
        }
        let mut t = FrameBoundaries::default();
        let mut pos = 0;
        let mut cuts = cuts.into_iter().cycle();
        while pos < stream.len() {
            let end = (pos + cuts.next().unwrap_or(1)).min(stream.len());
            if let Some(off) = t.feed(&stream[pos..end]) {
                prop_assert!(boundaries.contains(&(pos + off)), "offset {} not a boundary", pos + off);
            }
            pos = end;
        }
        prop_assert_eq!(t.feed(&[]), Some(0));
    }
}
