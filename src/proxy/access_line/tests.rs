use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{Format, Line, millis, render, timestamp, trace};

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl io::Write for Capture {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// What `tracing`, configured as `main` configures it, writes for `line`.
fn through_tracing(line: &Line<'_>, format: Format) -> String {
    let out = Capture::default();
    let writer = out.clone();
    let builder = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || writer.clone());
    match format {
        Format::Json => {
            let sub = builder.json().flatten_event(true).finish();
            tracing::subscriber::with_default(sub, || trace(line, None, None));
        }
        Format::Compact => {
            let sub = builder.compact().finish();
            tracing::subscriber::with_default(sub, || trace(line, None, None));
        }
    }
    let bytes = out.0.lock().unwrap().clone();
    String::from_utf8(bytes).unwrap()
}

fn by_hand(line: &Line<'_>, format: Format) -> String {
    let mut buf = Vec::new();
    assert!(render(&mut buf, format, SystemTime::now(), line));
    String::from_utf8(buf).unwrap()
}

/// The line without its timestamp (they were taken at different times).
fn untimed(s: &str, format: Format) -> String {
    let at = match format {
        Format::Compact => 0,
        Format::Json => "{\"timestamp\":\"".len(),
    };
    format!("{}{}", &s[..at], &s[at + 27..])
}

fn line(micros: u64, fallback: Option<&'static str>) -> Line<'static> {
    Line {
        route: "user-threads-messages",
        backend: "next",
        decision: "none",
        method: "GET",
        path: "/api/chat/user-threads/t1/messages?limit=5&token=REDACTED",
        status: 200,
        micros,
        bytes_in: 0,
        bytes_out: 33,
        fallback,
    }
}

#[test]
fn hand_written_lines_are_the_bytes_tracing_writes() {
    let lines = [
        line(98, None),
        line(0, None),
        line(1_000, Some("connect_error")),
        line(1_234_567_890, None),
        Line {
            route: "(unmatched)",
            backend: "cutover",
            status: 0,
            path: "/",
            method: "POST",
            bytes_in: 12_345,
            ..line(7, None)
        },
    ];
    for l in &lines {
        for format in [Format::Compact, Format::Json] {
            let want = through_tracing(l, format);
            let got = by_hand(l, format);
            assert_eq!(untimed(&got, format), untimed(&want, format), "{format:?}");
        }
    }
}

#[test]
fn durations_print_as_f64_debug_and_json_print_them() {
    let mut buf = [0u8; 24];
    let big = [999_999_999, 1 << 40, 86_400_000_000, 123_456_789_012];
    for micros in (0..200_000).chain(big) {
        let ms = micros as f64 / 1000.0;
        let got = std::str::from_utf8(millis(micros, &mut buf))
            .unwrap()
            .to_string();
        assert_eq!(got, format!("{ms:?}"), "{micros}");
        assert_eq!(got, serde_json::to_string(&ms).unwrap(), "{micros}");
    }
}

#[test]
fn timestamps_are_utc_with_microseconds() {
    let at = |secs: u64, micros: u64| {
        let t = UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros);
        let mut buf = [0u8; 27];
        String::from_utf8(timestamp(t, &mut buf).unwrap().to_vec()).unwrap()
    };
    assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
    assert_eq!(at(951_782_400, 5), "2000-02-29T00:00:00.000005Z");
    assert_eq!(at(951_868_799, 999_999), "2000-02-29T23:59:59.999999Z");
    assert_eq!(at(1_767_225_599, 120_000), "2025-12-31T23:59:59.120000Z");
    assert_eq!(at(1_798_761_600, 0), "2027-01-01T00:00:00.000000Z");
    assert_eq!(at(4_107_542_399, 0), "2100-02-28T23:59:59.000000Z");
    assert_eq!(at(253_402_300_799, 0), "9999-12-31T23:59:59.000000Z");
}

#[test]
fn a_field_that_needs_escaping_is_left_to_tracing() {
    let quoted = Line {
        path: "/a\"b",
        ..line(1, None)
    };
    assert!(!super::plain(&quoted));
    assert!(super::plain(&line(1, Some("x"))));
}
