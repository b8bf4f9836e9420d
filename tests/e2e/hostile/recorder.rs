//! A raw HTTP/1.1 upstream that records exactly what it received, request by
//! request, with its own framing reading (Content-Length or chunked), and
//! answers each complete request `200 upstream`. Written by hand (not axum)
//! so nothing between the socket and the record normalises the bytes.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One request as the upstream read it.
#[derive(Debug, Clone)]
pub struct Received {
    pub head: String,
    pub body: Vec<u8>,
    /// Both `Content-Length` and `Transfer-Encoding`, or two lengths.
    pub ambiguous: bool,
}

impl Received {
    pub fn request_line(&self) -> &str {
        self.head.lines().next().unwrap_or("")
    }

    pub fn header(&self, name: &str) -> Vec<&str> {
        self.head
            .lines()
            .skip(1)
            .filter_map(|l| l.split_once(':'))
            .filter(|(n, _)| n.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim())
            .collect()
    }
}

#[derive(Clone, Default)]
pub struct Log(Arc<Mutex<Vec<Received>>>);

impl Log {
    pub fn take(&self) -> Vec<Received> {
        std::mem::take(&mut self.0.lock().unwrap())
    }
}

pub async fn start() -> (SocketAddr, Log) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Log::default();
    let l = log.clone();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(serve(sock, l.clone()));
        }
    });
    (addr, log)
}

async fn serve(mut sock: tokio::net::TcpStream, log: Log) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        while let Some((req, used)) = parse(&buf) {
            buf.drain(..used);
            log.0.lock().unwrap().push(req);
            let answer = b"HTTP/1.1 200 OK\r\ncontent-length: 8\r\n\r\nupstream";
            if sock.write_all(answer).await.is_err() {
                return;
            }
        }
        match sock.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// One complete request at the start of `buf`, and the bytes it used.
fn parse(buf: &[u8]) -> Option<(Received, usize)> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let head = String::from_utf8_lossy(&buf[..end - 4]).into_owned();
    let mut r = Received {
        head,
        body: Vec::new(),
        ambiguous: false,
    };
    let lengths: Vec<String> = r
        .header("content-length")
        .into_iter()
        .map(str::to_string)
        .collect();
    let chunked = r
        .header("transfer-encoding")
        .last()
        .is_some_and(|v| v.to_ascii_lowercase().ends_with("chunked"));
    r.ambiguous = lengths.len() > 1
        || (!lengths.is_empty() && !r.header("transfer-encoding").is_empty())
        || lengths.iter().any(|l| l.contains(','));
    if chunked {
        let (body, used) = dechunk(&buf[end..])?;
        r.body = body;
        Some((r, end + used))
    } else {
        let n: usize = lengths.first().map_or(Some(0), |l| l.parse().ok())?;
        let body = buf.get(end..end + n)?;
        r.body = body.to_vec();
        Some((r, end + n))
    }
}

fn dechunk(mut b: &[u8]) -> Option<(Vec<u8>, usize)> {
    let total = b.len();
    let mut body = Vec::new();
    loop {
        let line_end = b.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&b[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        b = &b[line_end + 2..];
        if size == 0 {
            let trailer_end = b.windows(2).position(|w| w == b"\r\n")?;
            b = &b[trailer_end + 2..];
            return Some((body, total - b.len()));
        }
        body.extend_from_slice(b.get(..size)?);
        b = b.get(size + 2..)?;
    }
}
