//! The access line, written by hand: the bytes `tracing`'s compact (or
//! `CUTOVER_LOG_FORMAT=json`) formatter writes for the `cutover::access`
//! event, built without `core::fmt` in a per-thread buffer that is reused,
//! and handed to [`crate::logbuf`] in one call, as `tracing` writes it.
//! Every request pays this line; through `tracing`'s formatter it cost ~5k
//! instructions.
//!
//! Only the plain case is written here: no error, no health change, field
//! values of printable ASCII without `"` or `\` (nothing to escape in
//! either format), and stderr not a terminal (where `tracing` adds
//! colours). Anything else goes through `tracing::info!`, as do lines when
//! no subscriber wants `cutover::access` at info (`RUST_LOG`): then nothing
//! is written. The format is `main`'s `init_logging` choice, read from the
//! same environment variable. The tests compare both paths byte for byte.

use std::cell::RefCell;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::decimal::decimal;

/// The fields of one access line, in the order they are written.
pub(super) struct Line<'a> {
    pub route: &'a str,
    pub backend: &'a str,
    pub decision: &'a str,
    pub method: &'a str,
    pub path: &'a str,
    pub status: u16,
    /// The request's duration; logged in milliseconds, microsecond resolution.
    pub micros: u64,
    pub bytes_in: usize,
    pub bytes_out: usize,
    pub fallback: Option<&'a str>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Format {
    Compact,
    Json,
}

/// The format `main` configured, or `None` when this writer must not be
/// used (a terminal: `tracing` colours its lines).
fn format() -> Option<Format> {
    static FORMAT: OnceLock<Option<Format>> = OnceLock::new();
    *FORMAT.get_or_init(|| {
        if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
            return None;
        }
        let json = std::env::var("CUTOVER_LOG_FORMAT").is_ok_and(|v| v == "json");
        Some(if json { Format::Json } else { Format::Compact })
    })
}

/// Writes `line` if it is a plain one; `false` when the caller must log it
/// through `tracing` instead.
pub(super) fn write(line: &Line<'_>) -> bool {
    let Some(format) = format() else {
        return false;
    };
    if !plain(line) {
        return false;
    }
    if !tracing::enabled!(target: "cutover::access", tracing::Level::INFO) {
        return true;
    }
    thread_local! {
        static BUF: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(512));
    }
    BUF.with_borrow_mut(|buf| {
        buf.clear();
        if !render(buf, format, SystemTime::now(), line) {
            return false;
        }
        // Through the same writer as `tracing`'s lines (in order).
        crate::logbuf::write(buf);
        true
    })
}

/// The line through `tracing::info!` (the formatter, `RUST_LOG`), with the
/// fields only this path writes: the error and a health change.
pub(super) fn trace(line: &Line<'_>, e: Option<&pingora::Error>, backend_health: Option<&str>) {
    tracing::info!(
        target: "cutover::access",
        route = line.route,
        backend = line.backend,
        decision = line.decision,
        method = %line.method,
        path = %line.path,
        status = line.status,
        // Microsecond resolution: `0.098`, not `0.09797399999999999`.
        duration_ms = line.micros as f64 / 1000.0,
        bytes_in = line.bytes_in,
        bytes_out = line.bytes_out,
        error = e.map(|e| e.etype().as_str()),
        error_source = e.map(|e| e.esource().as_str()),
        error_detail = e.map(|e| e.to_string()),
        fallback = line.fallback,
        // Set when this request changed the side's health (e.g. `next down`).
        backend_health,
    );
}

/// Nothing in `line` needs escaping in either format.
fn plain(line: &Line<'_>) -> bool {
    let ok = |s: &str| {
        s.bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
    };
    [
        line.route,
        line.backend,
        line.decision,
        line.method,
        line.path,
    ]
    .into_iter()
    .chain(line.fallback)
    .all(ok)
}

fn render(buf: &mut Vec<u8>, format: Format, now: SystemTime, line: &Line<'_>) -> bool {
    let mut ts = [0u8; 27];
    let Some(ts) = timestamp(now, &mut ts) else {
        return false;
    };
    let mut out = Out {
        buf,
        format,
        first: true,
    };
    match format {
        Format::Compact => {
            out.raw(ts);
            out.raw(b"  INFO cutover::access: ");
        }
        Format::Json => {
            out.raw(b"{\"timestamp\":\"");
            out.raw(ts);
            out.raw(b"\",\"level\":\"INFO\"");
        }
    }
    out.field("route", Kind::Str, line.route.as_bytes());
    out.field("backend", Kind::Str, line.backend.as_bytes());
    out.field("decision", Kind::Str, line.decision.as_bytes());
    out.field("method", Kind::Display, line.method.as_bytes());
    out.field("path", Kind::Display, line.path.as_bytes());
    let mut n = [0u8; 20];
    out.field(
        "status",
        Kind::Number,
        decimal(u64::from(line.status), &mut n),
    );
    let mut ms = [0u8; 24];
    out.field("duration_ms", Kind::Number, millis(line.micros, &mut ms));
    out.field(
        "bytes_in",
        Kind::Number,
        decimal(line.bytes_in as u64, &mut n),
    );
    out.field(
        "bytes_out",
        Kind::Number,
        decimal(line.bytes_out as u64, &mut n),
    );
    if let Some(f) = line.fallback {
        out.field("fallback", Kind::Str, f.as_bytes());
    }
    match format {
        Format::Compact => out.raw(b"\n"),
        Format::Json => out.raw(b",\"target\":\"cutover::access\"}\n"),
    }
    true
}

/// How `tracing` records a field: a `&str` (quoted, `Debug`), a `%` field
/// (`Display`: bare in the compact format, a string in JSON), a number.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Str,
    Display,
    Number,
}

struct Out<'b> {
    buf: &'b mut Vec<u8>,
    format: Format,
    first: bool,
}

impl Out<'_> {
    fn raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    fn field(&mut self, name: &str, kind: Kind, value: &[u8]) {
        let quoted = match self.format {
            Format::Compact => {
                if !self.first {
                    self.buf.push(b' ');
                }
                self.raw(name.as_bytes());
                self.buf.push(b'=');
                kind == Kind::Str
            }
            Format::Json => {
                self.raw(b",\"");
                self.raw(name.as_bytes());
                self.raw(b"\":");
                kind != Kind::Number
            }
        };
        self.first = false;
        if quoted {
            self.buf.push(b'"');
        }
        self.raw(value);
        if quoted {
            self.buf.push(b'"');
        }
    }
}

/// `micros / 1000` as `f64`'s `Debug` (and JSON's `ryu`) print it: the
/// shortest decimal, at least one fraction digit (`0.098`, `12.5`, `3.0`).
/// Exact for any duration under 31 years (below 2^53 µs, where the three
/// decimals are the shortest form that reads back).
fn millis(micros: u64, buf: &mut [u8; 24]) -> &[u8] {
    let mut frac = micros % 1000;
    let mut digits = 3;
    while digits > 1 && frac.is_multiple_of(10) {
        frac /= 10;
        digits -= 1;
    }
    let mut i = buf.len();
    for _ in 0..digits {
        i -= 1;
        buf[i] = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    i -= 1;
    buf[i] = b'.';
    let mut whole = micros / 1000;
    loop {
        i -= 1;
        buf[i] = b'0' + (whole % 10) as u8;
        whole /= 10;
        if whole == 0 {
            return &buf[i..];
        }
    }
}

/// `2026-12-01T03:52:56.123456Z`, as `tracing_subscriber::fmt::time::
/// SystemTime` writes it (UTC, microseconds). `None` outside years
/// 1970..=9999, which `tracing` writes differently.
fn timestamp(now: SystemTime, out: &mut [u8; 27]) -> Option<&[u8]> {
    let d = now.duration_since(UNIX_EPOCH).ok()?;
    let secs = d.as_secs();
    let (year, month, day) = civil_from_days(secs / 86_400);
    if year > 9999 {
        return None;
    }
    let rem = secs % 86_400;
    let parts: [(u64, usize); 7] = [
        (year, 4),
        (month, 2),
        (day, 2),
        (rem / 3600, 2),
        (rem / 60 % 60, 2),
        (rem % 60, 2),
        (u64::from(d.subsec_micros()), 6),
    ];
    let seps = [b'-', b'-', b'T', b':', b':', b'.', b'Z'];
    let mut i = 0;
    for ((value, width), sep) in parts.into_iter().zip(seps) {
        let mut v = value;
        for k in (0..width).rev() {
            out[i + k] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        out[i + width] = sep;
        i += width + 1;
    }
    Some(&out[..i])
}

/// (year, month, day) of a day count since 1970-01-01 (H. Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests;
