//! The route table and its pure matcher.
//!
//! A route claims a path pattern (`/api/chat/user-threads/{threadId}/messages`,
//! `{*rest}` for a tail) and a set of methods. Everything unclaimed goes to
//! next untouched. Knows nothing of Pingora or TOML.

pub mod ambiguity;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

use http::{HeaderValue, Method};

/// A route id from `routes.toml` (also the metric label and flag file stem).
/// It keeps its `x-cutover-route` header value, built once: every response
/// on the route carries it, cloned (a reference count), not copied. Ids
/// compare, order and hash by their text alone.
#[derive(Clone)]
pub struct RouteId(Arc<Named>);

struct Named {
    text: Box<str>,
    header: HeaderValue,
}

impl RouteId {
    /// Ids are `[a-z0-9][a-z0-9-_.]*`, at most 64 chars, so they are safe as
    /// file names and metric labels.
    pub fn parse(s: &str) -> Result<RouteId, String> {
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
        // Every character allowed is valid in a header value.
        match HeaderValue::from_str(s) {
            Ok(header) if ok => Ok(RouteId(Arc::new(Named {
                text: s.into(),
                header,
            }))),
            _ => Err(format!(
                "route id `{s}` is invalid: use lowercase letters, digits, `-`, `_`, `.` (max 64)"
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0.text
    }

    /// The id as an `x-cutover-route` header value.
    pub fn header_value(&self) -> &HeaderValue {
        &self.0.header
    }
}

impl PartialEq for RouteId {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RouteId {}

impl PartialOrd for RouteId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for RouteId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for RouteId {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl fmt::Debug for RouteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RouteId").field(&self.as_str()).finish()
    }
}

impl fmt::Display for RouteId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the proxy treats the route's traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    /// Request/response: the backend's read timeout applies.
    Http,
    /// Server-sent events: no read timeout, never buffered.
    Sse,
    /// WebSocket upgrade: no read timeout; the socket stays on the backend it opened on.
    Websocket,
    /// Large uploads/downloads: no read timeout, streamed.
    Media,
    /// Long-polling (Engine.IO/Socket.IO `transport=polling`): a short
    /// request the server holds until it has something to say, so no read
    /// timeout; not a stream (a flip applies to the next poll).
    LongPoll,
}

impl RouteKind {
    pub fn parse(s: &str) -> Result<RouteKind, String> {
        match s {
            "http" => Ok(RouteKind::Http),
            "sse" => Ok(RouteKind::Sse),
            "websocket" => Ok(RouteKind::Websocket),
            "media" => Ok(RouteKind::Media),
            "longpoll" => Ok(RouteKind::LongPoll),
            other => Err(format!(
                "kind = \"{other}\" is not one of \"http\", \"sse\", \"websocket\", \"media\", \"longpoll\""
            )),
        }
    }

    /// The kind of an unclaimed request, which goes to next untouched: an
    /// upgrade is a WebSocket, `Accept: text/event-stream` is SSE, an
    /// Engine.IO polling `GET` (`?EIO=4&transport=polling`, Socket.IO's
    /// handshake and fallback transport, whatever its path) is a long-poll;
    /// anything else is plain HTTP with the read timeout.
    pub fn of_unclaimed(
        upgrade: bool,
        event_stream: bool,
        method: &Method,
        query: Option<&str>,
    ) -> RouteKind {
        if upgrade {
            RouteKind::Websocket
        } else if event_stream {
            RouteKind::Sse
        } else if method == Method::GET && query.is_some_and(is_engineio_polling) {
            RouteKind::LongPoll
        } else {
            RouteKind::Http
        }
    }

    /// A long-lived stream (SSE, WebSocket, media): stays open on the side
    /// it opened on. A long-poll is not one.
    pub fn is_streaming(self) -> bool {
        !matches!(self, RouteKind::Http | RouteKind::LongPoll)
    }

    /// Only plain request/response traffic gets the backend's read/write
    /// timeouts: streams and held long-polls are quiet for as long as they like.
    pub fn has_read_timeout(self) -> bool {
        matches!(self, RouteKind::Http)
    }
}

/// An Engine.IO polling request: `EIO=<version>` and `transport=polling`
/// in the query (the names and values Engine.IO 3 and 4 clients send).
fn is_engineio_polling(query: &str) -> bool {
    let mut eio = false;
    let mut polling = false;
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("EIO", v)) => eio = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()),
            Some(("transport", "polling")) => polling = true,
            _ => {}
        }
    }
    eio && polling
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Lit(String),
    Param(String),
    Rest(String),
}

/// A parsed path pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern {
    raw: String,
    segments: Vec<Segment>,
}

impl PathPattern {
    pub fn parse(raw: &str) -> Result<PathPattern, String> {
        let Some(rest) = raw.strip_prefix('/') else {
            return Err(format!("path `{raw}` must start with `/`"));
        };
        let mut segments = Vec::new();
        let parts: Vec<&str> = if rest.is_empty() {
            Vec::new()
        } else {
            rest.split('/').collect()
        };
        for (i, part) in parts.iter().enumerate() {
            let seg = if let Some(name) = part.strip_prefix("{*").and_then(|p| p.strip_suffix('}'))
            {
                if i + 1 != parts.len() {
                    return Err(format!(
                        "path `{raw}`: `{{*{name}}}` must be the last segment"
                    ));
                }
                Segment::Rest(valid_name(raw, name)?)
            } else if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Segment::Param(valid_name(raw, name)?)
            } else if part.contains(['{', '}']) || part.is_empty() {
                return Err(format!(
                    "path `{raw}`: segment `{part}` must be a literal or a whole `{{name}}`"
                ));
            } else {
                Segment::Lit((*part).to_string())
            };
            segments.push(seg);
        }
        Ok(PathPattern {
            raw: raw.to_string(),
            segments,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }

    pub fn param_names(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Param(n) | Segment::Rest(n) => Some(n.as_str()),
            Segment::Lit(_) => None,
        })
    }

    /// Match a request path (no query). Returns the captured params.
    pub fn matches<'p>(&self, path: &'p str) -> Option<Vec<(&str, &'p str)>> {
        if !path.starts_with('/') {
            return None;
        }
        let mut params = Vec::new();
        let mut pos = 1; // just past a '/'
        for seg in &self.segments {
            if let Segment::Rest(name) = seg {
                params.push((name.as_str(), path.get(pos..).unwrap_or("")));
                return Some(params);
            }
            if pos > path.len() {
                return None;
            }
            let end = path[pos..].find('/').map_or(path.len(), |i| pos + i);
            let part = &path[pos..end];
            match seg {
                Segment::Lit(lit) if part == lit => {}
                Segment::Param(name) if !part.is_empty() => params.push((name.as_str(), part)),
                _ => return None,
            }
            pos = end + 1;
        }
        // Exactly consumed, or one trailing slash (the same resource).
        (pos >= path.len()).then_some(params)
    }

    /// Fill this pattern's params from `params` (used for the rust-side path).
    pub fn render(&self, params: &[(&str, &str)]) -> String {
        let mut out = String::with_capacity(self.raw.len() + 16);
        for seg in &self.segments {
            out.push('/');
            match seg {
                Segment::Lit(l) => out.push_str(l),
                Segment::Param(n) | Segment::Rest(n) => {
                    let v = params.iter().find(|(k, _)| k == n).map(|(_, v)| *v);
                    out.push_str(v.unwrap_or_default());
                }
            }
        }
        if out.is_empty() {
            out.push('/');
        }
        out
    }

    /// Literal segments first, then params, then tails: most specific wins.
    fn specificity(&self) -> (usize, usize, usize) {
        let lits = self
            .segments
            .iter()
            .filter(|s| matches!(s, Segment::Lit(_)))
            .count();
        let rest = self.segments.iter().any(|s| matches!(s, Segment::Rest(_)));
        (usize::from(!rest), lits, self.segments.len())
    }
}

fn valid_name(raw: &str, name: &str) -> Result<String, String> {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        Ok(name.to_string())
    } else {
        Err(format!(
            "path `{raw}`: param name `{name}` must be letters, digits or `_`"
        ))
    }
}

/// One migrated route.
#[derive(Debug, Clone)]
pub struct Route {
    pub id: RouteId,
    pub pattern: PathPattern,
    /// `None`: every method.
    pub methods: Option<Vec<Method>>,
    /// Path on the rust side, when it differs from the public one.
    pub rust_path: Option<PathPattern>,
    pub kind: RouteKind,
    /// Who may call it, with which credentials.
    pub auth: crate::auth::RouteAuth,
    /// Retry-storm caps, if any.
    pub cap: Option<crate::cap::CapPolicy>,
}

impl Route {
    fn allows(&self, method: &Method) -> bool {
        match &self.methods {
            None => true,
            Some(ms) => {
                ms.contains(method) || (method == Method::HEAD && ms.contains(&Method::GET))
            }
        }
    }
}

/// A matched route and the params it captured.
#[derive(Debug)]
pub struct Match<'t, 'p> {
    pub route: &'t Route,
    pub params: Vec<(&'t str, &'p str)>,
}

impl Match<'_, '_> {
    /// The path (and query) to send to the rust backend.
    pub fn rust_path_and_query(&self, query: Option<&str>) -> Option<String> {
        let pattern = self.route.rust_path.as_ref()?;
        let mut p = pattern.render(&self.params);
        if let Some(q) = query {
            p.push('?');
            p.push_str(q);
        }
        Some(p)
    }
}

/// Routes ordered most specific first.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<Route>,
}

impl RouteTable {
    pub fn new(mut routes: Vec<Route>) -> RouteTable {
        // Stable: among equals, file order wins.
        routes.sort_by_key(|r| std::cmp::Reverse(r.pattern.specificity()));
        RouteTable { routes }
    }

    /// The route claiming `method path`, if any. A path claimed for other
    /// methods only is unmatched: next answers it as before.
    pub fn find<'t, 'p>(&'t self, method: &Method, path: &'p str) -> Option<Match<'t, 'p>> {
        self.routes.iter().find_map(|route| {
            if !route.allows(method) {
                return None;
            }
            route
                .pattern
                .matches(path)
                .map(|params| Match { route, params })
        })
    }

    pub fn get(&self, id: &RouteId) -> Option<&Route> {
        self.routes.iter().find(|r| &r.id == id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter()
    }

    pub fn len(&self) -> usize {
        self.routes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.routes.is_empty()
    }
}
