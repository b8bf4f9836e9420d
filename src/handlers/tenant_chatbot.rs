//! Tenant chatbot domain under `/api/tenant-chatbot`: a widget visitor
//! (chatbot-bearer identity: visitor id + tenant + issuer) reads the widget
//! config, starts a conversation, sends and pages its messages. Conversations
//! are owned by (tenant, issuer, visitor id): another issuer's visitor with the
//! same id sees 404.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

use super::extract::{Caller, Effects, JsonBody, js_len};
use super::paging::{MessagePage, Paging};
use super::send::{Announce, MessageEnvelope, SendRequest, send_once};
use super::{AppState, HandlerError};
use crate::store::chatbot::{self, ChatbotMessage, Conversation, WidgetConfig};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/tenant-chatbot/config", get(config))
        .route("/api/tenant-chatbot/conversations", post(start))
        .route(
            "/api/tenant-chatbot/conversations/{conversation_id}/messages",
            get(page).post(send),
        )
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartRequest {
    pub visitor_name: Option<String>,
}

#[derive(Serialize)]
pub struct ConversationEnvelope {
    pub conversation: Conversation,
}

/// The contract's `ChatbotMessageEventPayload` (`message.created`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatbotMessageEventPayload<'a> {
    pub tenant_id: &'a str,
    pub conversation_id: &'a str,
    pub message: &'a ChatbotMessage,
}

pub fn chatbot_channel(conversation_id: &str) -> String {
    format!("private-chatbot-{conversation_id}")
}

impl Announce<ChatbotMessage> for Conversation {
    fn channel(&self) -> String {
        chatbot_channel(&self.id)
    }

    fn created<'a>(&'a self, message: &'a ChatbotMessage) -> impl Serialize + Sync + 'a {
        ChatbotMessageEventPayload {
            tenant_id: &self.tenant_id,
            conversation_id: &self.id,
            message,
        }
    }
}

async fn own_conversation(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<Conversation, HandlerError> {
    let visitor = caller.chatbot_visitor()?;
    chatbot::owned_conversation(&state.pool, id, visitor)
        .await?
        .ok_or(HandlerError::NotFound("conversation_not_found"))
}

async fn config(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<WidgetConfig>, HandlerError> {
    let visitor = caller.chatbot_visitor()?;
    chatbot::widget_config(&state.pool, visitor.tenant_id)
        .await?
        .map(Json)
        .ok_or(HandlerError::NotFound("tenant_not_found"))
}

async fn start(
    State(state): State<AppState>,
    caller: Caller,
    effects: Effects,
    body: Result<JsonBody<StartRequest>, HandlerError>,
) -> Result<(StatusCode, Json<ConversationEnvelope>), HandlerError> {
    let visitor = caller.chatbot_visitor()?;
    let JsonBody(req) = body?;
    if req.visitor_name.as_deref().is_some_and(|n| js_len(n) > 100) {
        return Err(HandlerError::Validation("visitor_name_too_long"));
    }
    let enabled = chatbot::widget_config(&state.pool, visitor.tenant_id)
        .await?
        .is_some_and(|c| c.enabled);
    if !enabled {
        return Err(HandlerError::Forbidden("chatbot_disabled"));
    }
    let mut tx = effects.begin().await?;
    let conversation =
        chatbot::start_conversation(&mut tx, visitor, req.visitor_name.as_deref()).await?;
    effects.finish(tx).await?;
    Ok((
        StatusCode::CREATED,
        Json(ConversationEnvelope { conversation }),
    ))
}

async fn page(
    State(state): State<AppState>,
    caller: Caller,
    Path(conversation_id): Path<String>,
    paging: Result<Paging, HandlerError>,
) -> Result<Json<MessagePage<ChatbotMessage>>, HandlerError> {
    let conversation = own_conversation(&state, &caller, &conversation_id).await?;
    let paging = paging?;
    let page = chatbot::page_messages(
        &state.pool,
        &conversation.id,
        paging.cursor.as_ref(),
        paging.limit,
    )
    .await?;
    Ok(Json(page.into()))
}

async fn send(
    State(state): State<AppState>,
    caller: Caller,
    effects: Effects,
    Path(conversation_id): Path<String>,
    body: Result<JsonBody<SendRequest>, HandlerError>,
) -> Result<(StatusCode, Json<MessageEnvelope<ChatbotMessage>>), HandlerError> {
    let conversation = own_conversation(&state, &caller, &conversation_id).await?;
    let JsonBody(req) = body?;
    let (text, key) = req.checked()?;
    send_once(&effects, &conversation, async |tx| {
        chatbot::send_visitor_message(tx, &conversation.id, text, key).await
    })
    .await
}
