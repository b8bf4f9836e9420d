//! Pure: a worker batch of Baileys events, validated whole into typed
//! values, and a `WAMessage` (as `proto.WebMessageInfo.toObject` prints it)
//! mapped to a message row as the legacy worker mapped it.

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

/// Limits of one batch (a batch is one transaction).
pub const MAX_EVENTS: usize = 500;
pub const MAX_ITEMS: usize = 1000;

/// A validated batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    pub batch_id: String,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Connection(ConnectionUpdate),
    Upsert {
        notify: bool,
        messages: Vec<Value>,
        media: HashMap<String, String>,
    },
    Receipts(Vec<Receipt>),
    Contacts(Vec<ContactInfo>),
}

/// `connection.update`, with `lastDisconnect.statusCode` flattened.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectionUpdate {
    pub connection: Option<String>,
    pub qr: Option<String>,
    pub status_code: Option<i64>,
    pub phone_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub message_id: String,
    pub status: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactInfo {
    pub jid: String,
    pub name: Option<String>,
}

/// The batch is not of the contract's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InvalidBatch;

fn opt_str(o: &Map<String, Value>, key: &str) -> Result<Option<String>, InvalidBatch> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(InvalidBatch),
    }
}

fn array(v: &Value) -> Result<&Vec<Value>, InvalidBatch> {
    match v {
        Value::Array(a) if a.len() <= MAX_ITEMS => Ok(a),
        _ => Err(InvalidBatch),
    }
}

fn object(v: &Value) -> Result<&Map<String, Value>, InvalidBatch> {
    v.as_object().ok_or(InvalidBatch)
}

/// Validate a whole batch body (`{sessionId, batchId, events}`).
pub fn parse_batch(body: &Map<String, Value>) -> Result<Batch, InvalidBatch> {
    let batch_id = opt_str(body, "batchId")?
        .filter(|b| (1..=100).contains(&b.encode_utf16().count()))
        .ok_or(InvalidBatch)?;
    let events = body.get("events").ok_or(InvalidBatch)?;
    let events = match events {
        Value::Array(a) if a.len() <= MAX_EVENTS => a,
        _ => return Err(InvalidBatch),
    };
    let events = events.iter().map(parse_event).collect::<Result<_, _>>()?;
    Ok(Batch { batch_id, events })
}

fn parse_event(v: &Value) -> Result<Event, InvalidBatch> {
    let o = object(v)?;
    let data = o.get("data").ok_or(InvalidBatch)?;
    match o.get("type").and_then(Value::as_str) {
        Some("connection.update") => parse_connection(object(data)?).map(Event::Connection),
        Some("messages.upsert") => parse_upsert(object(data)?),
        Some("messages.update") => array(data)?
            .iter()
            .map(parse_receipt)
            .collect::<Result<_, _>>()
            .map(Event::Receipts),
        Some("contacts.upsert") => array(data)?
            .iter()
            .map(parse_contact)
            .collect::<Result<_, _>>()
            .map(Event::Contacts),
        _ => Err(InvalidBatch),
    }
}

fn parse_connection(d: &Map<String, Value>) -> Result<ConnectionUpdate, InvalidBatch> {
    let connection = opt_str(d, "connection")?;
    if connection
        .as_deref()
        .is_some_and(|c| !matches!(c, "open" | "connecting" | "close"))
    {
        return Err(InvalidBatch);
    }
    let status_code = match d.get("lastDisconnect") {
        None | Some(Value::Null) => None,
        Some(Value::Object(l)) => match l.get("statusCode") {
            None | Some(Value::Null) => None,
            Some(v) => Some(v.as_i64().ok_or(InvalidBatch)?),
        },
        Some(_) => return Err(InvalidBatch),
    };
    Ok(ConnectionUpdate {
        connection,
        qr: opt_str(d, "qr")?,
        status_code,
        phone_number: opt_str(d, "phoneNumber")?,
    })
}

fn parse_upsert(d: &Map<String, Value>) -> Result<Event, InvalidBatch> {
    let notify = match opt_str(d, "type")?.as_deref() {
        Some("notify") => true,
        Some("append") => false,
        _ => return Err(InvalidBatch),
    };
    let messages = array(d.get("messages").ok_or(InvalidBatch)?)?;
    if !messages.iter().all(Value::is_object) {
        return Err(InvalidBatch);
    }
    let media = match d.get("media") {
        None | Some(Value::Null) => HashMap::new(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| Ok((k.clone(), v.as_str().ok_or(InvalidBatch)?.to_owned())))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(InvalidBatch),
    };
    Ok(Event::Upsert {
        notify,
        messages: messages.clone(),
        media,
    })
}

fn parse_receipt(v: &Value) -> Result<Receipt, InvalidBatch> {
    let o = object(v)?;
    let key = object(o.get("key").ok_or(InvalidBatch)?)?;
    let update = object(o.get("update").ok_or(InvalidBatch)?)?;
    let message_id = opt_str(key, "id")?.ok_or(InvalidBatch)?;
    let status = match update.get("status") {
        None | Some(Value::Null) => None,
        Some(s) => Some(s.as_i64().ok_or(InvalidBatch)?),
    };
    Ok(Receipt { message_id, status })
}

fn parse_contact(v: &Value) -> Result<ContactInfo, InvalidBatch> {
    let o = object(v)?;
    let jid = opt_str(o, "id")?
        .filter(|j| !j.is_empty())
        .ok_or(InvalidBatch)?;
    let name = opt_str(o, "name")?;
    let notify = opt_str(o, "notify")?;
    Ok(ContactInfo {
        jid,
        name: name.or(notify),
    })
}

/// The row fields of one `WAMessage`.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapped<'a> {
    pub message_id: &'a str,
    pub remote_jid: &'a str,
    pub from_me: bool,
    pub push_name: Option<&'a str>,
    pub content: Option<&'a str>,
    pub message_type: &'static str,
    pub media_mime_type: Option<&'a str>,
    pub media_size: Option<i32>,
    pub quoted_message_id: Option<&'a str>,
    pub timestamp: DateTime<Utc>,
}

/// Sub-messages in the order that decides the type.
const TYPES: &[(&str, &str)] = &[
    ("imageMessage", "IMAGE"),
    ("videoMessage", "VIDEO"),
    ("audioMessage", "AUDIO"),
    ("documentMessage", "DOCUMENT"),
    ("documentWithCaptionMessage", "DOCUMENT"),
    ("stickerMessage", "STICKER"),
    ("locationMessage", "LOCATION"),
    ("liveLocationMessage", "LOCATION"),
    ("contactMessage", "CONTACT"),
    ("contactsArrayMessage", "CONTACT"),
    ("buttonsMessage", "BUTTONS"),
    ("buttonsResponseMessage", "BUTTONS"),
    ("templateMessage", "BUTTONS"),
    ("listMessage", "LIST"),
    ("listResponseMessage", "LIST"),
];

fn path<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().try_fold(v, |v, k| v.get(k))
}

fn path_str<'a>(v: &'a Value, keys: &[&str]) -> Option<&'a str> {
    path(v, keys).and_then(Value::as_str)
}

/// An integer from a number or a decimal string (protobuf longs).
fn long(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// Map one message; `None` for what the worker skips (no key id or chat, a
/// status broadcast, no valid `messageTimestamp`).
pub fn map_message(v: &Value) -> Option<Mapped<'_>> {
    let message_id = path_str(v, &["key", "id"]).filter(|s| !s.is_empty())?;
    let remote_jid = path_str(v, &["key", "remoteJid"]).filter(|s| !s.is_empty())?;
    if remote_jid == "status@broadcast" {
        return None;
    }
    // Years 1970..=9999, where an ISO string is what `toISOString()` prints.
    let secs = v
        .get("messageTimestamp")
        .and_then(long)
        .filter(|s| (0..=253_402_300_799).contains(s))?;
    let timestamp = DateTime::from_timestamp(secs, 0)?;
    static NO_MESSAGE: Value = Value::Null;
    let m = v.get("message").unwrap_or(&NO_MESSAGE);
    let present = |k: &str| m.get(k).is_some_and(Value::is_object);
    let (kind, message_type) = TYPES
        .iter()
        .find(|(k, _)| present(k))
        .map_or(("", "TEXT"), |(k, t)| (*k, *t));
    let media = match kind {
        "documentWithCaptionMessage" => path(m, &[kind, "message", "documentMessage"]),
        "imageMessage" | "videoMessage" | "audioMessage" | "documentMessage" | "stickerMessage" => {
            m.get(kind)
        }
        _ => None,
    };
    let content = path_str(m, &["conversation"])
        .or_else(|| path_str(m, &["extendedTextMessage", "text"]))
        .or_else(|| path_str(m, &["imageMessage", "caption"]))
        .or_else(|| path_str(m, &["videoMessage", "caption"]));
    Some(Mapped {
        message_id,
        remote_jid,
        from_me: path(v, &["key", "fromMe"]).and_then(Value::as_bool) == Some(true),
        push_name: v.get("pushName").and_then(Value::as_str),
        content,
        message_type,
        media_mime_type: media
            .and_then(|x| x.get("mimetype"))
            .and_then(Value::as_str),
        media_size: media
            .and_then(|x| x.get("fileLength"))
            .and_then(long)
            .and_then(|n| i32::try_from(n).ok()),
        quoted_message_id: path_str(m, &["extendedTextMessage", "contextInfo", "stanzaId"]),
        timestamp,
    })
}

/// `DELIVERED` / `READ` for WhatsApp's ack codes 3 / 4 and 5; others ignored.
pub fn receipt_status(code: i64) -> Option<&'static str> {
    match code {
        3 => Some("DELIVERED"),
        4 | 5 => Some("READ"),
        _ => None,
    }
}

/// The phone number of a user jid (`<digits>@s.whatsapp.net`).
pub fn phone_of(jid: &str) -> Option<&str> {
    jid.strip_suffix("@s.whatsapp.net")
}

pub fn is_group(jid: &str) -> bool {
    jid.ends_with("@g.us")
}
