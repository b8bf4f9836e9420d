//! THE edge: `routes.toml` and `flags/*.toml` → validated, serde-free types.
//!
//! The only module that knows serde and TOML. `raw` mirrors the files
//! (`deny_unknown_fields`); the `TryFrom`-style conversions here turn them into
//! [`Config`], whose types make bad values unrepresentable. Every error names
//! the file, the line and the fix. May use: `route`, `flags`, `identity`.

pub mod auth;
mod backend;
pub mod cap;
mod error;
mod flagfile;
mod flagset;
mod health;
mod offline;
mod r#override;
mod peeked;
mod raw;
pub mod shadow;
mod suggest;
#[cfg(test)]
mod tests;
mod trusted;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use backend::{HealthCheck, NextBackend, RustBackend, Upstream};
pub use error::ConfigError;
pub use flagset::FlagProblem;
pub use offline::Offline;
pub use suggest::closest;
pub use trusted::{Cidr, TrustedProxies};

use crate::flags::Flag;
use crate::route::{RouteId, RouteTable};

/// Settings fixed when the process starts; a reload that changes them is
/// reported and otherwise ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSettings {
    pub listen: String,
    pub admin_listen: String,
    pub threads: usize,
    pub grace_period: Duration,
    pub graceful_shutdown_timeout: Duration,
    pub keepalive_pool: usize,
    pub upgrade_sock: String,
    pub pid_file: String,
}

/// Settings that take effect on reload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSettings {
    /// Add `x-cutover-route` / `x-cutover-backend` to responses.
    pub response_headers: bool,
    pub reload_interval: Duration,
    /// Peers whose `X-Forwarded-*` headers are believed (default none).
    pub trusted_proxies: TrustedProxies,
    /// How long a client may take to send a whole request head (then 408).
    pub client_header_timeout: Duration,
    /// How long an idle client keep-alive connection is kept.
    pub client_keepalive: Duration,
    /// How long a client may take to send a whole request body after its
    /// head (then 408, or the request cut), before `client_body_min_rate`.
    pub client_body_deadline: Duration,
    /// Bytes per second that extend `client_body_deadline` by one second
    /// each (0: a fixed deadline).
    pub client_body_min_rate: u64,
    /// `x-cutover-instance` on every response (which replica answered), if set.
    pub instance: Option<String>,
}

/// One whole, validated configuration: swapped as a unit on reload.
#[derive(Debug)]
pub struct Config {
    pub routes_file: PathBuf,
    pub flags_dir: PathBuf,
    pub process: ProcessSettings,
    pub live: LiveSettings,
    pub next: NextBackend,
    pub rust: RustBackend,
    /// How long an embedded handler may take to start answering.
    pub embedded_timeout: Duration,
    pub routes: RouteTable,
    /// Flag per route id; a route with no flag file is served by next.
    pub flags: BTreeMap<RouteId, Flag>,
    /// Shadow, fallback and guard settings of every route (defaults when unset).
    pub route_shadow: BTreeMap<RouteId, shadow::RouteShadowConfig>,
    /// What a flip does to each route's open streams (`keep` when unset).
    pub route_streams: BTreeMap<RouteId, crate::streams::StreamPolicy>,
    /// Validates credentials; rebuilt (with an empty cache) on every reload.
    pub authenticator: std::sync::Arc<crate::auth::Authenticator>,
    /// Cap store settings; the cap state itself outlives reloads.
    pub caps: crate::cap::CapsConfig,
    /// Content hash of every file read, for change detection.
    pub content_hash: [u8; 32],
    /// Hash of what this config applies (a rejected flag edit leaves it unchanged).
    pub applied_hash: [u8; 32],
    /// Flag files not applied when this config was built (each route keeps its
    /// last good flag); the reloader tracks them from then on.
    pub flag_problems: Vec<FlagProblem>,
    /// Hash of each file `[auth]` names (`None`: unreadable), to log which one changed.
    pub secret_files: Vec<(PathBuf, Option<[u8; 32]>)>,
    /// `[override]`: signed tester overrides (`None`: off, cookies ignored).
    pub overrides: Option<crate::r#override::OverrideConfig>,
    /// Secrets shorter than 32 bytes, at their key's line (warnings; never the value).
    pub weak_secrets: Vec<ConfigError>,
    /// Route ids in routes.toml order (`routes` is ordered for matching).
    pub route_order: Vec<RouteId>,
}

impl Config {
    /// Read and validate `routes.toml` and its flags directory; any bad flag
    /// file or unset secret is an error.
    pub fn load(routes_file: &Path) -> Result<Config, ConfigError> {
        let cfg = Config::load_lenient(routes_file)?;
        match cfg.flag_problems.first() {
            Some(p) => Err(p.error.clone()),
            None => Ok(cfg),
        }
    }

    /// Read `routes.toml` (its errors and unset secrets are errors) and apply
    /// each flag file on its own: bad ones are listed in `flag_problems` and
    /// their routes go to next (`serve` at start). Commands that need no
    /// secret values use [`Offline::load`].
    pub fn load_lenient(routes_file: &Path) -> Result<Config, ConfigError> {
        let files = ConfigFiles::read(routes_file)?;
        Config::from_files(&files, None)
    }

    /// Validate already-read files (the reloader hashes before parsing). A bad
    /// flag file keeps `previous`'s flag for its route and is listed in
    /// `flag_problems`; every other file applies. Every secret `[auth]` names
    /// must have a value: all unset ones are in the error, each at its line.
    pub fn from_files(
        files: &ConfigFiles,
        previous: Option<&Config>,
    ) -> Result<Config, ConfigError> {
        let (cfg, unset) = Config::from_files_unchecked(files, previous)?;
        match offline::all_unset(unset) {
            Some(e) => Err(e),
            None => Ok(cfg),
        }
    }

    /// [`Config::from_files`] with the unset secrets returned instead of
    /// refused: only [`Offline`] may hold the result.
    fn from_files_unchecked(
        files: &ConfigFiles,
        previous: Option<&Config>,
    ) -> Result<(Config, Vec<ConfigError>), ConfigError> {
        let raw = raw::parse_routes(&files.routes_path, &files.routes_text)?;
        let (mut cfg, unset) = raw::build(&files.routes_path, &files.routes_text, raw)?;
        let (flags, problems) =
            flagset::apply(&files.flag_files, &cfg.routes, previous.map(|p| &p.flags));
        cfg.applied_hash = flagset::applied_hash(&files.routes_text, &files.secret_files, &flags);
        cfg.flags = flags;
        cfg.flag_problems = problems;
        cfg.content_hash = files.hash;
        cfg.secret_files = files.secret_files.clone();
        Ok((cfg, unset))
    }

    pub fn flag(&self, id: &RouteId) -> Option<&Flag> {
        self.flags.get(id)
    }

    /// The flags in force, as one fingerprint equal on every replica that
    /// applies the same flag files (paths aside).
    pub fn flags_fingerprint(&self) -> [u8; 32] {
        flagset::flags_fingerprint(&self.flags)
    }

    /// What a flip does to a route's open streams (`keep` for unknown routes).
    pub fn stream_policy(&self, id: &RouteId) -> crate::streams::StreamPolicy {
        self.route_streams.get(id).copied().unwrap_or_default()
    }

    /// A route's shadow, fallback and guard settings.
    pub fn route_shadow(&self, id: &RouteId) -> Option<&shadow::RouteShadowConfig> {
        self.route_shadow.get(id)
    }
}

/// The raw text of every config file, and one hash over all of them.
pub struct ConfigFiles {
    pub routes_path: PathBuf,
    pub routes_text: String,
    pub flags_dir: PathBuf,
    /// `(path, text)` for every `*.toml` in the flags directory, sorted by name.
    pub flag_files: Vec<(PathBuf, String)>,
    /// Every file `[auth]` names, with the hash of its content (`None`: unreadable;
    /// validation then says why). Values are never kept or logged here.
    pub secret_files: Vec<(PathBuf, Option<[u8; 32]>)>,
    pub hash: [u8; 32],
}

impl ConfigFiles {
    /// Read `routes.toml`, every `flags/*.toml` and hash every file `[auth]` names
    /// (secrets, keys), following symlinks (so a Kubernetes `..data` swap or an
    /// editor's rename is seen as new content).
    pub fn read(routes_path: &Path) -> Result<ConfigFiles, ConfigError> {
        use sha2::{Digest, Sha256};
        let routes_text =
            std::fs::read_to_string(routes_path).map_err(|e| ConfigError::io(routes_path, &e))?;
        let peeked::Peeked {
            flags_dir,
            referenced,
        } = peeked::peek(routes_path, &routes_text);
        let mut names = Vec::new();
        match std::fs::read_dir(&flags_dir) {
            Ok(entries) => {
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    // `..data`, `..2026_…` and dotfiles are ConfigMap plumbing.
                    if name.ends_with(".toml") && !name.starts_with('.') {
                        names.push(name);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(ConfigError::io(&flags_dir, &e)),
        }
        names.sort();
        let mut hasher = Sha256::new();
        hasher.update(routes_text.as_bytes());
        let mut flag_files = Vec::with_capacity(names.len());
        for name in names {
            let path = flags_dir.join(&name);
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                // Removed between listing and reading: the next poll sees it.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(ConfigError::io(&path, &e)),
            };
            hasher.update([0u8]);
            hasher.update(name.as_bytes());
            hasher.update([0u8]);
            hasher.update(text.as_bytes());
            flag_files.push((path, text));
        }
        let base = routes_path.parent().unwrap_or(Path::new("."));
        let mut secret_files = Vec::new();
        for name in referenced {
            let path = base.join(&name);
            let digest: Option<[u8; 32]> = std::fs::read(&path)
                .ok()
                .map(|bytes| Sha256::digest(&bytes).into());
            hasher.update([1u8]);
            hasher.update(name.as_bytes());
            hasher.update([0u8]);
            hasher.update(digest.unwrap_or_default());
            hasher.update([u8::from(digest.is_some())]);
            secret_files.push((path, digest));
        }
        Ok(ConfigFiles {
            routes_path: routes_path.to_path_buf(),
            routes_text,
            flags_dir,
            flag_files,
            secret_files,
            hash: hasher.finalize().into(),
        })
    }
}

/// What a route's auth policy needs that `[auth]` does not provide.
fn auth_gaps(
    route: &crate::route::Route,
    auth: &crate::auth::AuthConfig,
    identity_key_named: bool,
) -> Option<String> {
    use crate::auth::AuthMode;
    use crate::identity::AuthScheme;
    if matches!(route.auth.mode, AuthMode::None) {
        return None;
    }
    let id = &route.id;
    if !identity_key_named {
        return Some(format!(
            "route `{id}` uses auth but [auth] has no identity_key_env/identity_key_file: add one (the key that signs x-cutover-* headers)"
        ));
    }
    let missing = |scheme: AuthScheme| match scheme {
        AuthScheme::Session => auth.session.is_none().then_some("[auth.session]"),
        AuthScheme::Chatbot => auth
            .chatbot
            .is_empty()
            .then_some("an [[auth.chatbot]] issuer"),
        AuthScheme::Service => auth
            .service
            .is_empty()
            .then_some("an [[auth.service]] token"),
    };
    route.auth.schemes.iter().find_map(|s| {
        missing(*s).map(|what| format!("route `{id}` accepts `{}` but routes.toml has no {what}: add it or remove the scheme", s.as_str()))
    })
}

/// Validate one flag file's text against a route table (used by `cutover flip`).
pub fn parse_flag_text(path: &Path, text: &str, routes: &RouteTable) -> Result<Flag, ConfigError> {
    flagfile::parse(path, text, routes).map(|(_, flag)| flag)
}
