//! Unit tests of the shared request rules: body and idempotency-key limits.

use super::*;

fn reason(r: Result<impl std::fmt::Debug, HandlerError>) -> &'static str {
    match r {
        Err(e) => e.codes().1,
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

#[test]
fn body_length_counts_utf16_units_like_javascript() {
    assert_eq!(js_len("😀"), 2);
    assert!(check_body(Some(&"😀".repeat(2000))).is_ok());
    assert_eq!(
        reason(check_body(Some(&"😀".repeat(2001)))),
        "body_too_long"
    );
}

#[test]
fn blank_or_missing_body_is_required() {
    assert_eq!(reason(check_body(None)), "body_required");
    assert_eq!(reason(check_body(Some(" \n\t\u{feff}"))), "body_required");
    assert_eq!(check_body(Some(" hi ")).unwrap(), " hi ");
}

#[test]
fn client_message_id_is_required_and_bounded() {
    assert_eq!(
        reason(check_client_message_id(Some(""))),
        "client_message_id_required"
    );
    assert_eq!(
        reason(check_client_message_id(Some(&"k".repeat(101)))),
        "client_message_id_too_long"
    );
    assert_eq!(check_client_message_id(Some("k")).unwrap(), "k");
}
