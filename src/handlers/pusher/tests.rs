//! Unit tests of Pusher signing (against the protocol docs' examples) and response checks.

use super::*;

fn config() -> PusherConfig {
    PusherConfig {
        app_id: "3".into(),
        key: "278d425bdf160c739803".into(),
        secret: "7ad3773142a6692b25b8".into(),
        base_url: "http://127.0.0.1:1".into(),
    }
}

#[test]
fn private_channel_signature_matches_the_pusher_docs_example() {
    // https://pusher.com/docs/channels/library_auth_reference/auth-signatures/
    let client = PusherClient::new(config());
    assert_eq!(
        client.authorize_channel("1234.1234", "private-foobar", None),
        "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4"
    );
}

#[test]
fn presence_channel_signature_covers_channel_data() {
    let client = PusherClient::new(config());
    let data = r#"{"user_id":10,"user_info":{"name":"Mr. Channels"}}"#;
    assert_eq!(
        client.authorize_channel("1234.1234", "presence-foobar", Some(data)),
        "278d425bdf160c739803:31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80"
    );
}

#[test]
fn signed_query_is_sorted_and_ends_with_the_signature() {
    let q = signed_query(&config(), "POST", "/apps/3/events", "{}", 1_700_000_000);
    assert!(q.starts_with("auth_key=278d425bdf160c739803&auth_timestamp=1700000000&auth_version=1.0&body_md5=99914b932bd37a50b983c5e7c90ae93b&auth_signature="));
    let expected = sign(
        "7ad3773142a6692b25b8",
        "POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1700000000&auth_version=1.0&body_md5=99914b932bd37a50b983c5e7c90ae93b",
    );
    assert!(q.ends_with(&expected));
}

#[test]
fn soketi_auth_failure_with_status_200_is_detected_from_the_body() {
    assert_eq!(
        body_error_code(br#"{"code":401,"error":"Unauthorized"}"#),
        Some(401)
    );
    assert_eq!(body_error_code(b"{}"), None);
    assert_eq!(body_error_code(b"not json"), None);
}

#[test]
fn debug_output_hides_the_secret() {
    assert!(!format!("{:?}", PusherClient::new(config())).contains("7ad3773142a6692b25b8"));
}

/// The attack surface: a failed trigger's error is what gets logged. It names
/// the path, never the signed query (`auth_key`, `auth_signature`).
#[tokio::test]
async fn failed_trigger_error_names_the_path_without_the_signed_query() {
    // A port that was just free: the connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let client = PusherClient::new(PusherConfig {
        base_url: format!("http://127.0.0.1:{port}"),
        ..config()
    });
    let err = client
        .trigger(
            "private-tenant.t1.notifications",
            "ping",
            &serde_json::json!({}),
        )
        .await
        .unwrap_err();
    for shown in [err.to_string(), format!("{err:?}")] {
        assert!(shown.contains("/apps/3/events"), "{shown}");
        for secret in ["auth_key", "auth_signature", "auth_timestamp", "body_md5"] {
            assert!(!shown.contains(secret), "{secret} in {shown}");
        }
    }
}
