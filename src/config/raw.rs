//! Serde mirror of `routes.toml`, and its conversion into [`Config`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use super::backend::{NextBackend, RustBackend, Upstream};
use super::{Config, ConfigError, LiveSettings, ProcessSettings};
use crate::route::{PathPattern, Route, RouteId, RouteKind, RouteTable};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    server: RawServer,
    backends: RawBackends,
    auth: Option<Spanned<super::auth::RawAuth>>,
    caps: Option<Spanned<super::cap::RawCaps>>,
    #[serde(rename = "override")]
    overrides: Option<Spanned<super::r#override::RawOverride>>,
    #[serde(default, rename = "route")]
    routes: Vec<RawRoute>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Spanned<String>,
    admin_listen: Spanned<String>,
    threads: Option<Spanned<usize>>,
    grace_period_seconds: Option<u64>,
    graceful_shutdown_timeout_seconds: Option<u64>,
    keepalive_pool: Option<usize>,
    upgrade_sock: Option<String>,
    pid_file: Option<String>,
    flags_dir: Option<String>,
    response_headers: Option<bool>,
    reload_interval_ms: Option<Spanned<u64>>,
    trusted_proxies: Option<Vec<Spanned<String>>>,
    instance: Option<Spanned<String>>,
    client_header_timeout_ms: Option<Spanned<u64>>,
    client_keepalive_seconds: Option<Spanned<u64>>,
    client_body_deadline_seconds: Option<Spanned<u64>>,
    client_body_min_bytes_per_second: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBackends {
    next: RawUpstream,
    rust: RawUpstream,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpstream {
    url: Spanned<String>,
    connect_timeout_ms: Option<u64>,
    read_timeout_ms: Option<u64>,
    write_timeout_ms: Option<u64>,
    idle_timeout_ms: Option<u64>,
    health_path: Option<Spanned<String>>,
    health_interval_ms: Option<Spanned<u64>>,
    health_timeout_ms: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRoute {
    id: Spanned<String>,
    path: Spanned<String>,
    methods: Option<Spanned<Vec<String>>>,
    rust_path: Option<Spanned<String>>,
    kind: Option<Spanned<String>>,
    auth: Option<Spanned<String>>,
    schemes: Option<Spanned<Vec<String>>>,
    query_token: Option<bool>,
    cap: Option<Spanned<super::cap::RawCap>>,
    shadow_writes: Option<Spanned<super::shadow::RawShadowWrites>>,
    shadow_limits: Option<Spanned<super::shadow::RawShadowLimits>>,
    compare: Option<Spanned<super::shadow::RawCompare>>,
    fallback: Option<Spanned<super::shadow::RawFallbackTarget>>,
    fallback_budget: Option<Spanned<super::shadow::RawFallbackBudget>>,
    fallback_non_idempotent: Option<Spanned<bool>>,
    guard: Option<Spanned<super::shadow::RawGuard>>,
    streams: Option<Spanned<String>>,
    max_age: Option<Spanned<String>>,
    pace: Option<Spanned<String>>,
}

pub fn parse_routes(path: &Path, text: &str) -> Result<RawFile, ConfigError> {
    toml::from_str(text).map_err(|e| ConfigError::toml(path, text, &e))
}

/// Where the flags live: `[server] flags_dir`, relative to `routes.toml`.
/// Read before full validation so the reloader can hash the flag files.
pub fn flags_dir_of(routes_path: &Path, text: &str) -> PathBuf {
    #[derive(Deserialize)]
    struct Peek {
        server: Option<PeekServer>,
    }
    #[derive(Deserialize)]
    struct PeekServer {
        flags_dir: Option<String>,
    }
    let dir = toml::from_str::<Peek>(text)
        .ok()
        .and_then(|p| p.server)
        .and_then(|s| s.flags_dir)
        .unwrap_or_else(|| "flags".to_string());
    relative_to(routes_path, &dir)
}

fn relative_to(routes_path: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        routes_path.parent().unwrap_or(Path::new(".")).join(p)
    }
}

/// The config, and the secrets `[auth]` names that have no value (each at
/// its key's line; the caller decides whether that is an error).
pub fn build(
    path: &Path,
    text: &str,
    raw: RawFile,
) -> Result<(Config, Vec<ConfigError>), ConfigError> {
    let RawFile {
        server,
        backends,
        auth,
        caps,
        overrides,
        routes,
    } = raw;
    let err = |span: std::ops::Range<usize>, msg: String| {
        ConfigError::at_offset(path, text, span.start, msg)
    };

    let RawServer {
        listen,
        admin_listen,
        threads,
        grace_period_seconds,
        graceful_shutdown_timeout_seconds,
        keepalive_pool,
        upgrade_sock,
        pid_file,
        flags_dir,
        response_headers,
        reload_interval_ms,
        trusted_proxies,
        instance,
        client_header_timeout_ms,
        client_keepalive_seconds,
        client_body_deadline_seconds,
        client_body_min_bytes_per_second,
    } = server;
    for addr in [&listen, &admin_listen] {
        if addr.get_ref().parse::<std::net::SocketAddr>().is_err() {
            return Err(err(
                addr.span(),
                format!(
                    "`{}` is not an address: write IP:PORT, e.g. \"0.0.0.0:8080\"",
                    addr.get_ref()
                ),
            ));
        }
    }
    if listen.get_ref() == admin_listen.get_ref() && !listen.get_ref().ends_with(":0") {
        return Err(err(
            admin_listen.span(),
            "admin_listen must differ from listen".into(),
        ));
    }
    let threads = match threads {
        Some(t) if *t.get_ref() == 0 || *t.get_ref() > 256 => {
            return Err(err(
                t.span(),
                "threads must be in 1..=256 (default: number of CPUs)".into(),
            ));
        }
        Some(t) => t.into_inner(),
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let reload_interval = match reload_interval_ms {
        Some(ms) if !(10..=250).contains(ms.get_ref()) => {
            return Err(err(
                ms.span(),
                "reload_interval_ms must be in 10..=250 (default 200)".into(),
            ));
        }
        Some(ms) => Duration::from_millis(ms.into_inner()),
        None => Duration::from_millis(200),
    };
    let client_header_timeout = match client_header_timeout_ms {
        Some(ms) if !(100..=600_000).contains(ms.get_ref()) => {
            return Err(err(
                ms.span(),
                "client_header_timeout_ms must be in 100..=600000 (default 60000)".into(),
            ));
        }
        Some(ms) => Duration::from_millis(ms.into_inner()),
        None => Duration::from_secs(60),
    };
    let client_keepalive = match client_keepalive_seconds {
        Some(s) if !(1..=3600).contains(s.get_ref()) => {
            return Err(err(
                s.span(),
                "client_keepalive_seconds must be in 1..=3600 (default 60)".into(),
            ));
        }
        Some(s) => Duration::from_secs(s.into_inner()),
        None => Duration::from_secs(60),
    };
    let client_body_deadline = match client_body_deadline_seconds {
        Some(s) if !(1..=86_400).contains(s.get_ref()) => {
            return Err(err(
                s.span(),
                "client_body_deadline_seconds must be in 1..=86400 (default 60)".into(),
            ));
        }
        Some(s) => Duration::from_secs(s.into_inner()),
        None => Duration::from_secs(60),
    };
    let client_body_min_rate = match client_body_min_bytes_per_second {
        Some(r) if *r.get_ref() > 1 << 30 => {
            return Err(err(
                r.span(),
                "client_body_min_bytes_per_second must be in 0..=1073741824 (default 1024)".into(),
            ));
        }
        Some(r) => r.into_inner(),
        None => 1024,
    };
    let process = ProcessSettings {
        listen: listen.into_inner(),
        admin_listen: admin_listen.into_inner(),
        threads,
        grace_period: Duration::from_secs(grace_period_seconds.unwrap_or(10)),
        graceful_shutdown_timeout: Duration::from_secs(
            graceful_shutdown_timeout_seconds.unwrap_or(5),
        ),
        keepalive_pool: keepalive_pool.unwrap_or(128),
        upgrade_sock: upgrade_sock.unwrap_or_else(|| "/tmp/cutover_upgrade.sock".into()),
        pid_file: pid_file.unwrap_or_else(|| "/tmp/cutover.pid".into()),
    };
    let mut blocks = Vec::new();
    for block in trusted_proxies.unwrap_or_default() {
        let cidr = super::Cidr::parse(block.get_ref())
            .map_err(|m| err(block.span(), format!("server.trusted_proxies: {m}")))?;
        blocks.push(cidr);
    }
    let live = LiveSettings {
        response_headers: response_headers.unwrap_or(true),
        reload_interval,
        trusted_proxies: super::TrustedProxies::new(blocks),
        client_header_timeout,
        client_keepalive,
        client_body_deadline,
        client_body_min_rate,
        instance: match instance {
            None => None,
            Some(i) => Some(
                super::health::instance(i.get_ref())
                    .map_err(|m| err(i.span(), format!("server.instance: {m}")))?,
            ),
        },
    };

    let next = NextBackend(upstream(path, text, backends.next, "next")?.ok_or_else(|| {
        ConfigError::at(
            path,
            1,
            "backends.next.url cannot be \"embedded\": give the Next app's URL",
        )
    })?);
    // An embedded handler that hangs gets the same read timeout a remote one would.
    let embedded_timeout = Duration::from_millis(backends.rust.read_timeout_ms.unwrap_or(30_000));
    let rust = match upstream(path, text, backends.rust, "rust")? {
        None => RustBackend::Embedded,
        Some(up) => RustBackend::Remote(up),
    };

    let mut seen = std::collections::HashSet::new();
    let mut auth_spans = Vec::new();
    let mut table = Vec::with_capacity(routes.len());
    let mut route_shadow = std::collections::BTreeMap::new();
    let mut route_streams = std::collections::BTreeMap::new();
    for r in routes {
        let RawRoute {
            id,
            path: pattern,
            methods,
            rust_path,
            kind,
            auth: route_auth,
            schemes,
            query_token,
            cap,
            shadow_writes,
            shadow_limits,
            compare,
            fallback,
            fallback_budget,
            fallback_non_idempotent,
            guard,
            streams,
            max_age,
            pace,
        } = r;
        let id_span = id.span();
        let shadow_keys = super::shadow::SpannedShadowKeys {
            shadow_writes,
            shadow_limits,
            compare,
            fallback,
            fallback_budget,
            fallback_non_idempotent,
            guard,
        };
        let route_id = RouteId::parse(id.get_ref()).map_err(|m| err(id_span.clone(), m))?;
        if !seen.insert(route_id.clone()) {
            return Err(err(
                id_span,
                format!("route id `{route_id}` is used twice: ids must be unique"),
            ));
        }
        let pattern_span = pattern.span();
        let pattern = PathPattern::parse(pattern.get_ref())
            .map_err(|m| err(pattern_span.clone(), format!("route `{route_id}`: {m}")))?;
        let methods = match methods {
            None => None,
            Some(ms) => {
                let span = ms.span();
                let mut out = Vec::new();
                for m in ms.into_inner() {
                    let upper = m.to_ascii_uppercase();
                    match http::Method::from_bytes(upper.as_bytes()) {
                        Ok(meth) if upper == m => out.push(meth),
                        _ => {
                            return Err(err(
                                span,
                                format!(
                                    "route `{route_id}`: method `{m}` must be an uppercase HTTP method, e.g. \"GET\""
                                ),
                            ));
                        }
                    }
                }
                if out.is_empty() {
                    return Err(err(
                        span,
                        format!(
                            "route `{route_id}`: methods is empty: list at least one or remove the key (= all)"
                        ),
                    ));
                }
                Some(out)
            }
        };
        let rust_path = match rust_path {
            None => None,
            Some(rp) => {
                let span = rp.span();
                let p = PathPattern::parse(rp.get_ref()).map_err(|m| {
                    err(span.clone(), format!("route `{route_id}`: rust_path: {m}"))
                })?;
                let have: Vec<&str> = pattern.param_names().collect();
                if let Some(missing) = p.param_names().find(|n| !have.contains(n)) {
                    return Err(err(
                        span,
                        format!(
                            "route `{route_id}`: rust_path uses `{{{missing}}}` which path does not capture"
                        ),
                    ));
                }
                Some(p)
            }
        };
        let kind = match kind {
            None => RouteKind::Http,
            Some(k) => {
                let span = k.span();
                RouteKind::parse(k.get_ref())
                    .map_err(|m| err(span, format!("route `{route_id}`: {m}")))?
            }
        };
        let auth_pos = route_auth
            .as_ref()
            .map(|a| a.span())
            .or_else(|| schemes.as_ref().map(|s| s.span()))
            .unwrap_or(id_span.clone());
        let auth = crate::auth::RouteAuth::try_from(crate::auth::RawRouteAuth {
            auth: route_auth.map(Spanned::into_inner),
            schemes: schemes.map(Spanned::into_inner),
            query_token,
        })
        .map_err(|m| err(auth_pos.clone(), format!("route `{route_id}`: {m}")))?;
        let cap = match cap {
            None => None,
            Some(c) => {
                let span = c.span();
                let policy = crate::cap::CapPolicy::try_from(c.into_inner())
                    .map_err(|e| err(span, format!("route `{route_id}`: cap: {e}")))?;
                Some(policy)
            }
        };
        let shadow_cfg = shadow_keys.convert().map_err(|(span, m)| {
            err(
                span.unwrap_or(id_span.clone()),
                format!("route `{route_id}`: {m}"),
            )
        })?;
        route_shadow.insert(route_id.clone(), shadow_cfg);
        let stream_policy = stream_policy(&route_id, &id_span, streams, max_age, pace)
            .map_err(|(span, m)| err(span, m))?;
        route_streams.insert(route_id.clone(), stream_policy);
        table.push(Route {
            id: route_id,
            pattern,
            methods,
            rust_path,
            kind,
            auth,
            cap,
        });
        auth_spans.push(auth_pos);
    }

    let auth = super::auth::load(auth, path, text)?;
    for (route, span) in table.iter().zip(auth_spans) {
        if let Some(m) = super::auth_gaps(route, &auth.config, auth.identity_key_named) {
            return Err(err(span, m));
        }
    }
    let caps = match caps {
        None => crate::cap::CapsConfig::default(),
        Some(c) => {
            let span = c.span();
            crate::cap::CapsConfig::try_from(c.into_inner())
                .map_err(|e| err(span, format!("caps: {e}")))?
        }
    };
    let overrides = match overrides {
        None => None,
        Some(o) => {
            let span = o.span();
            let base = path.parent().unwrap_or(Path::new("."));
            let env = |name: &str| std::env::var(name).ok();
            Some(super::r#override::resolve(o.into_inner(), &env, base).map_err(|m| err(span, m))?)
        }
    };
    let route_order = table.iter().map(|r| r.id.clone()).collect();
    let config = Config {
        overrides,
        weak_secrets: auth.weak,
        route_order,
        authenticator: std::sync::Arc::new(crate::auth::Authenticator::new(auth.config)),
        caps,
        embedded_timeout,
        routes_file: path.to_path_buf(),
        flags_dir: relative_to(path, flags_dir.as_deref().unwrap_or("flags")),
        process,
        live,
        next,
        rust,
        routes: RouteTable::new(table),
        flags: Default::default(),
        route_shadow,
        route_streams,
        content_hash: [0; 32],
        applied_hash: [0; 32],
        flag_problems: Vec::new(),
        secret_files: Vec::new(),
    };
    Ok((config, auth.unset))
}

/// `None` for `url = "embedded"`.
fn upstream(
    path: &Path,
    text: &str,
    raw: RawUpstream,
    name: &str,
) -> Result<Option<Upstream>, ConfigError> {
    let RawUpstream {
        url,
        connect_timeout_ms,
        read_timeout_ms,
        write_timeout_ms,
        idle_timeout_ms,
        health_path,
        health_interval_ms,
        health_timeout_ms,
    } = raw;
    let health = super::health::HealthKeys {
        path: health_path,
        interval_ms: health_interval_ms,
        timeout_ms: health_timeout_ms,
    };
    if url.get_ref() == "embedded" {
        return match health.first_span() {
            None => Ok(None),
            Some(at) => Err(ConfigError::at_offset(
                path,
                text,
                at,
                format!(
                    "backends.{name}: health_* keys need a URL; the embedded handlers' \
                     database and Soketi are checked on their own (see /-/backends)"
                ),
            )),
        };
    }
    let health = health.check().map_err(|(at, m)| {
        ConfigError::at_offset(path, text, at, format!("backends.{name}.{m}"))
    })?;
    let span = url.span();
    Upstream::parse(
        url.get_ref(),
        Duration::from_millis(connect_timeout_ms.unwrap_or(2_000)),
        Duration::from_millis(read_timeout_ms.unwrap_or(30_000)),
        Duration::from_millis(write_timeout_ms.unwrap_or(30_000)),
        Duration::from_millis(idle_timeout_ms.unwrap_or(60_000)),
    )
    .map(|up| Some(Upstream { health, ..up }))
    .map_err(|m| {
        ConfigError::at_offset(path, text, span.start, format!("backends.{name}.url: {m}"))
    })
}

/// A route's `streams`, `max_age` and `pace`, validated together; an error
/// is at the key it is about.
fn stream_policy(
    route: &RouteId,
    id_span: &std::ops::Range<usize>,
    streams: Option<Spanned<String>>,
    max_age: Option<Spanned<String>>,
    pace: Option<Spanned<String>>,
) -> Result<crate::streams::StreamPolicy, (std::ops::Range<usize>, String)> {
    use crate::streams::policy::Key;
    fn get(k: &Option<Spanned<String>>) -> Option<&str> {
        k.as_ref().map(|v| v.get_ref().as_str())
    }
    crate::streams::StreamPolicy::parse(get(&streams), get(&max_age), get(&pace)).map_err(
        |(key, m)| {
            let at = match key {
                Key::Streams => &streams,
                Key::MaxAge => &max_age,
                Key::Pace => &pace,
            };
            let span = at.as_ref().map_or(id_span.clone(), |v| v.span());
            (span, format!("route `{route}`: {m}"))
        },
    )
}
