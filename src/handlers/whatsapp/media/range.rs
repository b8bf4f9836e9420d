//! Pure `Range` / `If-Range` decision for one file of a known size
//! (contracts/whatsapp.md, media route): one `bytes=` range is served as a
//! part, an unsatisfiable one is refused, anything else means the whole file.

/// What to send for a request, given the file size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// 200: the whole file (no Range, an invalid or multi-range one, or a
    /// stale `If-Range`).
    Full,
    /// 206: `len` bytes from `start` (`len` ≥ 1, inside the file).
    Part { start: u64, len: u64 },
    /// 416: a range starting at or past the end, or `-0`.
    Unsatisfiable,
}

/// Decides from the `Range` header values (every line of it; more than one
/// line is a multi-range request and is ignored), the `If-Range` value, the
/// current ETag and the file size.
///
/// `If-Range` (spec silent; RFC 9110 §13.1.5) honours the range only when it
/// is exactly the current ETag (strong comparison); a date or another tag
/// means the client's copy is stale, so it gets the whole file.
pub fn select(ranges: &[&[u8]], if_range: Option<&[u8]>, etag: &str, size: u64) -> Selection {
    let [range] = ranges else {
        return Selection::Full;
    };
    if let Some(v) = if_range
        && v.trim_ascii() != etag.as_bytes()
    {
        return Selection::Full;
    }
    match parse(range) {
        Some(spec) => resolve(spec, size),
        None => Selection::Full,
    }
}

/// One syntactically valid byte-range-spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    /// `a-b` (`last` ≥ `first`) or `a-` (`last` = `None`).
    From { first: u64, last: Option<u64> },
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

/// `bytes=<spec>` with exactly one spec (unit case-insensitive, optional
/// whitespace around the spec). Numbers too large for `u64` saturate: they
/// are valid syntax, merely past any end.
fn parse(value: &[u8]) -> Option<Spec> {
    let value = value.trim_ascii();
    let (unit, spec) = value.split_at_checked(6)?;
    if !unit.eq_ignore_ascii_case(b"bytes=") {
        return None;
    }
    let spec = spec.trim_ascii();
    let dash = spec.iter().position(|&b| b == b'-')?;
    let (first, last) = (&spec[..dash], &spec[dash + 1..]);
    match (number(first), number(last)) {
        (Some(first), Some(last)) if last >= first => Some(Spec::From {
            first,
            last: Some(last),
        }),
        (Some(first), None) if last.is_empty() => Some(Spec::From { first, last: None }),
        (None, Some(n)) if first.is_empty() => Some(Spec::Suffix(n)),
        _ => None,
    }
}

fn resolve(spec: Spec, size: u64) -> Selection {
    match spec {
        Spec::From { first, .. } if first >= size => Selection::Unsatisfiable,
        Spec::From { first, last } => {
            let last = last.map_or(size - 1, |l| l.min(size - 1));
            Selection::Part {
                start: first,
                len: last - first + 1,
            }
        }
        Spec::Suffix(0) => Selection::Unsatisfiable,
        Spec::Suffix(_) if size == 0 => Selection::Unsatisfiable,
        Spec::Suffix(n) => {
            let len = n.min(size);
            Selection::Part {
                start: size - len,
                len,
            }
        }
    }
}

/// 1*DIGIT as a `u64`, saturating; `None` for anything else (empty, sign,
/// space, letters).
fn number(s: &[u8]) -> Option<u64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u64, |n, &d| {
        n.saturating_mul(10).saturating_add(u64::from(d - b'0'))
    }))
}
