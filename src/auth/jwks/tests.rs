//! Unit tests of the JWKS schedule and keep-last-good rule, against a local
//! axum server on port 0.

use std::sync::{Arc, Mutex};

use super::{JwksRefresher, refresh_interval};

#[test]
fn max_age_sets_the_interval_bounded_to_a_minute_and_an_hour() {
    assert_eq!(refresh_interval(None), 300);
    assert_eq!(refresh_interval(Some("public, max-age=600")), 600);
    assert_eq!(refresh_interval(Some("max-age=5")), 60);
    assert_eq!(
        refresh_interval(Some("Max-Age=86400, must-revalidate")),
        3600
    );
    assert_eq!(refresh_interval(Some("no-cache")), 300);
    assert_eq!(refresh_interval(Some("max-age=abc")), 300);
}

#[test]
fn a_refresh_is_requested_at_most_once_a_minute() {
    let r = JwksRefresher::new("widget", "http://127.0.0.1:1/jwks.json");
    assert!(r.request_refresh(1_000));
    assert!((0..1_000).all(|_| !r.request_refresh(1_030)));
    assert!(r.request_refresh(1_061));
}

/// A key set with one EC P-256 key (RFC 7515 A.3's public key).
const JWKS: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"a","alg":"ES256","use":"sig",
  "x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
  "y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;

async fn serve(answer: Arc<Mutex<(u16, String)>>) -> String {
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let answer = answer.clone();
            async move {
                let (status, body) = answer.lock().expect("answer").clone();
                (
                    axum::http::StatusCode::from_u16(status).expect("status"),
                    [("cache-control", "max-age=120")],
                    body,
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind port 0");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/jwks.json")
}

#[tokio::test]
async fn failed_fetches_keep_the_last_good_keys() {
    let answer = Arc::new(Mutex::new((200, JWKS.to_string())));
    let r = JwksRefresher::new("widget", &serve(answer.clone()).await);
    let client = reqwest::Client::new();
    assert_eq!(r.refresh(&client, 1_000).await.expect("first fetch"), 1);
    let generation = r.generation();
    assert!(!r.is_due(1_119), "max-age=120 schedules the next fetch");
    assert!(r.is_due(1_120));
    for (status, body, label) in [
        (500, JWKS, "status"),
        (200, "{not json", "invalid"),
        (200, r#"{"kids":[]}"#, "invalid"),
    ] {
        *answer.lock().expect("answer") = (status, body.to_string());
        let err = r.refresh(&client, 2_000).await.expect_err("bad answer");
        assert_eq!(err.result_label(), label, "{err}");
        assert_eq!(r.keys().len(), 1, "last good keys kept after {label}");
        assert_eq!(r.generation(), generation);
    }
    assert_eq!(r.age_secs(2_000), Some(1_000));
    let gone = JwksRefresher::new("widget", "http://127.0.0.1:1/jwks.json");
    let err = gone.refresh(&client, 1).await.expect_err("refused");
    assert_eq!(err.result_label(), "network");
    assert_eq!(gone.age_secs(5), None);
}

fn authenticator(issuers: &[(&str, &str)]) -> crate::auth::Authenticator {
    #[derive(serde::Deserialize)]
    struct File {
        auth: crate::config::auth::RawAuth,
    }
    let mut text = String::from("[auth]\n");
    for (name, url) in issuers {
        text.push_str(&format!(
            "[[auth.chatbot]]\nname = \"{name}\"\nissuer = \"https://{name}\"\n\
             algorithms = [\"RS256\"]\njwks_url = \"{url}\"\ntenants = [\"*\"]\n"
        ));
    }
    let raw = toml::from_str::<File>(&text).expect("toml").auth;
    let cfg = crate::config::auth::resolve(raw, &|_| None, std::path::Path::new("."))
        .expect("valid [auth]");
    crate::auth::Authenticator::new(cfg)
}

#[test]
fn refreshers_and_their_keys_survive_a_reload_and_go_with_their_issuer() {
    let sources = super::JwksSources::default();
    let first = authenticator(&[("a", "http://a/jwks"), ("b", "http://b/jwks")]);
    sources.adopt(&first);
    let kept = first.jwks_refreshers();
    // A reload builds a new authenticator: it gets the running refreshers.
    let second = authenticator(&[("a", "http://a/jwks"), ("b", "http://b/other")]);
    sources.adopt(&second);
    let now = second.jwks_refreshers();
    assert!(Arc::ptr_eq(&kept[0], &now[0]), "same issuer and URL: kept");
    assert!(
        !Arc::ptr_eq(&kept[1], &now[1]),
        "a new URL: a new refresher"
    );
    assert_eq!(sources.all().len(), 2);
    sources.adopt(&authenticator(&[]));
    assert!(sources.all().is_empty(), "removed issuers are dropped");
}
