//! Chatbot tokens bound to their issuer (issue 14, finding 1): each
//! `[[auth.chatbot]]` speaks only for the tenants it declares, and the
//! identity names the issuer. Tokens signed by npm `jsonwebtoken`.

use cutover::auth::settings::SecretBytes;
use cutover::auth::{
    AuthConfig, AuthMode, Authenticator, ChatbotIssuer, IssuerKey, RejectReason, TenantScope,
};
use cutover::identity::AuthScheme;
use jsonwebtoken::Algorithm;
use serde_json::json;

use crate::common::*;
use crate::mint::{mint_one, now, token};

const WIDGET_SECRET: &str = "first-party-widget-secret-0123456789";
const PARTNER_SECRET: &str = "partner-widget-secret-0123456789abcd";

fn hs_issuer(name: &str, iss: &str, secret: &str, tenants: TenantScope) -> ChatbotIssuer {
    ChatbotIssuer {
        name: name.into(),
        issuer: iss.into(),
        audience: Vec::new(),
        algorithms: vec![Algorithm::HS256],
        keys: vec![IssuerKey::hmac(&SecretBytes::new(secret.as_bytes()))],
        jwks_url: None,
        leeway_secs: 30,
        required_claims: vec!["sub".into()],
        tenant_claim: Some("tenantId".into()),
        tenants,
    }
}

/// The first-party widget (any tenant) and a partner allowed only `t2`.
fn two_issuers(partner: TenantScope) -> Authenticator {
    Authenticator::new(AuthConfig {
        chatbot: vec![
            hs_issuer("widget", "widget-iss", WIDGET_SECRET, TenantScope::Any),
            hs_issuer("partner", "partner-iss", PARTNER_SECRET, partner),
        ],
        ..AuthConfig::default()
    })
}

fn jwt(iss: &str, secret: &str, payload: serde_json::Value) -> String {
    token(&mint_one(json!({
        "kind": "jwt",
        "payload": payload,
        "key": secret,
        "options": {"algorithm": "HS256", "expiresIn": 300, "issuer": iss},
    })))
}

fn chatbot_route() -> cutover::auth::RouteAuth {
    route(AuthMode::Required, &[AuthScheme::Chatbot])
}

#[test]
fn partner_token_for_another_issuers_tenant_is_rejected() {
    let auth = two_issuers(TenantScope::OneOf(vec!["t2".into()]));
    let attack = jwt(
        "partner-iss",
        PARTNER_SECRET,
        json!({"sub": "v1", "tenantId": "t1"}),
    );
    expect_rejected(
        with_bearer(&auth, &chatbot_route(), &attack, now()),
        RejectReason::TenantNotAllowed,
    );
    // A token without any tenant claim does not get around the list either.
    let no_tenant = jwt("partner-iss", PARTNER_SECRET, json!({"sub": "v1"}));
    expect_rejected(
        with_bearer(&auth, &chatbot_route(), &no_tenant, now()),
        RejectReason::TenantNotAllowed,
    );
}

#[test]
fn partner_token_for_its_own_tenant_names_the_partner_issuer() {
    let auth = two_issuers(TenantScope::OneOf(vec!["t2".into()]));
    let ok = jwt(
        "partner-iss",
        PARTNER_SECRET,
        json!({"sub": "v1", "tenantId": "t2"}),
    );
    let id = expect_identity(with_bearer(&auth, &chatbot_route(), &ok, now()));
    assert_eq!(
        (
            id.user_id.as_str(),
            id.tenant_id.as_deref(),
            id.issuer.as_deref()
        ),
        ("v1", Some("t2"), Some("partner"))
    );
    let first_party = jwt(
        "widget-iss",
        WIDGET_SECRET,
        json!({"sub": "v1", "tenantId": "t1"}),
    );
    let id = expect_identity(with_bearer(&auth, &chatbot_route(), &first_party, now()));
    assert_eq!(id.issuer.as_deref(), Some("widget"));
}

#[test]
fn fixed_tenant_issuer_refuses_a_token_claiming_another_tenant() {
    let auth = two_issuers(TenantScope::Fixed("t2".into()));
    let attack = jwt(
        "partner-iss",
        PARTNER_SECRET,
        json!({"sub": "v1", "tenantId": "t1"}),
    );
    expect_rejected(
        with_bearer(&auth, &chatbot_route(), &attack, now()),
        RejectReason::TenantNotAllowed,
    );
    let unclaimed = jwt("partner-iss", PARTNER_SECRET, json!({"sub": "v1"}));
    let id = expect_identity(with_bearer(&auth, &chatbot_route(), &unclaimed, now()));
    assert_eq!(id.tenant_id.as_deref(), Some("t2"));
}

#[test]
fn partner_secret_cannot_sign_for_the_first_party_issuer() {
    // Naming the first-party `iss` does not help: its key is checked.
    let auth = two_issuers(TenantScope::OneOf(vec!["t2".into()]));
    let forged = jwt(
        "widget-iss",
        PARTNER_SECRET,
        json!({"sub": "v1", "tenantId": "t1"}),
    );
    expect_rejected(
        with_bearer(&auth, &chatbot_route(), &forged, now()),
        RejectReason::BadSignature,
    );
}
