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

const ALL_SECRETS: &str = r#"
[auth]
identity_key_env = "CUTOVER_IDENTITY_KEY"
[auth.session]
flavor = "nextauth-v4"
secret_envs = ["NEXTAUTH_SECRET"]
[[auth.chatbot]]
name = "widget"
issuer = "w"
algorithms = ["HS256"]
hs256_secret_env = "CHATBOT_HS256_SECRET"
tenants = ["*"]
"#;

#[test]
fn unset_secrets_are_listed_and_left_absent_never_replaced() {
    let r = super::resolve_all(parse(ALL_SECRETS), &|_| None, Path::new(".")).expect("valid");
    assert!(r.identity_key_named);
    assert!(r.config.identity_key.is_none());
    assert!(r.config.session.expect("session").secrets.is_empty());
    assert!(r.config.chatbot[0].keys.is_empty());
    let unset: Vec<&str> = r.found.unset.iter().map(|u| u.message.as_str()).collect();
    assert_eq!(unset.len(), 3, "{unset:?}");
    for var in [
        "CUTOVER_IDENTITY_KEY",
        "NEXTAUTH_SECRET",
        "CHATBOT_HS256_SECRET",
    ] {
        let line = unset.iter().find(|m| m.contains(var)).expect(var);
        assert!(line.contains(&format!("export {var}, or use")), "{line}");
    }
    // Each at its own key: the span covers the variable's name.
    for u in &r.found.unset {
        let span = u.span.clone().expect("span");
        assert!(u.message.contains(ALL_SECRETS[span].trim_matches('"')));
    }
    // Needing every secret, the same file is an error.
    assert!(resolve(parse(ALL_SECRETS), &|_| None, Path::new(".")).is_err());
}

#[test]
fn a_secret_under_32_bytes_is_weak_and_the_finding_never_holds_it() {
    let r = super::resolve_all(parse(ALL_SECRETS), &env, Path::new(".")).expect("valid");
    // env(): NEXTAUTH_SECRET = "s3cret", CHATBOT_HS256_SECRET = "hs", the key 32 bytes.
    let weak: Vec<&str> = r.found.weak.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(weak.len(), 2, "{weak:?}");
    assert!(
        weak.iter()
            .all(|w| !w.contains("s3cret") && w.contains("32")),
        "{weak:?}"
    );
    assert!(r.found.unset.is_empty());
}

#[test]
fn a_secret_reference_that_is_not_a_variable_name_is_an_error_without_echoing_it() {
    let err = super::resolve_all(
        parse("[auth]\nidentity_key_env = \"paste-d secret\""),
        &|_| None,
        Path::new("."),
    )
    .expect_err("not a name");
    assert!(err.span.is_some());
    assert!(!err.message.contains("paste-d"), "{}", err.message);
    assert!(super::valid_env_name("NEXTAUTH_SECRET") && super::valid_env_name("_X1"));
    assert!(!super::valid_env_name("1X") && !super::valid_env_name(""));
}

#[test]
fn a_missing_secret_file_is_unset_but_an_empty_path_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let raw = parse("[auth.session]\nflavor = \"nextauth-v4\"\nsecret_files = [\"keys/absent\"]");
    let r = super::resolve_all(raw, &env, dir.path()).expect("valid reference");
    assert_eq!(r.found.unset.len(), 1);
    assert!(r.found.unset[0].message.contains("or use secret_envs"));
    let raw = parse("[auth.session]\nflavor = \"nextauth-v4\"\nsecret_files = [\" \"]");
    let err = super::resolve_all(raw, &env, dir.path()).expect_err("empty path");
    assert!(err.message.contains("path is empty"), "{}", err.message);
}
