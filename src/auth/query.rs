//! `?token=` handling for routes that allow it (`EventSource` cannot send headers).
//!
//! Pure string work: remove every `token` parameter from a path-and-query, so the
//! token reaches neither the access log nor the upstream, and return its value.
//! Parameter names are compared percent-decoded (`%74oken` is `token`, as the
//! backends' `URLSearchParams` read it); [`param_name`] is what the log
//! redaction uses too.

/// Removes every `token=` parameter; returns the new path-and-query and the first
/// token value, percent-decoded (`+` stays `+`; an undecodable value is kept raw).
/// Other parameters keep their order and exact bytes; an emptied query drops the `?`.
pub fn take_query_token(path_and_query: &str) -> (String, Option<String>) {
    let Some((path, query)) = path_and_query.split_once('?') else {
        return (path_and_query.to_string(), None);
    };
    let mut token = None;
    let mut kept: Vec<&str> = Vec::new();
    for param in query.split('&') {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        if param_name(name) == "token" {
            if token.is_none() && !value.is_empty() {
                token = Some(percent_decode(value).unwrap_or_else(|| value.to_string()));
            }
        } else if !param.is_empty() {
            kept.push(param);
        }
    }
    let rebuilt = if kept.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{}", kept.join("&"))
    };
    (rebuilt, token)
}

/// A query parameter's name as a server reads it: `+` is a space and
/// `%XX` is decoded; a name that does not decode is compared as written.
pub fn param_name(raw: &str) -> std::borrow::Cow<'_, str> {
    if !raw.contains(['%', '+']) {
        return std::borrow::Cow::Borrowed(raw);
    }
    let spaced = raw.replace('+', " ");
    std::borrow::Cow::Owned(percent_decode(&spaced).unwrap_or(spaced))
}

fn percent_decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let text = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(text, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests;
