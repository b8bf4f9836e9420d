//! JSON ignore paths: a JSON pointer (`/a/0/id`) or a simple glob where `*`
//! matches one key or index and `**` matches any number of them
//! (`/items/*/createdAt`, `**/id`). Removing the matches from a document
//! before comparing hides fields that legitimately differ (ids, timestamps).

use super::ShadowError;
use serde_json::Value;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    /// `*`: exactly one key or array index.
    Any,
    /// `**`: zero or more keys or indexes.
    Deep,
}

/// A parsed ignore path. Build with `str::parse` / [`JsonPath::parse`].
#[derive(Clone, PartialEq, Eq)]
pub struct JsonPath {
    source: String,
    segs: Vec<Seg>,
}

impl JsonPath {
    /// Parses `/a/0/id`, `/items/*/createdAt`, `**/id` or `/**/id`.
    /// `~1` and `~0` escape `/` and `~` inside a key, as in RFC 6901.
    pub fn parse(s: &str) -> Result<JsonPath, ShadowError> {
        let bad = |reason| ShadowError::InvalidPath {
            path: s.to_string(),
            reason,
        };
        let body = if let Some(rest) = s.strip_prefix('/') {
            rest
        } else if s.starts_with("**") {
            s
        } else {
            return Err(bad("must start with '/' (a JSON pointer) or '**/'"));
        };
        if body.is_empty() {
            return Err(bad("would ignore the whole body; name a field"));
        }
        let segs: Vec<Seg> = body
            .split('/')
            .map(|raw| match raw {
                "*" => Seg::Any,
                "**" => Seg::Deep,
                key => Seg::Key(key.replace("~1", "/").replace("~0", "~")),
            })
            .collect();
        if segs.last() == Some(&Seg::Deep) {
            return Err(bad("must not end with '**'; name the field after it"));
        }
        Ok(JsonPath {
            source: s.to_string(),
            segs,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Removes every match from `doc`: object keys are deleted, array
    /// elements are replaced by `null` so the other indexes keep their place.
    pub fn remove_from(&self, doc: &mut Value) {
        strip(doc, &self.segs);
    }
}

impl std::str::FromStr for JsonPath {
    type Err = ShadowError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JsonPath::parse(s)
    }
}

impl fmt::Debug for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsonPath({:?})", self.source)
    }
}

fn seg_matches(seg: &Seg, key: &str) -> bool {
    match seg {
        Seg::Key(k) => k == key,
        Seg::Any | Seg::Deep => true,
    }
}

/// Applies `pat` (non-empty) below `v`.
fn strip(v: &mut Value, pat: &[Seg]) {
    let Some((first, rest)) = pat.split_first() else {
        return;
    };
    if *first == Seg::Deep {
        // `**` matching zero segments here …
        strip(v, rest);
        // … or one more segment, keeping `**` active below.
        for_each_child(v, |child| strip(child, pat));
        return;
    }
    match v {
        Value::Object(map) => {
            let keys: Vec<String> = map
                .keys()
                .filter(|k| seg_matches(first, k))
                .cloned()
                .collect();
            for k in keys {
                if rest.is_empty() {
                    map.remove(&k);
                } else if let Some(child) = map.get_mut(&k) {
                    strip(child, rest);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter_mut().enumerate() {
                if !seg_matches(first, &i.to_string()) {
                    continue;
                }
                if rest.is_empty() {
                    *child = Value::Null;
                } else {
                    strip(child, rest);
                }
            }
        }
        _ => {}
    }
}

fn for_each_child(v: &mut Value, mut f: impl FnMut(&mut Value)) {
    match v {
        Value::Object(map) => map.values_mut().for_each(&mut f),
        Value::Array(items) => items.iter_mut().for_each(&mut f),
        _ => {}
    }
}
