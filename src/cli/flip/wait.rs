//! Waiting for the running proxy: find its admin port, read `/-/config`
//! (plain HTTP/1.1 over std, short timeouts), poll until the flip is applied.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::FlipArgs;
use crate::config::Config;
use crate::route::RouteId;

/// The admin address to ask: `--admin`, else `admin_listen` (a wildcard
/// address means this host's loopback). Err says why there is none.
pub(super) fn admin_addr(a: &FlipArgs, cfg: &Config) -> Result<SocketAddr, String> {
    resolve_admin(a.admin.as_deref().unwrap_or(&cfg.process.admin_listen))
}

/// An admin address (`--admin` or `admin_listen`) to connect to. Shared
/// with `cutover status`.
pub(crate) fn resolve_admin(text: &str) -> Result<SocketAddr, String> {
    let mut addr = text
        .to_socket_addrs()
        .ok()
        .and_then(|mut it| it.next())
        .ok_or_else(|| format!("`{text}` is not an admin address"))?;
    if addr.port() == 0 {
        return Err(format!(
            "admin_listen `{text}` has port 0, so its port is not known here: pass --admin ADDR"
        ));
    }
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    Ok(addr)
}

pub(super) fn start_generation(config: &serde_json::Value) -> u64 {
    config["generation"].as_u64().unwrap_or(0)
}

/// Poll `/-/config` until the route's flag in force is the file just written.
pub(super) fn wait_applied(
    addr: SocketAddr,
    id: &RouteId,
    fingerprint: &str,
    start: u64,
    secs: u64,
) -> String {
    let began = Instant::now();
    let deadline = began + Duration::from_secs(secs);
    let mut generation = start;
    loop {
        if let Ok(v) = admin_config(addr) {
            generation = start_generation(&v);
            let route = v["routes"]
                .as_array()
                .and_then(|rs| rs.iter().find(|r| r["id"] == id.as_str()));
            if route.is_some_and(|r| r["flag_sha256"] == fingerprint) && generation > start {
                return format!(
                    "the running proxy at {addr} applied it: generation {generation} (was {start}, {} ms)",
                    began.elapsed().as_millis()
                );
            }
        }
        if Instant::now() >= deadline {
            return format!(
                "waited {secs} s: the running proxy at {addr} has not applied it (generation {generation}); the file is written: see its log and http://{addr}/-/config"
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `GET /-/config` on the admin port, with short timeouts.
pub(super) fn admin_config(addr: SocketAddr) -> Result<serde_json::Value, String> {
    admin_get(addr, "/-/config")
}

/// `GET path` on the admin port as JSON, with short timeouts. Shared with
/// `cutover status`.
pub(crate) fn admin_get(addr: SocketAddr, path: &str) -> Result<serde_json::Value, String> {
    let timeout = Duration::from_millis(500);
    let mut s = TcpStream::connect_timeout(&addr, timeout).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    s.set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut buf = Vec::new();
    // Content-Length is always set: read the head, then exactly the body.
    let mut chunk = [0u8; 8192];
    loop {
        let n = s.read(&mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if len.is_some_and(|len| buf.len() >= end + 4 + len) {
                break;
            }
        }
    }
    let end = find(&buf, b"\r\n\r\n").ok_or("no HTTP response")?;
    if !buf.starts_with(b"HTTP/1.1 200") && !buf.starts_with(b"HTTP/1.0 200") {
        return Err("not a 200".into());
    }
    serde_json::from_slice(&buf[end + 4..]).map_err(|e| e.to_string())
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
