//! Paging of newest-first message lists, shared by the tenant chatbot, user
//! threads and WhatsApp history: the `?cursor=&limit=` rule (each domain
//! with its own limits and error shape) and the `{messages, nextCursor}`
//! page they all answer with.
//!
//! Pure but for the extractor; the query behind a page is
//! `crate::store::keyset`.

#[cfg(test)]
mod tests;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::Serialize;

use super::HandlerError;
use crate::store::cursor::Cursor;

/// The default and the largest `limit` of a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub default: usize,
    pub max: usize,
}

pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 100;

/// The chatbot and user-thread lists: 50, at most 100.
pub const LIMITS: Limits = Limits {
    default: DEFAULT_LIMIT,
    max: MAX_LIMIT,
};

/// `?cursor=&limit=` of a newest-first list.
#[derive(Debug)]
pub struct Paging {
    pub cursor: Option<Cursor>,
    pub limit: usize,
}

/// Which paging parameter is wrong (each domain words it its own way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadPaging {
    Limit,
    Cursor,
}

impl Paging {
    /// The `limit` and `cursor` values as given: a missing limit is the
    /// default, a present one is plain ASCII digits in `1..=max`; a present
    /// cursor must be one we issued. The limit is judged first.
    pub fn parse(
        limit: Option<&str>,
        cursor: Option<&str>,
        limits: Limits,
    ) -> Result<Paging, BadPaging> {
        let limit = match limit {
            None => limits.default,
            Some(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=limits.max).contains(n))
                .ok_or(BadPaging::Limit)?,
            Some(_) => return Err(BadPaging::Limit),
        };
        let cursor = match cursor {
            None => None,
            Some(c) => Some(Cursor::decode(c).map_err(|_| BadPaging::Cursor)?),
        };
        Ok(Paging { cursor, limit })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Paging {
    type Rejection = HandlerError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parse_paging(parts.uri.query().unwrap_or(""))
    }
}

/// Pure parser behind [`Paging`] for the chatbot and user-thread lists
/// ([`LIMITS`], the contract's `invalid_limit` / `invalid_cursor`); the
/// first occurrence of a key wins (as `URLSearchParams.get`).
pub fn parse_paging(query: &str) -> Result<Paging, HandlerError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query).map_err(|_| HandlerError::Validation("invalid_limit"))?;
    let first = |k: &str| {
        pairs
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    Paging::parse(first("limit"), first("cursor"), LIMITS).map_err(|e| match e {
        BadPaging::Limit => HandlerError::Validation("invalid_limit"),
        BadPaging::Cursor => HandlerError::Validation("invalid_cursor"),
    })
}

/// One page of a message list: `{"messages": [...], "nextCursor": ...}`.
#[derive(Debug, Serialize)]
pub struct MessagePage<T> {
    pub messages: Vec<T>,
    #[serde(rename = "nextCursor")]
    pub next_cursor: Option<String>,
}

impl<T> From<(Vec<T>, Option<String>)> for MessagePage<T> {
    fn from((messages, next_cursor): (Vec<T>, Option<String>)) -> Self {
        MessagePage {
            messages,
            next_cursor,
        }
    }
}
