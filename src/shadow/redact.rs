//! Secret redaction for anything the diff log or a verdict shows: JSON values
//! under token-like keys, `name=value` pairs with token-like names (query
//! strings, form bodies, cookies), `Bearer …` credentials and JWT-shaped
//! strings. Pure string work; errs on the side of hiding too much.

use serde_json::Value;

pub(crate) const REDACTED: &str = "[redacted]";

/// Key fragments (lowercase) that mark a value as secret.
const SECRET_KEYS: [&str; 12] = [
    "token",
    "secret",
    "password",
    "passwd",
    "authorization",
    "cookie",
    "session",
    "apikey",
    "api_key",
    "api-key",
    "credential",
    "signature",
];

/// The key (JSON field, header, query parameter) names a secret.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    SECRET_KEYS.iter().any(|s| k.contains(s))
}

/// The request path without its query string or fragment.
pub fn redact_path(path: &str) -> String {
    let end = path.find(['?', '#']).unwrap_or(path.len());
    path[..end].to_string()
}

/// Replaces values under secret keys, recursively.
pub(crate) fn redact_json(v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if is_secret_key(k) && !child.is_null() {
                    *child = Value::String(REDACTED.to_string());
                } else {
                    redact_json(child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(redact_json),
        Value::String(s) => {
            let r = redact_text(s);
            if r != *s {
                *s = r;
            }
        }
        _ => {}
    }
}

/// Redacts secrets in free text: `token=…`-style pairs, `Bearer …`,
/// `"password":"…"` and JWT-shaped words.
pub fn redact_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while !rest.is_empty() {
        let word_end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '&' | ';' | ',' | '?'))
            .unwrap_or(rest.len());
        let (word, tail) = rest.split_at(word_end);
        out.push_str(&redact_word(word, &out));
        // Keep the separator itself.
        let sep_len = tail.chars().next().map(char::len_utf8).unwrap_or(0);
        out.push_str(&tail[..sep_len]);
        rest = &tail[sep_len..];
    }
    out
}

/// One whitespace/`&`/`;`-separated word; `before` is the text so far.
fn redact_word(word: &str, before: &str) -> String {
    if word.is_empty() {
        return String::new();
    }
    let prev = before.trim_end();
    let prev_word = prev.rsplit(char::is_whitespace).next().unwrap_or("");
    let lower = prev_word.to_ascii_lowercase();
    if lower.ends_with("bearer") || lower.ends_with("basic") {
        return REDACTED.to_string();
    }
    // `authorization: Bearer x` keeps the scheme word; the rule above takes the credential.
    let scheme = word.eq_ignore_ascii_case("bearer") || word.eq_ignore_ascii_case("basic");
    if !scheme && prev_word.ends_with(':') && is_secret_key(prev_word.trim_end_matches(':')) {
        return REDACTED.to_string();
    }
    // name=value or "name":"value" (JSON text that did not parse).
    for sep in ['=', ':'] {
        if let Some(i) = word.find(sep) {
            let name = word[..i].trim_matches(|c: char| c == '"' || c == '\'' || c == '{');
            if is_secret_key(&crate::auth::query::param_name(name)) && i + 1 < word.len() {
                let closing = if word.ends_with('"') && word[i + 1..].starts_with('"') {
                    "\""
                } else {
                    ""
                };
                let opening = if closing.is_empty() { "" } else { "\"" };
                return format!("{}{sep}{opening}{REDACTED}{closing}", &word[..i]);
            }
        }
    }
    if looks_like_jwt(word) {
        return REDACTED.to_string();
    }
    word.to_string()
}

fn looks_like_jwt(word: &str) -> bool {
    let w = word.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_');
    w.starts_with("eyJ")
        && w.split('.').count() == 3
        && w.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Truncates to at most `max` bytes on a char boundary; true when cut.
pub(crate) fn truncate(s: &mut String, max: usize) -> bool {
    if s.len() <= max {
        return false;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.truncate(end);
    true
}
