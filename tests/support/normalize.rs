//! Normalizes the contract's volatile values inside JSON text while keeping
//! every other byte, so two backends' bodies and event payloads can be
//! compared byte for byte: UUIDs → `<id:N>` (N by first appearance, so
//! references stay checked), JS ISO timestamps → `<ts>`, cursors →
//! `<cursor:<id:N>>`.

#![allow(dead_code)]

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

#[derive(Default)]
pub struct Normalizer {
    ids: HashMap<String, usize>,
}

pub fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.char_indices().all(|(i, c)| {
            if [8, 13, 18, 23].contains(&i) {
                c == '-'
            } else {
                c.is_ascii_hexdigit()
            }
        })
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`
pub fn is_js_ts(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'.',
            23 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

fn cursor_parts(s: &str) -> Option<(String, String)> {
    if s.len() <= 30 {
        return None;
    }
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(s).ok()?).ok()?;
    let (ts, id) = text.split_once('|')?;
    is_js_ts(ts).then(|| (ts.to_owned(), id.to_owned()))
}

impl Normalizer {
    /// One string value (without quotes).
    pub fn literal(&mut self, s: &str) -> String {
        if is_uuid(s) {
            let n = self.ids.len();
            return format!("<id:{}>", *self.ids.entry(s.to_owned()).or_insert(n));
        }
        if is_js_ts(s) {
            return "<ts>".into();
        }
        match cursor_parts(s) {
            Some((_, id)) => format!("<cursor:{}>", self.literal(&id)),
            None => s.to_owned(),
        }
    }

    /// Every string literal of a JSON text.
    pub fn text(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            out.push(c);
            if c != '"' {
                continue;
            }
            let mut lit = String::new();
            let mut escaped = false;
            for c in chars.by_ref() {
                if escaped {
                    escaped = false;
                } else if c == '\\' {
                    escaped = true;
                } else if c == '"' {
                    break;
                }
                lit.push(c);
            }
            out.push_str(&self.literal(&lit));
            out.push('"');
        }
        out
    }
}
