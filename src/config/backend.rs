//! Backend addresses, resolved when the config is loaded (never per request:
//! Pingora's `HttpPeer::new` panics on a name that does not resolve).

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

/// A resolved HTTP(S) upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// As written in the config (no credentials allowed there).
    pub url: String,
    pub addr: SocketAddr,
    pub tls: bool,
    /// SNI / authority host.
    pub host: String,
    pub connect_timeout: Duration,
    pub read_timeout: Duration,
    pub write_timeout: Duration,
    pub idle_timeout: Duration,
    /// Background check of `health_path`, when configured (boxed: most
    /// upstreams have none, and `RustBackend` stays small).
    pub health: Option<Box<HealthCheck>>,
}

/// `health_path` and its timing: GET it every `interval`; up on 2xx/3xx.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    /// Starts with `/`.
    pub path: String,
    pub interval: Duration,
    pub timeout: Duration,
}

impl Upstream {
    pub fn parse(
        url: &str,
        connect_timeout: Duration,
        read_timeout: Duration,
        write_timeout: Duration,
        idle_timeout: Duration,
    ) -> Result<Upstream, String> {
        let uri: http::Uri = url
            .parse()
            .map_err(|_| format!("`{url}` is not a URL: write e.g. \"http://127.0.0.1:3000\""))?;
        let tls = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(format!("`{url}`: the scheme must be http or https")),
        };
        if uri.path() != "/" && !uri.path().is_empty() || uri.query().is_some() {
            return Err(format!(
                "`{url}`: give only scheme://host:port, without a path"
            ));
        }
        let auth = uri
            .authority()
            .ok_or_else(|| format!("`{url}`: missing host"))?;
        if auth.as_str().contains('@') {
            return Err(format!("`{url}`: credentials do not belong in the URL"));
        }
        let host = auth
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let port = auth.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let addr = (host.as_str(), port)
            .to_socket_addrs()
            .map_err(|e| format!("`{url}`: cannot resolve `{host}`: {e}"))?
            .next()
            .ok_or_else(|| format!("`{url}`: `{host}` resolves to no address"))?;
        Ok(Upstream {
            url: url.to_string(),
            addr,
            tls,
            host,
            connect_timeout,
            read_timeout,
            write_timeout,
            idle_timeout,
            health: None,
        })
    }
}

/// The legacy Next.js app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextBackend(pub Upstream);

/// The rust handlers: in this process, or proxied to like next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RustBackend {
    Embedded,
    Remote(Upstream),
}
