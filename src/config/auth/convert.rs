//! `RawAuth` → `AuthConfig`: reads named secrets, parses keys, checks every value.
//!
//! `resolve_all` takes the env lookup and base directory as parameters so tests
//! need neither process env nor fixed paths. Secrets are read through
//! [`Source`]: an unset one is reported (with its key's span) and left absent.

use std::path::Path;
use std::str::FromStr;

use jsonwebtoken::{Algorithm, AlgorithmFamily};

use super::secret::{Env, Findings, Located, Source};
use super::{RawAuth, RawChatbot, RawService, RawSession};
use crate::auth::settings::DEFAULT_LEEWAY_SECS;
use crate::auth::{
    AuthConfig, ChatbotIssuer, IssuerKey, MAX_CREDENTIAL_BYTES, ServiceToken, SessionConfig,
    SessionFlavor, TenantScope,
};
use crate::identity::IdentityKey;

fn read_file(base: &Path, key: &str, file: &str) -> Result<Vec<u8>, String> {
    std::fs::read(base.join(file))
        .map_err(|e| format!("{key}: cannot read {file:?} ({e}); fix the path"))
}

/// `[auth]` validated; secrets that are named but have no value are absent
/// from `config` and listed in `found.unset`.
#[derive(Debug)]
pub struct Resolved {
    pub config: AuthConfig,
    /// `identity_key_env` or `identity_key_file` is set (its value may be unset).
    pub identity_key_named: bool,
    pub found: Findings,
}

/// Validates `[auth]` needing every secret (tests, `TryFrom`): an unset one is an error.
pub fn resolve(raw: RawAuth, env: Env<'_>, base: &Path) -> Result<AuthConfig, String> {
    let r = resolve_all(raw, env, base).map_err(|l| l.message)?;
    match r.found.unset.into_iter().next() {
        Some(unset) => Err(unset.message),
        None => Ok(r.config),
    }
}

/// Validates `[auth]`: env vars through `env`, files relative to `base`.
pub fn resolve_all(raw: RawAuth, env: Env<'_>, base: &Path) -> Result<Resolved, Located> {
    let RawAuth {
        identity_key_env,
        identity_key_file,
        cache_capacity,
        max_credential_bytes,
        session,
        chatbot,
        service,
    } = raw;
    let mut src = Source {
        env,
        base,
        found: Findings::default(),
    };
    let identity_key_named = identity_key_env.is_some() || identity_key_file.is_some();
    let identity_secret = match (identity_key_env, identity_key_file) {
        (Some(_), Some(file)) => {
            return Err(Located {
                span: Some(file.span()),
                message: "auth: set identity_key_env or identity_key_file, not both".into(),
            });
        }
        (Some(var), None) => src
            .env("auth.identity_key_env", "identity_key_file", &var)?
            .map(|s| (s, var.span())),
        (None, Some(file)) => src
            .file("auth.identity_key_file", "identity_key_env", &file)?
            .map(|s| (s, file.span())),
        (None, None) => None,
    };
    let identity_key = identity_secret
        .map(|(s, span)| {
            IdentityKey::new(s.expose().to_vec()).map_err(|e| Located {
                span: Some(span),
                message: format!("auth.identity_key: {e}"),
            })
        })
        .transpose()?;
    let mut issuers: Vec<ChatbotIssuer> = Vec::new();
    for (i, raw) in chatbot.into_iter().enumerate() {
        let issuer = chatbot_issuer(raw, i, &mut src)?;
        if issuers
            .iter()
            .any(|o| o.name == issuer.name || o.issuer == issuer.issuer)
        {
            return Err(format!(
                "auth.chatbot[{i}]: name {:?} or issuer {:?} is used twice; make both unique",
                issuer.name, issuer.issuer
            )
            .into());
        }
        issuers.push(issuer);
    }
    let mut tokens: Vec<ServiceToken> = Vec::new();
    for (i, raw) in service.into_iter().enumerate() {
        let token = service_token(raw, i).map_err(Located::from)?;
        if tokens
            .iter()
            .any(|t| t.name == token.name || t.sha256 == token.sha256)
        {
            return Err(format!(
                "auth.service[{i}]: name {:?} or its sha256 is used twice; make both unique",
                token.name
            )
            .into());
        }
        tokens.push(token);
    }
    let config = AuthConfig {
        session: session.map(|s| session_config(s, &mut src)).transpose()?,
        chatbot: issuers,
        service: tokens,
        identity_key,
        cache_capacity: cache_capacity.unwrap_or(crate::auth::DEFAULT_CACHE_CAPACITY),
        max_credential_bytes: match max_credential_bytes {
            Some(0) => {
                return Err(
                    "auth.max_credential_bytes = 0 rejects everything; use e.g. 16384"
                        .to_string()
                        .into(),
                );
            }
            Some(n) => n,
            None => MAX_CREDENTIAL_BYTES,
        },
    };
    Ok(Resolved {
        config,
        identity_key_named,
        found: src.found,
    })
}

fn session_config(raw: RawSession, src: &mut Source<'_>) -> Result<SessionConfig, Located> {
    let RawSession {
        flavor,
        secret_envs,
        secret_files,
        cookie_names,
        skew_secs,
        tenant_claim,
    } = raw;
    let flavor = match flavor.as_str() {
        "nextauth-v4" => SessionFlavor::NextAuthV4,
        "authjs-v5" => SessionFlavor::AuthJsV5,
        other => {
            return Err(format!(
                "auth.session.flavor = {other:?} is not allowed; use \"nextauth-v4\" or \"authjs-v5\""
            )
            .into());
        }
    };
    let (secret_envs, secret_files) = (
        secret_envs.unwrap_or_default(),
        secret_files.unwrap_or_default(),
    );
    if secret_envs.is_empty() && secret_files.is_empty() {
        return Err(
            "auth.session: no secret; set secret_envs = [\"NEXTAUTH_SECRET\"] or secret_files"
                .to_string()
                .into(),
        );
    }
    // An unset one is absent (reported by `src`): it can verify nothing.
    let mut secrets = Vec::new();
    for var in &secret_envs {
        let alt = "secret_files";
        secrets.extend(src.env("auth.session.secret_envs", alt, var)?);
    }
    for file in &secret_files {
        let alt = "secret_envs";
        secrets.extend(src.file("auth.session.secret_files", alt, file)?);
    }
    let mut cfg = SessionConfig::new(flavor, secrets);
    if let Some(names) = cookie_names {
        if names.is_empty() || names.iter().any(|n| !valid_cookie_name(n)) {
            return Err(format!(
                "auth.session.cookie_names = {names:?}: give at least one name of letters, digits and -_. (or remove the key for the defaults)"
            )
            .into());
        }
        cfg.cookie_names = names;
    }
    cfg.skew_secs = skew_secs.unwrap_or(cfg.skew_secs);
    cfg.tenant_claim = tenant_claim;
    Ok(cfg)
}

fn valid_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn chatbot_issuer(
    raw: RawChatbot,
    i: usize,
    src: &mut Source<'_>,
) -> Result<ChatbotIssuer, Located> {
    let RawChatbot {
        name,
        issuer,
        audience,
        algorithms,
        hs256_secret_env,
        hs256_secret_file,
        public_key_files,
        jwks_file,
        jwks_url,
        leeway_secs,
        required_claims,
        tenant_claim,
        tenant,
        tenants,
    } = raw;
    let at = format!("auth.chatbot[{i}] ({name:?})");
    if name.is_empty() || issuer.is_empty() {
        return Err(format!("{at}: name and issuer must be non-empty").into());
    }
    let mut algs = Vec::new();
    for a in &algorithms {
        algs.push(Algorithm::from_str(a).map_err(|_| {
            format!("{at}: algorithms contains {a:?}; allowed: HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA")
        })?);
    }
    if algs.is_empty() {
        return Err(format!("{at}: algorithms = [] accepts nothing; list e.g. [\"RS256\"]").into());
    }
    let mut keys = Vec::new();
    let hs_named = hs256_secret_env.is_some() || hs256_secret_file.is_some();
    let hs = match (hs256_secret_env, hs256_secret_file) {
        (Some(var), None) => {
            src.env(&format!("{at}.hs256_secret_env"), "hs256_secret_file", &var)?
        }
        (None, Some(file)) => src.file(
            &format!("{at}.hs256_secret_file"),
            "hs256_secret_env",
            &file,
        )?,
        (None, None) => None,
        (Some(_), Some(_)) => {
            return Err(
                format!("{at}: set hs256_secret_env or hs256_secret_file, not both").into(),
            );
        }
    };
    keys.extend(hs.as_ref().map(IssuerKey::hmac));
    let base = src.base;
    for file in public_key_files.unwrap_or_default() {
        let pem = read_file(base, &format!("{at}.public_key_files"), &file)?;
        keys.push(
            IssuerKey::from_pem(&pem, None)
                .map_err(|e| format!("{at}.public_key_files {file:?}: {e}"))?,
        );
    }
    if let Some(file) = jwks_file {
        let text = read_file(base, &format!("{at}.jwks_file"), &file)?;
        let text = String::from_utf8_lossy(&text);
        keys.extend(
            IssuerKey::from_jwks_json(&text)
                .map_err(|e| format!("{at}.jwks_file {file:?}: {e}"))?,
        );
    }
    if let Some(url) = &jwks_url
        && !(url.starts_with("https://") || url.starts_with("http://"))
    {
        return Err(format!("{at}.jwks_url = {url:?}: use an http(s):// URL").into());
    }
    for alg in &algs {
        // A named HMAC secret counts even when its value is unset (then the
        // issuer has no HMAC key and verifies nothing; unset is reported).
        let has_key = keys.iter().any(|k| k.key.family() == alg.family())
            || (hs_named && alg.family() == AlgorithmFamily::Hmac);
        let remote_ok = jwks_url.is_some() && alg.family() != AlgorithmFamily::Hmac;
        if !has_key && !remote_ok {
            return Err(format!(
                "{at}: algorithm {alg:?} has no key; add hs256_secret_env (HS*), public_key_files, jwks_file or jwks_url"
            )
            .into());
        }
    }
    let tenants = tenant_scope(&at, tenant, tenants, tenant_claim.is_some())?;
    Ok(ChatbotIssuer {
        name,
        issuer,
        audience: audience.unwrap_or_default(),
        algorithms: algs,
        keys,
        jwks_url,
        leeway_secs: leeway_secs.unwrap_or(DEFAULT_LEEWAY_SECS),
        required_claims: required_claims.unwrap_or_default(),
        tenant_claim,
        tenants,
    })
}

/// `tenant = "t1"` (fixed) or `tenants = ["t1", …]` / `["*"]` (any): exactly one.
fn tenant_scope(
    at: &str,
    tenant: Option<String>,
    tenants: Option<Vec<String>>,
    has_claim: bool,
) -> Result<TenantScope, String> {
    let fix = "declare the tenants this issuer may speak for: tenants = [\"t1\", …], tenant = \"t1\" (fixed), or tenants = [\"*\"] (any; only for your own widget)";
    match (tenant, tenants) {
        (Some(t), None) if !t.is_empty() && t != "*" => Ok(TenantScope::Fixed(t)),
        (Some(t), None) => Err(format!("{at}: tenant = {t:?} is not a tenant id; {fix}")),
        (None, Some(list)) if list == ["*"] => Ok(TenantScope::Any),
        (None, Some(list)) if list.is_empty() || list.iter().any(|t| t.is_empty() || t == "*") => {
            Err(format!("{at}: tenants = {list:?}: {fix}"))
        }
        (None, Some(_)) if !has_claim => Err(format!(
            "{at}: tenants lists tenant ids but tenant_claim is not set; name the claim (e.g. tenant_claim = \"tenantId\") or use tenant = \"t1\""
        )),
        (None, Some(list)) => Ok(TenantScope::OneOf(list)),
        (None, None) => Err(format!("{at}: {fix}")),
        (Some(_), Some(_)) => Err(format!("{at}: set tenant or tenants, not both")),
    }
}

fn service_token(raw: RawService, i: usize) -> Result<ServiceToken, String> {
    let RawService { name, sha256 } = raw;
    let bytes = hex::decode(&sha256)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok());
    match (name.is_empty(), bytes) {
        (false, Some(sha256)) => Ok(ServiceToken { name, sha256 }),
        (true, _) => Err(format!("auth.service[{i}]: name must be non-empty")),
        (false, None) => Err(format!(
            "auth.service[{i}] ({name:?}): sha256 must be 64 hex chars (printf %s \"$TOKEN\" | sha256sum)"
        )),
    }
}
