//! The WhatsApp events on Soketi: payloads built as the legacy app builds
//! them (`{...data, sessionId, tenantId, timestamp: Date.now()}`: a
//! `timestamp` already in the data keeps its place and takes the emit-time
//! value) and sent in one trigger to the legacy public channel and to the
//! member-only private one.

use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::handlers::extract::Effects;
use crate::store::js_iso;
use crate::store::whatsapp::ingest::{StatusChange, StoredMessage};

/// The legacy public channel (kept for the legacy UI).
pub fn public_channel(session_id: &str) -> String {
    format!("whatsapp.{session_id}")
}

/// The private channel `/api/chat/realtime/auth` grants to tenant members.
pub fn private_channel(session_id: &str) -> String {
    format!("private-whatsapp.{session_id}")
}

/// One event to emit after the state change is committed.
#[derive(Debug, Clone)]
pub enum WaEvent {
    MessageReceived(StoredMessage),
    MessageSent {
        message: StoredMessage,
        client_message_id: String,
    },
    MessageStatus(StatusChange),
    Qr(String),
    Connection(&'static str),
    ContactCreated {
        jid: String,
        name: Option<String>,
    },
    ContactUpdated {
        jid: String,
        name: Option<String>,
    },
    ContactRead {
        jid: String,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MessageData<'a> {
    id: &'a str,
    message_id: &'a str,
    remote_jid: &'a str,
    from_me: bool,
    content: Option<&'a str>,
    message_type: &'a str,
    timestamp: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_message_id: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct StatusData<'a> {
    message_id: &'a str,
    status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    delivered_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    read_at: Option<String>,
}

#[derive(Serialize)]
struct QrData<'a> {
    qr: &'a str,
}

#[derive(Serialize)]
struct ConnectionData {
    status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ContactData<'a> {
    jid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    name: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unread_count: Option<i32>,
}

/// `data` followed by the three keys the legacy emitter appends.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Payload<'a, D: Serialize> {
    #[serde(flatten)]
    data: D,
    session_id: &'a str,
    tenant_id: &'a str,
    /// `None` when the data already carried `timestamp` (overwritten in place).
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<i64>,
}

fn payload<'a, D: Serialize>(
    data: D,
    session_id: &'a str,
    tenant_id: &'a str,
    timestamp: Option<i64>,
) -> Payload<'a, D> {
    Payload {
        data,
        session_id,
        tenant_id,
        timestamp,
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn message_data<'a>(m: &'a StoredMessage, now: i64, client: Option<&'a str>) -> MessageData<'a> {
    MessageData {
        id: &m.id,
        message_id: &m.message_id,
        remote_jid: &m.remote_jid,
        from_me: m.from_me,
        content: m.content.as_deref(),
        message_type: &m.message_type,
        timestamp: now,
        client_message_id: client,
    }
}

/// Emit `events` in order on both channels of the session.
pub async fn emit(effects: &Effects, session_id: &str, tenant_id: &str, events: &[WaEvent]) {
    let public = public_channel(session_id);
    let private = private_channel(session_id);
    let channels = [public.as_str(), private.as_str()];
    for event in events {
        let now = now_ms();
        let contact = |jid, name, unread_count| ContactData {
            jid,
            name,
            unread_count,
        };
        match event {
            WaEvent::MessageReceived(m) => {
                let p = payload(message_data(m, now, None), session_id, tenant_id, None);
                effects
                    .broadcast_to(&channels, "message.received", &p)
                    .await
            }
            WaEvent::MessageSent {
                message,
                client_message_id,
            } => {
                let p = payload(
                    message_data(message, now, Some(client_message_id)),
                    session_id,
                    tenant_id,
                    None,
                );
                effects.broadcast_to(&channels, "message.sent", &p).await
            }
            WaEvent::MessageStatus(s) => {
                let at = Some(js_iso(&s.at));
                let read = s.status == "READ";
                let data = StatusData {
                    message_id: &s.message_id,
                    status: &s.status,
                    delivered_at: if read { None } else { at.clone() },
                    read_at: if read { at } else { None },
                };
                let p = payload(data, session_id, tenant_id, Some(now));
                effects.broadcast_to(&channels, "message.status", &p).await
            }
            WaEvent::Qr(qr) => {
                let p = payload(QrData { qr }, session_id, tenant_id, Some(now));
                effects.broadcast_to(&channels, "qr.code", &p).await
            }
            WaEvent::Connection(status) => {
                let p = payload(ConnectionData { status }, session_id, tenant_id, Some(now));
                effects
                    .broadcast_to(&channels, "connection.update", &p)
                    .await
            }
            WaEvent::ContactCreated { jid, name } | WaEvent::ContactUpdated { jid, name } => {
                let name = Some(name.as_deref());
                let p = payload(contact(jid, name, None), session_id, tenant_id, Some(now));
                let kind = match event {
                    WaEvent::ContactCreated { .. } => "contact.created",
                    _ => "contact.updated",
                };
                effects.broadcast_to(&channels, kind, &p).await
            }
            WaEvent::ContactRead { jid } => {
                let p = payload(
                    contact(jid, None, Some(0)),
                    session_id,
                    tenant_id,
                    Some(now),
                );
                effects.broadcast_to(&channels, "contact.updated", &p).await
            }
        }
    }
}
