//! Opaque keyset cursors: base64url (no padding) of `<createdAt ISO>|<id>`.
//!
//! Pure; shared by every newest-first message list. Pages select rows
//! strictly older than the cursor on (`createdAt`, `id`), so rows inserted
//! while a client pages never shift the older pages.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};

use super::js_iso;

/// The position after the last row of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: String,
}

/// A cursor string that is not one we issued.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed cursor")]
pub struct BadCursor;

impl Cursor {
    /// The position of the row (`created_at`, `id`).
    pub fn at(created_at: DateTime<Utc>, id: &str) -> Cursor {
        Cursor {
            created_at,
            id: id.to_owned(),
        }
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{}|{}", js_iso(&self.created_at), self.id))
    }

    pub fn decode(s: &str) -> Result<Cursor, BadCursor> {
        let raw = URL_SAFE_NO_PAD.decode(s).map_err(|_| BadCursor)?;
        let text = String::from_utf8(raw).map_err(|_| BadCursor)?;
        let (ts, id) = text.split_once('|').ok_or(BadCursor)?;
        if id.is_empty() {
            return Err(BadCursor);
        }
        let created_at = DateTime::parse_from_rfc3339(ts)
            .map_err(|_| BadCursor)?
            .with_timezone(&Utc);
        Ok(Cursor {
            created_at,
            id: id.to_owned(),
        })
    }
}

/// Split `limit + 1` fetched rows into the page and the next cursor.
pub fn page<T>(
    mut rows: Vec<T>,
    limit: usize,
    key: impl Fn(&T) -> Cursor,
) -> (Vec<T>, Option<String>) {
    if rows.len() > limit {
        rows.truncate(limit);
        let next = rows.last().map(|r| key(r).encode());
        (rows, next)
    } else {
        (rows, None)
    }
}
