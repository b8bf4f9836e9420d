//! Unit tests of `[auth]` parsing and conversion (env and files injected).

use std::path::Path;

use super::{ROUTES_TOML_DOC, RawAuth, resolve};
use crate::auth::{AuthConfig, SessionFlavor};

fn parse(toml_text: &str) -> RawAuth {
    #[derive(serde::Deserialize)]
    struct File {
        auth: RawAuth,
    }
    toml::from_str::<File>(toml_text).expect("toml parses").auth
}

fn env(name: &str) -> Option<String> {
    match name {
        "NEXTAUTH_SECRET" => Some("s3cret".into()),
        "CUTOVER_IDENTITY_KEY" => Some("k".repeat(32)),
        "CHATBOT_HS256_SECRET" => Some("hs".into()),
        _ => None,
    }
}

fn load(toml_text: &str) -> Result<AuthConfig, String> {
    resolve(parse(toml_text), &env, Path::new("."))
}

#[test]
fn documented_example_needs_its_key_sources() {
    // The doc's chatbot uses RS256 with no key lines enabled: the error says what to add.
    let err = load(ROUTES_TOML_DOC).expect_err("RS256 without a key");
    assert!(
        err.contains("auth.chatbot[0]") && err.contains("jwks_url"),
        "{err}"
    );
}

#[test]
fn session_and_service_are_converted_with_defaults() {
    let cfg = load(
        r#"
        [auth]
        identity_key_env = "CUTOVER_IDENTITY_KEY"
        [auth.session]
        flavor = "authjs-v5"
        secret_envs = ["NEXTAUTH_SECRET"]
        [[auth.service]]
        name = "worker"
        sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
        "#,
    )
    .expect("valid");
    let session = cfg.session.expect("session");
    assert_eq!(session.flavor, SessionFlavor::AuthJsV5);
    assert_eq!(
        session.cookie_names,
        ["__Secure-authjs.session-token", "authjs.session-token"]
    );
    assert_eq!(session.skew_secs, 15);
    assert_eq!(cfg.service[0].name, "worker");
    assert!(cfg.identity_key.is_some());
}

#[test]
fn hs256_issuer_reads_its_secret_from_env() {
    let cfg = load(
        r#"
        [[auth.chatbot]]
        name = "widget"
        issuer = "https://chat.example.com"
        algorithms = ["HS256"]
        hs256_secret_env = "CHATBOT_HS256_SECRET"
        tenants = ["*"]
        "#,
    )
    .expect("valid");
    assert_eq!(cfg.chatbot[0].keys.len(), 1);
    assert_eq!(cfg.chatbot[0].leeway_secs, 30);
}

#[test]
fn unset_secret_env_names_the_key_and_the_variable() {
    let err = load("[auth.session]\nflavor = \"nextauth-v4\"\nsecret_envs = [\"MISSING\"]")
        .expect_err("unset");
    assert!(
        err.contains("auth.session.secret_envs") && err.contains("MISSING"),
        "{err}"
    );
}

#[test]
fn unknown_flavor_lists_the_allowed_values() {
    let err = load("[auth.session]\nflavor = \"v6\"\nsecret_envs = [\"NEXTAUTH_SECRET\"]")
        .expect_err("bad");
    assert!(
        err.contains("nextauth-v4") && err.contains("authjs-v5"),
        "{err}"
    );
}

#[test]
fn unknown_key_is_refused_by_serde() {
    #[derive(serde::Deserialize)]
    #[allow(dead_code)]
    struct File {
        auth: RawAuth,
    }
    assert!(toml::from_str::<File>("[auth]\nsecret = \"literal\"").is_err());
}

#[test]
fn bad_service_hash_explains_how_to_compute_it() {
    let err = load("[[auth.service]]\nname = \"w\"\nsha256 = \"abc\"").expect_err("bad hash");
    assert!(err.contains("sha256sum"), "{err}");
}

#[test]
fn secret_file_is_read_without_its_trailing_newline() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("secret"), "from-file\n").expect("write");
    let raw = parse("[auth.session]\nflavor = \"nextauth-v4\"\nsecret_files = [\"secret\"]");
    let cfg = resolve(raw, &env, dir.path()).expect("valid");
    assert_eq!(
        cfg.session.expect("session").secrets[0].expose(),
        b"from-file"
    );
}

#[test]
fn bad_pem_file_is_reported_at_load() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("k.pem"), "not a pem").expect("write");
    let raw = parse(
        "[[auth.chatbot]]\nname = \"w\"\nissuer = \"i\"\nalgorithms = [\"RS256\"]\npublic_key_files = [\"k.pem\"]\ntenants = [\"*\"]",
    );
    let err = resolve(raw, &env, dir.path()).expect_err("bad pem");
    assert!(err.contains("public_key_files"), "{err}");
}

fn chatbot_with(tenant_lines: &str) -> Result<AuthConfig, String> {
    load(&format!(
        "[[auth.chatbot]]\nname = \"partner\"\nissuer = \"p\"\nalgorithms = [\"HS256\"]\nhs256_secret_env = \"CHATBOT_HS256_SECRET\"\n{tenant_lines}"
    ))
}

#[test]
fn chatbot_issuer_must_declare_its_tenants() {
    let err = chatbot_with("tenant_claim = \"tenantId\"").expect_err("no tenants");
    assert!(
        err.contains("auth.chatbot[0]") && err.contains("tenants = [") && err.contains("tenant = "),
        "{err}"
    );
}

#[test]
fn chatbot_tenant_keys_become_a_scope() {
    use crate::auth::TenantScope;
    let scope = |lines: &str| {
        chatbot_with(lines).expect("valid").chatbot[0]
            .tenants
            .clone()
    };
    assert_eq!(scope("tenants = [\"*\"]"), TenantScope::Any);
    assert_eq!(scope("tenant = \"t1\""), TenantScope::Fixed("t1".into()));
    assert_eq!(
        scope("tenant_claim = \"tenantId\"\ntenants = [\"t1\", \"t2\"]"),
        TenantScope::OneOf(vec!["t1".into(), "t2".into()])
    );
}

#[test]
fn chatbot_tenant_list_without_a_claim_or_mixed_with_star_is_refused() {
    let no_claim = chatbot_with("tenants = [\"t1\"]").expect_err("no claim");
    assert!(no_claim.contains("tenant_claim"), "{no_claim}");
    assert!(chatbot_with("tenant_claim = \"t\"\ntenants = [\"t1\", \"*\"]").is_err());
    assert!(chatbot_with("tenant_claim = \"t\"\ntenants = []").is_err());
    let both = chatbot_with("tenant = \"t1\"\ntenants = [\"*\"]").expect_err("both");
    assert!(both.contains("not both"), "{both}");
}
