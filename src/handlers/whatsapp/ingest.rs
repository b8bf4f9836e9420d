//! Applying a validated worker batch inside one transaction: connection
//! state, new messages (+ their contacts), forward-only receipts, contact
//! names. Returns what changed and the events to emit after the commit.

use serde::Serialize;
use serde_json::Value;
use sqlx::PgConnection;

use super::baileys::{self, ConnectionUpdate, ContactInfo, Event, Receipt};
use super::events::WaEvent;
use crate::store::StoreError;
use crate::store::whatsapp::ingest::{
    self, ConnectionState, ContactChange, ContactSeen, NewMessage,
};

/// Counts of what one batch changed (the contract's `applied`).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Applied {
    pub connection: u32,
    pub messages: u32,
    pub statuses: u32,
    pub contacts: u32,
}

/// Accumulates changes and events while a batch is applied.
#[derive(Default)]
pub struct Outcome {
    pub applied: Applied,
    pub events: Vec<WaEvent>,
}

impl Outcome {
    fn contact(&mut self, jid: &str, change: ContactChange) {
        let jid = jid.to_owned();
        match change {
            ContactChange::Created { name } => {
                self.events.push(WaEvent::ContactCreated { jid, name });
                self.applied.contacts += 1;
            }
            ContactChange::Renamed { name } => {
                self.events.push(WaEvent::ContactUpdated { jid, name });
                self.applied.contacts += 1;
            }
            ContactChange::Unchanged => {}
        }
    }
}

pub async fn apply(
    conn: &mut PgConnection,
    session_id: &str,
    events: &[Event],
) -> Result<Outcome, StoreError> {
    let mut out = Outcome::default();
    for event in events {
        match event {
            Event::Connection(c) => connection(conn, session_id, c, &mut out).await?,
            Event::Upsert {
                notify,
                messages,
                media,
            } => {
                for m in messages {
                    let url = baileys::map_message(m)
                        .and_then(|x| media.get(x.message_id))
                        .map(String::as_str);
                    upsert(conn, session_id, m, *notify, url, &mut out).await?;
                }
            }
            Event::Receipts(r) => receipts(conn, session_id, r, &mut out).await?,
            Event::Contacts(c) => contacts(conn, session_id, c, &mut out).await?,
        }
    }
    Ok(out)
}

/// The status (and emitted word) a connection update leads to, if any.
pub fn next_status(c: &ConnectionUpdate) -> Option<(&'static str, &'static str)> {
    if c.qr.is_some() {
        return Some(("QR_REQUIRED", "qr_required"));
    }
    match (c.connection.as_deref(), c.status_code) {
        (Some("open"), _) => Some(("CONNECTED", "connected")),
        (Some("connecting"), _) => Some(("CONNECTING", "connecting")),
        (Some("close"), Some(401)) => Some(("DISCONNECTED", "disconnected")),
        (Some("close"), _) => Some(("CONNECTING", "connecting")),
        _ => None,
    }
}

async fn connection(
    conn: &mut PgConnection,
    session_id: &str,
    c: &ConnectionUpdate,
    out: &mut Outcome,
) -> Result<(), StoreError> {
    let (current, stored_qr) = ingest::lock_connection(conn, session_id).await?;
    let Some((status, word)) = next_status(c) else {
        return ingest::touch_sync(conn, session_id).await;
    };
    let new_qr = c.qr.as_deref().filter(|q| stored_qr.as_deref() != Some(*q));
    let changed = status != current;
    if !changed && new_qr.is_none() {
        return ingest::touch_sync(conn, session_id).await;
    }
    let state = ConnectionState {
        status,
        qr: c.qr.as_deref(),
        phone_number: c.phone_number.as_deref().filter(|_| status == "CONNECTED"),
        is_active: (status == "DISCONNECTED").then_some(false),
        connected_now: changed && status == "CONNECTED",
    };
    ingest::set_connection(conn, session_id, &state).await?;
    out.applied.connection += 1;
    if let Some(qr) = new_qr {
        out.events.push(WaEvent::Qr(qr.to_owned()));
    }
    if changed {
        out.events.push(WaEvent::Connection(word));
    }
    Ok(())
}

async fn upsert(
    conn: &mut PgConnection,
    session_id: &str,
    raw: &Value,
    notify: bool,
    media_url: Option<&str>,
    out: &mut Outcome,
) -> Result<(), StoreError> {
    let Some(m) = baileys::map_message(raw) else {
        return Ok(());
    };
    let row = NewMessage {
        message_id: m.message_id,
        remote_jid: m.remote_jid,
        from_me: m.from_me,
        content: m.content,
        message_type: m.message_type,
        status: if m.from_me { "SENT" } else { "DELIVERED" },
        media_url,
        media_mime_type: m.media_mime_type,
        media_size: m.media_size,
        quoted_message_id: m.quoted_message_id,
        timestamp: m.timestamp,
        metadata: Some(raw),
        sender_id: None,
    };
    let stored = ingest::upsert_message(conn, session_id, &row).await?;
    if !stored.created {
        return Ok(());
    }
    out.applied.messages += 1;
    let seen = ContactSeen {
        jid: m.remote_jid,
        name: m.push_name.filter(|_| !m.from_me),
        phone_number: baileys::phone_of(m.remote_jid),
        is_group: baileys::is_group(m.remote_jid),
        last_message_at: Some(m.timestamp),
        unread_increment: i32::from(!m.from_me && notify),
    };
    let change = ingest::contact_for_message(conn, session_id, &seen).await?;
    out.contact(m.remote_jid, change);
    out.events.push(WaEvent::MessageReceived(stored.row));
    Ok(())
}

async fn receipts(
    conn: &mut PgConnection,
    session_id: &str,
    receipts: &[Receipt],
    out: &mut Outcome,
) -> Result<(), StoreError> {
    for r in receipts {
        let Some(status) = r.status.and_then(baileys::receipt_status) else {
            continue;
        };
        if let Some(change) =
            ingest::advance_status(conn, session_id, &r.message_id, status).await?
        {
            out.applied.statuses += 1;
            out.events.push(WaEvent::MessageStatus(change));
        }
    }
    Ok(())
}

async fn contacts(
    conn: &mut PgConnection,
    session_id: &str,
    contacts: &[ContactInfo],
    out: &mut Outcome,
) -> Result<(), StoreError> {
    for c in contacts {
        let seen = ContactSeen {
            jid: &c.jid,
            name: c.name.as_deref(),
            phone_number: baileys::phone_of(&c.jid),
            is_group: baileys::is_group(&c.jid),
            last_message_at: None,
            unread_increment: 0,
        };
        let change = ingest::contact_named(conn, session_id, &seen).await?;
        out.contact(&c.jid, change);
    }
    Ok(())
}
