//! Unit tests of the media route's pure parts: the object-name rule, the
//! Range / If-Range decision, If-None-Match and the header values.

use super::headers::{content_disposition, content_type, etag, none_match};
use super::object::is_safe_name;
use super::range::{Selection, select};

const TAG: &str = "\"m1-100\"";

fn one(range: &str, size: u64) -> Selection {
    select(&[range.as_bytes()], None, TAG, size)
}

fn part(start: u64, len: u64) -> Selection {
    Selection::Part { start, len }
}

#[test]
fn object_names_of_safe_segments_are_accepted() {
    for name in ["a.jpg", "s1/2026/ABC_def-1.ogg", "x..y", ".hidden", "a/b/c"] {
        assert!(is_safe_name(name), "{name}");
    }
}

#[test]
fn object_names_that_could_leave_the_root_are_refused() {
    for name in [
        "",
        "../secret",
        "/etc/passwd",
        "a/../../x",
        "a\\..\\x",
        "./x",
        "a/./b",
        "a//b",
        "a/",
        "..",
        "a b",
        "a%2F..",
        "é.jpg",
        "a\0b",
    ] {
        assert!(!is_safe_name(name), "{name:?}");
    }
}

#[test]
fn closed_open_and_suffix_ranges_select_a_part() {
    assert_eq!(one("bytes=0-9", 100), part(0, 10));
    assert_eq!(one("bytes=10-", 100), part(10, 90));
    assert_eq!(one("bytes=-10", 100), part(90, 10));
    assert_eq!(one("bytes=99-99", 100), part(99, 1));
}

#[test]
fn range_end_past_the_file_is_clamped() {
    assert_eq!(one("bytes=50-1000", 100), part(50, 50));
    assert_eq!(one("bytes=-1000", 100), part(0, 100));
    assert_eq!(one("bytes=0-99999999999999999999999", 100), part(0, 100));
}

#[test]
fn range_starting_at_or_past_the_end_or_minus_zero_is_unsatisfiable() {
    assert_eq!(one("bytes=100-", 100), Selection::Unsatisfiable);
    assert_eq!(one("bytes=100-200", 100), Selection::Unsatisfiable);
    assert_eq!(one("bytes=-0", 100), Selection::Unsatisfiable);
    assert_eq!(
        one("bytes=99999999999999999999999-", 100),
        Selection::Unsatisfiable
    );
    assert_eq!(one("bytes=0-", 0), Selection::Unsatisfiable);
    assert_eq!(one("bytes=-5", 0), Selection::Unsatisfiable);
}

#[test]
fn unit_is_case_insensitive_and_whitespace_around_the_spec_is_allowed() {
    assert_eq!(one("Bytes=0-0", 100), part(0, 1));
    assert_eq!(one(" bytes= 1-2 ", 100), part(1, 2));
}

#[test]
fn invalid_or_multiple_ranges_mean_the_whole_file() {
    for range in [
        "bytes=0-1,3-4",
        "bytes=0-1,",
        "bytes=5-2",
        "bytes=-",
        "bytes=",
        "bytes=a-b",
        "bytes=+1-2",
        "bytes=1 -2",
        "bytes=0x1-",
        "items=0-1",
        "bytes 0-1",
        "0-1",
        "",
    ] {
        assert_eq!(one(range, 100), Selection::Full, "{range:?}");
    }
    let two: [&[u8]; 2] = [b"bytes=0-1", b"bytes=2-3"];
    assert_eq!(select(&two, None, TAG, 100), Selection::Full);
    assert_eq!(select(&[], None, TAG, 100), Selection::Full);
}

#[test]
fn if_range_with_the_current_etag_keeps_the_range_and_anything_else_drops_it() {
    let range: [&[u8]; 1] = [b"bytes=0-1"];
    assert_eq!(select(&range, Some(TAG.as_bytes()), TAG, 100), part(0, 2));
    for stale in ["\"m1-99\"", "W/\"m1-100\"", "Wed, 21 Oct 2015 07:28:00 GMT"] {
        assert_eq!(
            select(&range, Some(stale.as_bytes()), TAG, 100),
            Selection::Full,
            "{stale}"
        );
    }
}

#[test]
fn etag_is_the_quoted_row_id_and_size() {
    assert_eq!(etag("m1", 100), TAG);
}

#[test]
fn if_none_match_matches_the_tag_a_list_a_weak_copy_or_star() {
    for value in [
        TAG,
        "*",
        "\"x\", \"m1-100\"",
        "W/\"m1-100\"",
        " \"a\",\"m1-100\" ",
    ] {
        assert!(none_match(&[value.as_bytes()], TAG), "{value}");
    }
    assert!(none_match(&[b"\"a\"", TAG.as_bytes()], TAG));
    for value in ["\"m1-99\"", "m1-100", "\"m1-100", ""] {
        assert!(!none_match(&[value.as_bytes()], TAG), "{value}");
    }
    assert!(!none_match(&[], TAG));
}

#[test]
fn content_type_defaults_to_octet_stream() {
    assert_eq!(content_type(Some("image/jpeg")), "image/jpeg");
    assert_eq!(content_type(None), "application/octet-stream");
    assert_eq!(content_type(Some("")), "application/octet-stream");
    assert_eq!(
        content_type(Some("text/plain\r\nx: y")),
        "application/octet-stream"
    );
}

#[test]
fn disposition_without_a_file_name_is_inline() {
    assert_eq!(content_disposition(None), "inline");
    assert_eq!(content_disposition(Some("")), "inline");
}

#[test]
fn disposition_file_name_is_ascii_folded_and_percent_encoded() {
    assert_eq!(
        content_disposition(Some("report.pdf")),
        "inline; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
    );
    assert_eq!(
        content_disposition(Some("Résumé \"final\".pdf")),
        "inline; filename=\"R_sum_ _final_.pdf\"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf"
    );
    assert_eq!(
        content_disposition(Some("a\\b\tc;d%e'f😀.txt")),
        "inline; filename=\"a_b_c;d%e'f_.txt\"; filename*=UTF-8''a%5Cb%09c%3Bd%25e%27f%F0%9F%98%80.txt"
    );
    assert_eq!(
        content_disposition(Some("!#$&+-.^_`|~")),
        "inline; filename=\"!#$&+-.^_`|~\"; filename*=UTF-8''!#$&+-.^_`|~"
    );
}
