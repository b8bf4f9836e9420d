//! The cap's reading of a pusher-js auth body, whatever its content type.

use super::{AuthForm, parse_form};

fn form(socket: &str, channel: &str) -> AuthForm {
    AuthForm {
        socket_id: Some(socket.into()),
        channel_name: Some(channel.into()),
    }
}

#[test]
fn any_content_type_is_read_as_the_backends_read_it() {
    let body = b"socket_id=1.2&channel_name=private-a";
    for ct in [
        Some("application/x-www-form-urlencoded"),
        Some("Application/X-WWW-Form-Urlencoded; charset=UTF-8"),
        Some("text/plain"),
        Some("application/octet-stream"),
        None,
    ] {
        assert_eq!(parse_form(ct, body), form("1.2", "private-a"), "{ct:?}");
    }
}

#[test]
fn json_objects_are_read_under_any_json_media_type_case() {
    let body = br#"{"socket_id":"1.2","channel_name":"private-a"}"#;
    for ct in [
        Some("application/json"),
        Some("APPLICATION/JSON; charset=utf-8"),
        Some("text/plain"),
    ] {
        assert_eq!(parse_form(ct, body), form("1.2", "private-a"), "{ct:?}");
    }
    // Under a JSON type, a non-object is nothing (the backends answer 400).
    assert_eq!(
        parse_form(Some("application/json"), b"[1]"),
        AuthForm::default()
    );
}
