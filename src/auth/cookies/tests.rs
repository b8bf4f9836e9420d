use super::{Found, find_session, parse};
use crate::auth::RejectReason;

const MAX: usize = 16 * 1024;

fn names() -> Vec<String> {
    vec!["__Secure-s".to_string(), "s".to_string()]
}

fn find(headers: &[&str]) -> Result<Option<(String, String)>, RejectReason> {
    let pairs = parse(headers);
    let names = names();
    match find_session(&pairs, &names, MAX) {
        Found::Absent => Ok(None),
        Found::Token { cookie_name, token } => Ok(Some((cookie_name.to_string(), token))),
        Found::Invalid(r) => Err(r),
    }
}

fn found(name: &str, token: &str) -> Result<Option<(String, String)>, RejectReason> {
    Ok(Some((name.to_string(), token.to_string())))
}

#[test]
fn pairs_from_several_headers_are_trimmed_and_unquoted() {
    let pairs = parse(&["a=1; b = \"2\"", "c=3;noeq; d="]);
    assert_eq!(pairs, vec![("a", "1"), ("b", "2"), ("c", "3"), ("d", "")]);
}

#[test]
fn secure_name_is_preferred_in_configured_order() {
    assert_eq!(
        find(&["s=plain; __Secure-s=secure"]),
        found("__Secure-s", "secure")
    );
}

#[test]
fn chunks_across_headers_are_joined_in_numeric_order() {
    assert_eq!(find(&["s.2=c; s.0=a", "s.1=b"]), found("s", "abc"));
}

#[test]
fn ten_chunks_sort_numerically_not_lexically() {
    let header: Vec<String> = (0..11).rev().map(|i| format!("s.{i}={}", i % 10)).collect();
    let header = header.join("; ");
    assert_eq!(find(&[&header]), found("s", "01234567890"));
}

#[test]
fn chunks_win_over_a_stale_plain_cookie() {
    assert_eq!(find(&["s=stale; s.0=fr; s.1=esh"]), found("s", "fresh"));
}

#[test]
fn gap_in_chunks_is_malformed() {
    assert_eq!(find(&["s.0=a; s.2=c"]), Err(RejectReason::Malformed));
}

#[test]
fn chunks_not_starting_at_zero_are_malformed() {
    assert_eq!(find(&["s.1=b"]), Err(RejectReason::Malformed));
}

#[test]
fn duplicate_chunk_index_is_malformed() {
    assert_eq!(find(&["s.0=a; s.0=b"]), Err(RejectReason::Malformed));
}

#[test]
fn odd_chunk_suffixes_are_malformed() {
    for bad in ["s.01=a", "s.-1=a", "s.x=a", "s.=a", "s.1000=a"] {
        assert_eq!(find(&[bad]), Err(RejectReason::Malformed), "{bad}");
    }
}

#[test]
fn oversized_rejoined_value_is_malformed() {
    let big = "a".repeat(6000);
    let header = format!("s.0={big}; s.1={big}; s.2={big}");
    assert_eq!(find(&[&header]), Err(RejectReason::Malformed));
}

#[test]
fn empty_plain_cookie_is_absent() {
    assert_eq!(find(&["s="]), Ok(None));
    assert_eq!(find(&["other=1"]), Ok(None));
}
