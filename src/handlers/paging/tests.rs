//! Unit tests of the shared paging rule and page shape.

use super::*;

fn reason(query: &str) -> &'static str {
    parse_paging(query).unwrap_err().codes().1
}

#[test]
fn paging_defaults_to_fifty_without_cursor() {
    let p = parse_paging("").unwrap();
    assert_eq!((p.limit, p.cursor), (DEFAULT_LIMIT, None));
}

#[test]
fn limit_must_be_plain_digits_in_range() {
    assert_eq!(parse_paging("limit=100").unwrap().limit, 100);
    assert_eq!(
        parse_paging("limit=7&limit=500").unwrap().limit,
        7,
        "first occurrence wins"
    );
    for bad in [
        "limit=0",
        "limit=101",
        "limit=+5",
        "limit=-1",
        "limit=",
        "limit=1e2",
        "limit=99999999999999999999999",
    ] {
        assert_eq!(reason(bad), "invalid_limit", "{bad}");
    }
}

#[test]
fn malformed_cursor_is_rejected() {
    assert_eq!(reason("cursor=zzz"), "invalid_cursor");
}

#[test]
fn each_list_brings_its_own_limits() {
    let history = Limits {
        default: 100,
        max: 500,
    };
    let limit = |raw| Paging::parse(raw, None, history).map(|p| p.limit);
    assert_eq!(limit(None), Ok(100));
    assert_eq!(limit(Some("500")), Ok(500));
    for bad in ["0", "501", "", "+5", "5 "] {
        assert_eq!(limit(Some(bad)), Err(BadPaging::Limit), "{bad}");
    }
}

#[test]
fn a_bad_limit_is_reported_before_a_bad_cursor() {
    assert_eq!(
        Paging::parse(Some("0"), Some("zzz"), LIMITS).map(|p| p.limit),
        Err(BadPaging::Limit)
    );
    assert_eq!(
        Paging::parse(Some("5"), Some(""), LIMITS).map(|p| p.limit),
        Err(BadPaging::Cursor)
    );
}

#[test]
fn a_page_serializes_as_messages_then_next_cursor() {
    let page = MessagePage::from((vec![1, 2], Some("c".to_owned())));
    assert_eq!(
        serde_json::to_string(&page).unwrap(),
        r#"{"messages":[1,2],"nextCursor":"c"}"#
    );
    let last = MessagePage::<u8>::from((vec![], None));
    assert_eq!(
        serde_json::to_string(&last).unwrap(),
        r#"{"messages":[],"nextCursor":null}"#
    );
}
