//! The in-place edit of a flag file (`toml_edit`: comments, key order and
//! other keys kept) and the line diff `--dry-run` prints. Pure: text in, text out.

use toml_edit::{DocumentMut, InlineTable, Item, Value};

use super::Change;

/// The flag file's new text: `old` edited in place (or a new file), and notes
/// on what else had to change.
pub fn edit(old: Option<&str>, change: &Change) -> (String, Vec<String>) {
    let mut notes = Vec::new();
    let (mut doc, fresh) = match old.map(str::parse::<DocumentMut>) {
        None => (DocumentMut::new(), true),
        Some(Ok(d)) => (d, false),
        Some(Err(e)) => {
            notes.push(format!(
                "the old file was not valid TOML ({}): written afresh",
                e.message().trim()
            ));
            (DocumentMut::new(), true)
        }
    };
    const KEYS: [&str; 4] = ["route", "backend", "canary", "shadow"];
    let unknown: Vec<String> = doc
        .as_table()
        .iter()
        .map(|(k, _)| k.to_string())
        .filter(|k| !KEYS.contains(&k.as_str()))
        .collect();
    for k in unknown {
        doc.remove(&k);
        notes.push(format!("removed the unknown key `{k}`"));
    }
    match change.percent {
        None => {
            let item = Item::Value(Value::from(change.side.as_str()));
            replace(&mut doc, "backend", &["canary"], item);
        }
        Some(p) => match doc.get_mut("canary").and_then(Item::as_table_like_mut) {
            Some(t) => {
                set(t, "percent", Value::from(i64::from(p)));
                if let Some(s) = &change.sticky_by {
                    set(t, "sticky_by", Value::from(s.as_str()));
                }
                doc.remove("backend");
            }
            None => {
                let mut t = InlineTable::new();
                t.insert("percent", Value::from(i64::from(p)));
                if let Some(s) = &change.sticky_by {
                    t.insert("sticky_by", Value::from(s.as_str()));
                }
                t.fmt();
                replace(
                    &mut doc,
                    "canary",
                    &["backend"],
                    Item::Value(Value::InlineTable(t)),
                );
            }
        },
    }
    match change.shadow {
        None => {}
        Some(0) => {
            doc.remove("shadow");
        }
        Some(p) => match doc.get_mut("shadow").and_then(Item::as_table_like_mut) {
            Some(t) => set(t, "percent", Value::from(i64::from(p))),
            None => {
                let mut t = InlineTable::new();
                t.insert("percent", Value::from(i64::from(p)));
                t.fmt();
                doc.insert("shadow", Item::Value(Value::InlineTable(t)));
            }
        },
    }
    let text = doc.to_string();
    if fresh {
        (format!("# written by `cutover flip`\n{text}"), notes)
    } else {
        (text, notes)
    }
}

/// Set `key` in a table keeping the old value's comments and spacing.
fn set(t: &mut dyn toml_edit::TableLike, key: &str, mut v: Value) {
    match t.get_mut(key).and_then(Item::as_value_mut) {
        Some(old) => {
            *v.decor_mut() = old.decor().clone();
            *old = v;
        }
        None => {
            t.insert(key, Item::Value(v));
        }
    }
}

/// Put `key = item` where the first of `instead` was (keeping its comments
/// and place), or where `key` already is, or at the end; remove `instead`.
fn replace(doc: &mut DocumentMut, key: &str, instead: &[&str], item: Item) {
    let table = doc.as_table_mut();
    // Assigned in place: `insert` would replace the key too, and with it the
    // comment lines above it (they belong to the key's decor).
    if let Some(slot @ Item::Value(_)) = table.get_mut(key) {
        let mut item = item;
        if let (Item::Value(new), Item::Value(old)) = (&mut item, &*slot) {
            *new.decor_mut() = old.decor().clone();
        }
        *slot = item;
        for k in instead {
            table.remove(k);
        }
        return;
    }
    let at = instead.iter().find(|k| table.contains_key(k)).copied();
    let Some(at) = at else {
        table.insert(key, item);
        return;
    };
    // Rebuild in order so the new key takes the old one's place.
    let keys: Vec<String> = table.iter().map(|(k, _)| k.to_string()).collect();
    let mut entries = Vec::with_capacity(keys.len());
    for k in &keys {
        if let Some(e) = table.remove_entry(k) {
            entries.push(e);
        }
    }
    for (k, v) in entries {
        if k.get() == at {
            let mut new_key = toml_edit::Key::new(key);
            *new_key.leaf_decor_mut() = k.leaf_decor().clone();
            let mut item = item.clone();
            if let (Item::Value(new), Item::Value(old)) = (&mut item, &v) {
                *new.decor_mut() = old.decor().clone();
            }
            table.insert_formatted(&new_key, item);
        } else if !instead.contains(&k.get()) {
            table.insert_formatted(&k, v);
        }
    }
}

/// Lines removed (`-`) and added (`+`), in order: a minimal LCS diff.
pub fn diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, String::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            out.push_str(&format!("  {}\n", a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            out.push_str(&format!("- {}\n", a[i]));
            i += 1;
        } else {
            out.push_str(&format!("+ {}\n", b[j]));
            j += 1;
        }
    }
    out
}
