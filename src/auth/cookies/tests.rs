use super::{Found, choose_name, find_session, parse};
use crate::auth::RejectReason;

const MAX: usize = 16 * 1024;

fn names() -> Vec<String> {
    vec!["__Secure-s".to_string(), "s".to_string()]
}

/// Over http (the plain name), as most tests here are.
fn find(headers: &[&str]) -> Result<Option<(String, String)>, RejectReason> {
    find_over(false, headers)
}

fn find_over(https: bool, headers: &[&str]) -> Result<Option<(String, String)>, RejectReason> {
    let pairs = parse(headers);
    let names = names();
    match find_session(&pairs, &names, https, MAX) {
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
fn the_scheme_picks_one_name_and_the_other_is_ignored() {
    let both = ["s=plain; __Secure-s=secure"];
    assert_eq!(find_over(true, &both), found("__Secure-s", "secure"));
    assert_eq!(find_over(false, &both), found("s", "plain"));
    // A plain cookie on an https site is not the session (the libraries ignore it).
    assert_eq!(find_over(true, &["s=tossed"]), Ok(None));
}

#[test]
fn a_custom_single_name_is_used_whatever_the_scheme() {
    let one = vec!["custom".to_string()];
    assert_eq!(choose_name(&one, true), Some(&one[0]));
    assert_eq!(choose_name(&one, false), Some(&one[0]));
    assert_eq!(choose_name(&[], true), None);
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

/// Cookie tossing: a sibling subdomain sets `s.0..1` next to the victim's
/// `s`. Neither is guessed: the set is ambiguous.
#[test]
fn plain_cookie_and_chunks_together_are_ambiguous() {
    assert_eq!(
        find(&["s=victim; s.0=att; s.1=acker"]),
        Err(RejectReason::Ambiguous)
    );
    assert_eq!(
        find_over(true, &["__Secure-s.0=att", "__Secure-s=victim"]),
        Err(RejectReason::Ambiguous)
    );
}

#[test]
fn two_values_for_one_name_are_ambiguous_and_repeats_are_not() {
    assert_eq!(
        find(&["s=attacker; s=victim"]),
        Err(RejectReason::Ambiguous)
    );
    assert_eq!(find(&["s=same", "s=same"]), found("s", "same"));
    assert_eq!(find(&["s.0=a; s.0=a; s.1=b"]), found("s", "ab"));
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
fn duplicate_chunk_index_with_another_value_is_ambiguous() {
    assert_eq!(find(&["s.0=a; s.0=b"]), Err(RejectReason::Ambiguous));
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
