use super::{param_name, take_query_token};

#[test]
fn token_is_removed_and_other_params_keep_their_order() {
    let (path, token) = take_query_token("/api/stream?a=1&token=abc.def&b=2");
    assert_eq!(path, "/api/stream?a=1&b=2");
    assert_eq!(token.as_deref(), Some("abc.def"));
}

#[test]
fn only_param_removed_drops_the_question_mark() {
    assert_eq!(
        take_query_token("/s?token=x"),
        ("/s".to_string(), Some("x".to_string()))
    );
}

#[test]
fn path_without_query_is_unchanged() {
    assert_eq!(take_query_token("/s"), ("/s".to_string(), None));
}

#[test]
fn every_token_param_is_removed_and_the_first_value_wins() {
    let (path, token) = take_query_token("/s?token=first&x=1&token=second");
    assert_eq!(path, "/s?x=1");
    assert_eq!(token.as_deref(), Some("first"));
}

#[test]
fn percent_encoded_token_is_decoded() {
    let (_, token) = take_query_token("/s?token=a%2Eb%3D");
    assert_eq!(token.as_deref(), Some("a.b="));
}

#[test]
fn bad_percent_encoding_is_kept_raw_and_still_removed() {
    let (path, token) = take_query_token("/s?token=a%zz&y=2");
    assert_eq!(path, "/s?y=2");
    assert_eq!(token.as_deref(), Some("a%zz"));
}

#[test]
fn similar_names_are_not_taken() {
    let (path, token) = take_query_token("/s?tokens=1&my_token=2&token");
    assert_eq!(path, "/s?tokens=1&my_token=2");
    assert_eq!(token, None);
}

#[test]
fn empty_params_are_dropped() {
    assert_eq!(take_query_token("/s?&a=1&&token=t&").0, "/s?a=1");
}

/// The attack: `?%74oken=<JWE>` is the same parameter to the backends'
/// `URLSearchParams`; it is taken (used for auth, removed) like `token=`.
#[test]
fn percent_encoded_token_name_is_taken_too() {
    let (path, token) = take_query_token("/s?a=1&%74oken=abc.def&%74%6F%6B%65%6E=x");
    assert_eq!(path, "/s?a=1");
    assert_eq!(token.as_deref(), Some("abc.def"));
    assert_eq!(param_name("%74oken"), "token");
    assert_eq!(param_name("my+token"), "my token");
    assert_eq!(param_name("%zz"), "%zz");
}
