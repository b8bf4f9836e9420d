//! A small HTTP/1.1 keep-alive load generator for `bench/`: a fixed number of
//! requests (for instruction counts per request under callgrind), or a fixed
//! rate (wrk2-style, for p99 below saturation: each request has a scheduled
//! send time and its latency counts from that time, so a stalled proxy is not
//! hidden by the client waiting — no coordinated omission).
//!
//! Run: `cargo run --release --example load -- URL CONNS (count=N | rate=R,SECS) [HEADER]`
//! e.g. `... -- http://127.0.0.1:8080/plain 4 count=20000` or
//! `... -- http://127.0.0.1:8080/plain 50 rate=20000,10 'Cookie: a=b'`.
//! Prints `requests=N errors=E secs=S p50_ms=.. p99_ms=..` on one line.
//! Responses must carry Content-Length (what the bench origin sends).

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

enum Mode {
    Count(u64),
    Rate(f64, Duration),
}

fn usage(why: &str) -> ! {
    eprintln!("error: {why}\nusage: load URL CONNS (count=N | rate=R,SECS) [HEADER]");
    std::process::exit(64)
}

fn parse() -> (String, String, usize, Mode) {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() < 3 {
        usage("missing arguments");
    }
    let rest = a[0]
        .strip_prefix("http://")
        .unwrap_or_else(|| usage("URL must be http://"));
    let (addr, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let conns: usize = a[1].parse().unwrap_or_else(|_| usage("CONNS is a number"));
    let mode = if let Some(n) = a[2].strip_prefix("count=") {
        Mode::Count(n.parse().unwrap_or_else(|_| usage("count=N")))
    } else if let Some((r, s)) = a[2].strip_prefix("rate=").and_then(|v| v.split_once(',')) {
        let r: f64 = r.parse().unwrap_or_else(|_| usage("rate=R,SECS"));
        let s: f64 = s.parse().unwrap_or_else(|_| usage("rate=R,SECS"));
        Mode::Rate(r, Duration::from_secs_f64(s))
    } else {
        usage("third argument is count=N or rate=R,SECS")
    };
    let header = a.get(3).map(|h| format!("{h}\r\n")).unwrap_or_default();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{header}\r\n");
    (addr.to_string(), req, conns.max(1), mode)
}

/// Reads one response; false on close or a response without Content-Length.
async fn read_response(s: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    buf.clear();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = std::str::from_utf8(&buf[..end]).unwrap_or("");
            let len = head
                .lines()
                .find_map(|l| {
                    let (n, v) = l.split_once(':')?;
                    n.eq_ignore_ascii_case("content-length")
                        .then(|| v.trim().parse::<usize>().ok())?
                })
                .ok_or_else(|| std::io::Error::other("response without Content-Length"))?;
            let ok = head.starts_with("HTTP/1.1 2");
            while buf.len() < end + 4 + len {
                let n = s.read(&mut chunk).await?;
                if n == 0 {
                    return Ok(false);
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Ok(ok);
        }
        let n = s.read(&mut chunk).await?;
        if n == 0 {
            return Ok(false);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Latency counts from the scheduled time (`from_schedule`) or from the send.
async fn connection(
    addr: String,
    req: String,
    plan: Vec<Instant>,
    from_schedule: bool,
) -> (Vec<Duration>, u64) {
    let mut lat = Vec::with_capacity(plan.len());
    let mut errors = 0;
    let mut buf = Vec::with_capacity(16 * 1024);
    let mut s = None;
    for at in plan {
        tokio::time::sleep_until(at.into()).await;
        let from = if from_schedule { at } else { Instant::now() };
        if s.is_none() {
            s = TcpStream::connect(&addr).await.ok();
        }
        let Some(conn) = s.as_mut() else {
            errors += 1;
            continue;
        };
        let ok = match conn.write_all(req.as_bytes()).await {
            Ok(()) => read_response(conn, &mut buf).await.unwrap_or(false),
            Err(_) => false,
        };
        if ok {
            lat.push(from.elapsed());
        } else {
            errors += 1;
            s = None;
        }
    }
    (lat, errors)
}

fn main() {
    let (addr, req, conns, mode) = parse();
    let from_schedule = matches!(mode, Mode::Rate(..));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let start = Instant::now() + Duration::from_millis(10);
    // Each connection's send times: as fast as it can (count) or its share of
    // an even schedule (rate).
    let plans: Vec<Vec<Instant>> = (0..conns)
        .map(|c| match mode {
            Mode::Count(n) => {
                let share = n / conns as u64 + u64::from((c as u64) < n % conns as u64);
                vec![start; share as usize]
            }
            Mode::Rate(r, secs) => {
                let total = (r * secs.as_secs_f64()) as usize;
                (c..total)
                    .step_by(conns)
                    .map(|i| start + Duration::from_secs_f64(i as f64 / r))
                    .collect()
            }
        })
        .collect();
    let (mut lat, errors) = rt.block_on(async {
        let tasks: Vec<_> = plans
            .into_iter()
            .map(|p| tokio::spawn(connection(addr.clone(), req.clone(), p, from_schedule)))
            .collect();
        let (mut all, mut errors) = (Vec::new(), 0);
        for t in tasks {
            let (l, e) = t.await.expect("connection task");
            all.extend(l);
            errors += e;
        }
        (all, errors)
    });
    let secs = start.elapsed().as_secs_f64();
    lat.sort_unstable();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "requests={} errors={errors} secs={secs:.3} p50_ms={:.3} p99_ms={:.3}",
        lat.len(),
        pct(0.50),
        pct(0.99)
    );
}
