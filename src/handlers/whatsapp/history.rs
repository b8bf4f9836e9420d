//! What the admin UI reads: contacts (and mark-read), message history in
//! the legacy `limit` form plus a cursor for older pages, and analytics.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::{Duration, DurationRound, Utc};
use serde::Serialize;

use super::error::WaError;
use super::events::{WaEvent, emit};
use super::params::{Admin, Body, Query};
use super::sessions::visible;
use crate::handlers::AppState;
use crate::handlers::extract::Effects;
use crate::handlers::paging::{BadPaging, Limits, MessagePage, Paging};
use crate::store::js_iso;
use crate::store::whatsapp::history::{self, Contact, Counts, Message};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/whatsapp/contacts", get(contacts))
        .route("/api/whatsapp/contacts/mark-read", post(mark_read))
        .route("/api/whatsapp/messages", get(messages))
        .route("/api/whatsapp/analytics", get(analytics))
}

#[derive(Serialize)]
struct ContactList {
    contacts: Vec<Contact>,
}

async fn contacts(
    State(state): State<AppState>,
    Admin(user): Admin,
    query: Query,
) -> Result<Json<ContactList>, WaError> {
    let session = visible(&state, &user, query.session_id()?).await?;
    let contacts = history::contacts(&state.pool, &session.session_id).await?;
    Ok(Json(ContactList { contacts }))
}

#[derive(Serialize)]
struct Success {
    success: bool,
}

async fn mark_read(
    State(state): State<AppState>,
    Admin(user): Admin,
    effects: Effects,
    body: Result<Body, WaError>,
) -> Result<Json<Success>, WaError> {
    let body = body?;
    let session = visible(&state, &user, body.session_id()?).await?;
    let jid = body
        .text("jid")
        .ok_or(WaError::BadRequest("jid is required"))?;
    let id = &session.session_id;
    let changed = effects
        .transact(async |tx| history::mark_read(tx, id, jid).await)
        .await?
        .ok_or(WaError::NotFound("Contact not found"))?;
    if changed {
        let events = [WaEvent::ContactRead {
            jid: jid.to_owned(),
        }];
        emit(&effects, id, &session.tenant_id, &events).await;
    }
    Ok(Json(Success { success: true }))
}

/// The legacy history `limit`: 100, at most 500.
pub const HISTORY_LIMITS: Limits = Limits {
    default: 100,
    max: 500,
};

/// The legacy words for a bad `limit` / `cursor`.
fn bad_paging(bad: BadPaging) -> WaError {
    match bad {
        BadPaging::Limit => WaError::BadRequest("Invalid limit"),
        BadPaging::Cursor => WaError::BadRequest("Invalid cursor"),
    }
}

async fn messages(
    State(state): State<AppState>,
    Admin(user): Admin,
    query: Query,
) -> Result<Json<MessagePage<Message>>, WaError> {
    let session = visible(&state, &user, query.session_id()?).await?;
    let jid = match (query.text("jid"), query.text("contactId")) {
        (Some(jid), _) => Some(jid.to_owned()),
        (None, Some(contact)) => Some(
            history::contact_jid(&state.pool, &session.session_id, contact)
                .await?
                .ok_or(WaError::NotFound("Contact not found"))?,
        ),
        (None, None) => None,
    };
    let paging = Paging::parse(query.get("limit"), query.get("cursor"), HISTORY_LIMITS)
        .map_err(bad_paging)?;
    let mut page = MessagePage::from(
        history::page_messages(
            &state.pool,
            &session.session_id,
            jid.as_deref(),
            paging.cursor.as_ref(),
            paging.limit,
        )
        .await?,
    );
    // The legacy UI shows a page oldest first; the cursor still points older.
    page.messages.reverse();
    Ok(Json(page))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Analytics {
    success: bool,
    total_messages: i64,
    sent_messages: i64,
    received_messages: i64,
    sent_percentage: i64,
    received_percentage: i64,
    active_contacts: i64,
    flowbot_messages: i64,
    flowbot_percentage: i64,
    avg_response_time: Option<f64>,
    time_range: &'static str,
    start_date: String,
    end_date: String,
}

/// The range a `timeRange` names; unknown or missing → 7 days.
pub fn time_range(name: Option<&str>) -> (&'static str, Duration) {
    match name {
        Some("24h") => ("24h", Duration::hours(24)),
        Some("30d") => ("30d", Duration::days(30)),
        Some("90d") => ("90d", Duration::days(90)),
        _ => ("7d", Duration::days(7)),
    }
}

/// `Math.round(part / total * 100)`, 0 when total is 0.
pub fn percent(part: i64, total: i64) -> i64 {
    if total == 0 {
        return 0;
    }
    // JavaScript rounds .5 up; for non-negative values f64::round agrees.
    (part as f64 / total as f64 * 100.0).round() as i64
}

async fn analytics(
    State(state): State<AppState>,
    Admin(user): Admin,
    query: Query,
) -> Result<Json<Analytics>, WaError> {
    let session = visible(&state, &user, query.session_id()?).await?;
    let (name, span) = time_range(query.get("timeRange"));
    let end = Utc::now()
        .duration_trunc(Duration::milliseconds(1))
        .unwrap_or_else(|_| Utc::now());
    let start = end - span;
    let c: Counts = history::counts(&state.pool, &session.session_id, start).await?;
    Ok(Json(Analytics {
        success: true,
        total_messages: c.total,
        sent_messages: c.sent,
        received_messages: c.received,
        sent_percentage: percent(c.sent, c.total),
        received_percentage: percent(c.received, c.total),
        active_contacts: c.active_contacts,
        flowbot_messages: c.flowbot,
        flowbot_percentage: percent(c.flowbot, c.total),
        avg_response_time: None,
        time_range: name,
        start_date: js_iso(&start),
        end_date: js_iso(&end),
    }))
}
