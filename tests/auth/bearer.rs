//! Chatbot bearer JWTs signed by npm `jsonwebtoken` with node-generated keys.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cutover::auth::{
    AuthConfig, AuthMode, Authenticator, ChatbotIssuer, IssuerKey, RejectReason, TenantScope,
};
use cutover::identity::AuthScheme;
use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::common::*;
use crate::mint::{mint, mint_one, now, token};

const ISS: &str = "https://chat.example.com";
const HS_SECRET: &str = "chatbot-hs256-secret-0123456789";

fn issuer(algorithms: Vec<Algorithm>, keys: Vec<IssuerKey>) -> ChatbotIssuer {
    ChatbotIssuer {
        name: "widget".into(),
        issuer: ISS.into(),
        audience: vec!["cutover".into()],
        algorithms,
        keys,
        jwks_url: None,
        leeway_secs: 30,
        required_claims: vec!["sub".into()],
        tenant_claim: Some("tenant_id".into()),
        tenants: TenantScope::Any,
    }
}

fn chatbot(issuer: ChatbotIssuer) -> Authenticator {
    Authenticator::new(AuthConfig {
        chatbot: vec![issuer],
        ..AuthConfig::default()
    })
}

fn chatbot_route() -> cutover::auth::RouteAuth {
    route(AuthMode::Required, &[AuthScheme::Chatbot])
}

/// An RSA key pair and an authenticator trusting its public PEM (RS256 only).
fn rsa_setup() -> (Value, Authenticator) {
    let pair = mint_one(json!({"kind": "keypair", "type": "rsa", "kid": "k1"}));
    let pem = pair["publicPem"].as_str().expect("pem");
    let key = IssuerKey::from_pem(pem.as_bytes(), None).expect("node PEM parses");
    (pair, chatbot(issuer(vec![Algorithm::RS256], vec![key])))
}

fn sign(key: &Value, options: Value) -> String {
    let mut opts =
        json!({"algorithm": "RS256", "expiresIn": 300, "audience": "cutover", "issuer": ISS});
    if let (Some(o), Some(extra)) = (opts.as_object_mut(), options.as_object()) {
        o.extend(extra.clone());
    }
    let payload = json!({"sub": "visitor-7", "tenant_id": "tenant-3", "email": "v@example.com"});
    token(&mint_one(
        json!({"kind": "jwt", "payload": payload, "key": key, "options": opts}),
    ))
}

#[test]
fn rs256_chatbot_token_yields_subject_and_tenant() {
    let (pair, auth) = rsa_setup();
    let id = expect_identity(with_bearer(
        &auth,
        &chatbot_route(),
        &sign(&pair["privatePem"], json!({})),
        now(),
    ));
    assert_eq!(id.scheme, AuthScheme::Chatbot);
    assert_eq!(id.user_id, "visitor-7");
    assert_eq!(id.tenant_id.as_deref(), Some("tenant-3"));
}

#[test]
fn es256_token_verified_with_a_jwks_file_key_by_kid() {
    let pairs = mint(json!([
        {"kind": "keypair", "type": "ec", "kid": "ec-1"},
        {"kind": "keypair", "type": "ec", "kid": "ec-2"},
    ]));
    let jwks = json!({"keys": [pairs[0]["jwk"], pairs[1]["jwk"]]}).to_string();
    let keys = IssuerKey::from_jwks_json(&jwks).expect("jwks");
    let auth = chatbot(issuer(vec![Algorithm::ES256], keys));
    let jwt = sign(
        &pairs[1]["privatePem"],
        json!({"algorithm": "ES256", "keyid": "ec-2"}),
    );
    expect_identity(with_bearer(&auth, &chatbot_route(), &jwt, now()));
}

#[test]
fn hs256_chatbot_token_is_accepted_with_the_shared_secret() {
    let secret = cutover::auth::settings::SecretBytes::new(HS_SECRET.as_bytes());
    let auth = chatbot(issuer(
        vec![Algorithm::HS256],
        vec![IssuerKey::hmac(&secret)],
    ));
    let jwt = sign(&json!(HS_SECRET), json!({"algorithm": "HS256"}));
    expect_identity(with_bearer(&auth, &chatbot_route(), &jwt, now()));
}

#[test]
fn expired_bearer_token_is_rejected() {
    let (pair, auth) = rsa_setup();
    let jwt = sign(&pair["privatePem"], json!({"expiresIn": 60}));
    expect_rejected(
        with_bearer(&auth, &chatbot_route(), &jwt, now() + 60 + 31),
        RejectReason::Expired,
    );
}

#[test]
fn bearer_with_alg_none_is_rejected() {
    let (_, auth) = rsa_setup();
    let jwt = sign(&Value::Null, json!({"algorithm": "none"}));
    expect_rejected(
        with_bearer(&auth, &chatbot_route(), &jwt, now()),
        RejectReason::BadSignature,
    );
}

/// A validly signed token whose header demands an extension (`crit`) that
/// cutover does not implement: refused, not silently ignored.
#[test]
fn bearer_with_a_crit_header_is_rejected() {
    let (pair, auth) = rsa_setup();
    let header = json!({"crit": ["x-cutover-test"], "x-cutover-test": true});
    let jwt = sign(&pair["privatePem"], json!({"header": header}));
    expect_rejected(
        with_bearer(&auth, &chatbot_route(), &jwt, now()),
        RejectReason::Malformed,
    );
}

#[test]
fn hs256_signed_with_the_rs256_public_key_is_rejected() {
    let (pair, auth) = rsa_setup();
    let jwt = sign(&pair["publicPem"], json!({"algorithm": "HS256"}));
    expect_rejected(
        with_bearer(&auth, &chatbot_route(), &jwt, now()),
        RejectReason::BadSignature,
    );
}

#[test]
fn bearer_signed_by_another_key_is_rejected() {
    let (_, auth) = rsa_setup();
    let other = mint_one(json!({"kind": "keypair", "type": "rsa"}));
    let jwt = sign(&other["privatePem"], json!({}));
    expect_rejected(
        with_bearer(&auth, &chatbot_route(), &jwt, now()),
        RejectReason::BadSignature,
    );
}

#[test]
fn wrong_audience_is_rejected() {
    let (pair, auth) = rsa_setup();
    let jwt = sign(&pair["privatePem"], json!({"audience": "someone-else"}));
    expect_rejected(
        with_bearer(&auth, &chatbot_route(), &jwt, now()),
        RejectReason::WrongAudience,
    );
}

#[test]
fn wrong_issuer_is_rejected() {
    let (pair, auth) = rsa_setup();
    let jwt = sign(
        &pair["privatePem"],
        json!({"issuer": "https://evil.example.com"}),
    );
    expect_rejected(
        with_bearer(&auth, &chatbot_route(), &jwt, now()),
        RejectReason::WrongAudience,
    );
}

#[test]
fn nbf_in_the_future_is_rejected() {
    let (pair, auth) = rsa_setup();
    let jwt = sign(&pair["privatePem"], json!({"notBefore": 120}));
    expect_rejected(
        with_bearer(&auth, &chatbot_route(), &jwt, now()),
        RejectReason::Expired,
    );
    expect_identity(with_bearer(&auth, &chatbot_route(), &jwt, now() + 121));
}

#[test]
fn missing_required_claim_is_rejected() {
    let (pair, _) = rsa_setup();
    let key = IssuerKey::from_pem(pair["publicPem"].as_str().expect("pem").as_bytes(), None)
        .expect("pem");
    let mut cfg = issuer(vec![Algorithm::RS256], vec![key]);
    cfg.required_claims.push("chat_session".into());
    let auth = chatbot(cfg);
    let jwt = sign(&pair["privatePem"], json!({}));
    expect_rejected(
        with_bearer(&auth, &chatbot_route(), &jwt, now()),
        RejectReason::Malformed,
    );
}

#[test]
fn unknown_kid_is_rejected_as_unknown_key() {
    let pairs = mint(
        json!([{"kind": "keypair", "type": "ec", "kid": "ec-1"}, {"kind": "keypair", "type": "ec", "kid": "ec-2"}]),
    );
    let keys =
        IssuerKey::from_jwks_json(&json!({"keys": [pairs[0]["jwk"]]}).to_string()).expect("jwks");
    let auth = chatbot(issuer(vec![Algorithm::ES256], keys));
    let jwt = sign(
        &pairs[1]["privatePem"],
        json!({"algorithm": "ES256", "keyid": "ec-2"}),
    );
    expect_rejected(
        with_bearer(&auth, &chatbot_route(), &jwt, now()),
        RejectReason::UnknownKey,
    );
}

async fn serve_jwks(doc: Arc<Mutex<String>>) -> String {
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let doc = doc.clone();
            async move { doc.lock().map(|d| d.clone()).unwrap_or_default() }
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
async fn unknown_kid_triggers_a_rate_limited_background_jwks_refresh() {
    let pairs = mint(
        json!([{"kind": "keypair", "type": "rsa", "kid": "r1"}, {"kind": "keypair", "type": "rsa", "kid": "r2"}]),
    );
    let doc = Arc::new(Mutex::new(json!({"keys": [pairs[0]["jwk"]]}).to_string()));
    let mut cfg = issuer(vec![Algorithm::RS256], Vec::new());
    cfg.jwks_url = Some(serve_jwks(doc.clone()).await);
    let auth = chatbot(cfg);
    let refresher = auth.jwks_refreshers().remove(0);
    let route = chatbot_route();
    let jwt1 = sign(&pairs[0]["privatePem"], json!({"keyid": "r1"}));
    let t0 = now();
    // Before any fetch: unknown key, and a refresh was requested (so a second is not).
    expect_rejected(
        with_bearer(&auth, &route, &jwt1, t0),
        RejectReason::UnknownKey,
    );
    assert!(
        !refresher.request_refresh(t0 + 1),
        "second request within a minute is dropped"
    );
    tokio::spawn(refresher.clone().run(reqwest::Client::new()));
    wait_until_accepted(&auth, &jwt1).await;
    // Key rotation: r2 appears at the URL; the first r2 token asks for a refresh.
    *doc.lock().expect("doc") = json!({"keys": [pairs[0]["jwk"], pairs[1]["jwk"]]}).to_string();
    let jwt2 = sign(&pairs[1]["privatePem"], json!({"keyid": "r2"}));
    expect_rejected(
        with_bearer(&auth, &route, &jwt2, t0 + 61),
        RejectReason::UnknownKey,
    );
    wait_until_accepted(&auth, &jwt2).await;
}

async fn wait_until_accepted(auth: &Authenticator, jwt: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if matches!(
            with_bearer(auth, &chatbot_route(), jwt, now()),
            cutover::auth::AuthOutcome::Authenticated(_)
        ) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "JWKS refresh did not land within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[test]
fn es256_token_verified_with_an_ec_pem_file() {
    let pair = mint_one(json!({"kind": "keypair", "type": "ec"}));
    let pem = pair["publicPem"].as_str().expect("pem");
    let key = IssuerKey::from_pem(pem.as_bytes(), None).expect("EC PEM parses");
    let auth = chatbot(issuer(vec![Algorithm::ES256, Algorithm::RS256], vec![key]));
    let jwt = sign(&pair["privatePem"], json!({"algorithm": "ES256"}));
    expect_identity(with_bearer(&auth, &chatbot_route(), &jwt, now()));
}
