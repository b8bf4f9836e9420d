//! Per-route auth policy: `auth`, `schemes`, `query_token` keys of a `[[route]]`.
//!
//! [`RawRouteAuth`] carries the raw values (the lead's serde route struct fills it);
//! `TryFrom` validates them into [`RouteAuth`]. Uses only `identity::AuthScheme`.

use crate::identity::AuthScheme;

/// Whether a route needs a credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    /// Nothing is inspected; the request is anonymous.
    #[default]
    None,
    /// A valid credential yields an identity; none is fine; an invalid one is rejected.
    Optional,
    /// A valid credential is needed.
    Required,
}

/// Validated auth policy of one route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteAuth {
    pub mode: AuthMode,
    /// Accepted schemes; never empty when `mode != None`.
    pub schemes: Vec<AuthScheme>,
    /// Whether `?token=` is accepted (for `EventSource`).
    pub query_token: bool,
}

impl RouteAuth {
    /// The policy of a route without any auth key.
    pub fn none() -> Self {
        RouteAuth {
            mode: AuthMode::None,
            schemes: Vec::new(),
            query_token: false,
        }
    }

    pub fn allows(&self, scheme: AuthScheme) -> bool {
        self.schemes.contains(&scheme)
    }
}

impl Default for RouteAuth {
    fn default() -> Self {
        RouteAuth::none()
    }
}

/// Raw route keys, exactly as written in `routes.toml` (not serde itself).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawRouteAuth {
    /// `auth = "none" | "optional" | "required"`, default `"none"`.
    pub auth: Option<String>,
    /// `schemes = ["session", "chatbot", "service"]`, default `["session"]` when auth != none.
    pub schemes: Option<Vec<String>>,
    /// `query_token = true | false`, default `false`.
    pub query_token: Option<bool>,
}

impl TryFrom<RawRouteAuth> for RouteAuth {
    type Error = String;

    fn try_from(raw: RawRouteAuth) -> Result<Self, Self::Error> {
        let RawRouteAuth {
            auth,
            schemes,
            query_token,
        } = raw;
        let mode = match auth.as_deref() {
            None | Some("none") => AuthMode::None,
            Some("optional") => AuthMode::Optional,
            Some("required") => AuthMode::Required,
            Some(other) => {
                return Err(format!(
                    "auth = {other:?} is not allowed; use one of \"none\", \"optional\", \"required\""
                ));
            }
        };
        let schemes = match (mode, schemes) {
            (AuthMode::None, Some(list)) if !list.is_empty() => {
                return Err(format!(
                    "schemes = {list:?} has no effect with auth = \"none\"; \
                     set auth = \"optional\" or \"required\", or remove schemes"
                ));
            }
            (AuthMode::None, _) => Vec::new(),
            (_, None) => vec![AuthScheme::Session],
            (_, Some(list)) => parse_schemes(&list)?,
        };
        let query_token = query_token.unwrap_or(false);
        if query_token && mode == AuthMode::None {
            return Err("query_token = true needs auth = \"optional\" or \"required\"".to_string());
        }
        Ok(RouteAuth {
            mode,
            schemes,
            query_token,
        })
    }
}

fn parse_schemes(list: &[String]) -> Result<Vec<AuthScheme>, String> {
    if list.is_empty() {
        return Err(
            "schemes = [] accepts nothing; list at least one of \"session\", \"chatbot\", \"service\""
                .to_string(),
        );
    }
    let mut out = Vec::with_capacity(list.len());
    for name in list {
        let scheme = match name.as_str() {
            "session" => AuthScheme::Session,
            "chatbot" => AuthScheme::Chatbot,
            "service" => AuthScheme::Service,
            other => {
                return Err(format!(
                    "schemes contains {other:?}; allowed values are \"session\", \"chatbot\", \"service\""
                ));
            }
        };
        if !out.contains(&scheme) {
            out.push(scheme);
        }
    }
    Ok(out)
}
