use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use crate::cap::{CapReason, ClientKey, Rejection, jittered};
use crate::identity::{AuthScheme, Identity};

fn identity(scheme: AuthScheme) -> Identity {
    Identity {
        scheme,
        user_id: "id-1".into(),
        email: None,
        tenant_id: None,
        issuer: None,
        expires_at: None,
    }
}

const IP: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

#[test]
fn verified_identity_is_preferred_over_socket_and_ip() {
    let session = identity(AuthScheme::Session);
    let chatbot = identity(AuthScheme::Chatbot);
    assert_eq!(
        ClientKey::choose(Some(&session), Some("1.2"), IP),
        ClientKey::User("id-1".into())
    );
    assert_eq!(
        ClientKey::choose(Some(&chatbot), None, IP),
        ClientKey::Subject("0:/0:/id-1".into())
    );
}

/// Issue 14: a partner issuer's visitor with the widget visitor's `sub` (and
/// tenant) is another client: no shared caps, collapsed or cached answers.
#[test]
fn chatbot_visitors_of_different_issuers_or_tenants_have_different_keys() {
    let of = |issuer: &str, tenant: &str| Identity {
        issuer: Some(issuer.into()),
        tenant_id: Some(tenant.into()),
        ..identity(AuthScheme::Chatbot)
    };
    let key = |id: &Identity| ClientKey::choose(Some(id), Some("1.2"), IP).storage_key();
    let widget = key(&of("widget", "t1"));
    assert_ne!(widget, key(&of("partner", "t1")));
    assert_ne!(widget, key(&of("widget", "t2")));
    assert_ne!(key(&of("a/1:b", "c")), key(&of("a", "b/1:c")));
    assert_eq!(widget, "s:6:widget/2:t1/id-1");
}

#[test]
fn anonymous_caller_is_keyed_by_socket_id_else_ip() {
    assert_eq!(
        ClientKey::choose(None, Some("1.2"), IP),
        ClientKey::Socket("1.2".into())
    );
    assert_eq!(ClientKey::choose(None, Some(""), IP), ClientKey::Ip(IP));
    assert_eq!(ClientKey::choose(None, None, IP), ClientKey::Ip(IP));
}

#[test]
fn huge_client_keys_are_hashed_to_a_bounded_length() {
    let key = ClientKey::Socket("9".repeat(10_000)).storage_key();
    assert!(key.len() <= 96, "{}", key.len());
    assert_ne!(key, ClientKey::Socket("8".repeat(10_000)).storage_key());
}

#[test]
fn kinds_of_keys_never_collide() {
    assert_ne!(
        ClientKey::User("x".into()).storage_key(),
        ClientKey::Subject("x".into()).storage_key()
    );
}

#[test]
fn retry_after_header_is_whole_seconds_rounded_up_and_never_zero() {
    let header = |ms| {
        Rejection {
            reason: CapReason::ClientRate,
            retry_after: Duration::from_millis(ms),
        }
        .retry_after_secs()
    };
    assert_eq!(header(0), 1);
    assert_eq!(header(200), 1);
    assert_eq!(header(1000), 1);
    assert_eq!(header(1001), 2);
}

#[test]
fn jitter_stays_within_twenty_percent_and_above_the_floor() {
    let base = Duration::from_secs(10);
    assert_eq!(jittered(base, Duration::ZERO, 0.0), Duration::from_secs(8));
    assert_eq!(jittered(base, Duration::ZERO, 1.0), Duration::from_secs(12));
    assert_eq!(
        jittered(base, Duration::from_secs(9), 0.0),
        Duration::from_secs(9)
    );
    assert!(jittered(Duration::ZERO, Duration::ZERO, 0.5) > Duration::ZERO);
}
