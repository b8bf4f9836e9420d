//! The scripted contract cases shared by the side-by-side parity
//! (`tests/handlers_next_parity.rs`, no proxy) and the parity through cutover
//! (`tests/parity_cutover.rs`): one list, so both suites hold the two sides to
//! the same requests, including the bad ones.

#![allow(dead_code)]

use cutover::identity::Identity;

use super::harness::{user, visitor, visitor_of};

pub enum Payload {
    None,
    Json(&'static str),
    Form(&'static str),
}

pub struct Case {
    pub label: &'static str,
    pub method: &'static str,
    /// `{cursor}` (here and in the payload) is replaced by the side's last
    /// `nextCursor`, `{sched}` / `{conv}` by the last created scheduled message
    /// / conversation id, `{msg}` by the id of the "send third" message.
    pub path: &'static str,
    pub who: Option<Identity>,
    pub payload: Payload,
    pub shadow: bool,
}

pub fn case(
    label: &'static str,
    method: &'static str,
    path: &'static str,
    who: Option<Identity>,
    payload: Payload,
) -> Case {
    Case {
        label,
        method,
        path,
        who,
        payload,
        shadow: false,
    }
}

/// The scripted cases, in order; a table, so kept one case per line.
#[rustfmt::skip]
pub fn cases() -> Vec<Case> {
    use Payload::{Form, Json, None as Empty};
    let u = |id| Some(user(id));
    let v = |id, t| Some(visitor(id, t));
    // A second issuer ("partner", allowed t1) vouching for the same `sub` as
    // the widget's visitor v1, who owns c1: another visitor (issue 14).
    let p = |id, t| Some(visitor_of("partner", id, t));
    let auth = "/api/chat/realtime/auth";
    let msgs = "/api/chat/user-threads/th1/messages";
    let mut all = vec![
        case("config", "GET", "/api/chat/realtime/config", u("u1"), Empty),
        case("config without identity", "GET", "/api/chat/realtime/config", None, Empty),
        case("auth own user channel", "POST", auth, u("u1"), Form("socket_id=123.456&channel_name=private-user-u1")),
        case("auth thread", "POST", auth, u("u1"), Form("socket_id=123.456&channel_name=private-thread-th1")),
        case("auth presence", "POST", auth, u("u1"), Form("socket_id=123.456&channel_name=presence-tenant-t1")),
        case("auth presence no name", "POST", auth, u("u4"), Form("socket_id=1.2&channel_name=presence-tenant-t2")),
        case("auth visitor conversation", "POST", auth, v("v1", "t1"), Form("socket_id=1.2&channel_name=private-chatbot-c1")),
        case("auth sign-in json", "POST", auth, u("u2"), Json(r#"{"socket_id":"1.2"}"#)),
        case("auth sign-in as visitor", "POST", auth, v("u2", "t1"), Json(r#"{"socket_id":"1.2"}"#)),
        case("auth other user", "POST", auth, u("u1"), Form("socket_id=1.2&channel_name=private-user-u2")),
        case("auth other thread", "POST", auth, u("u1"), Form("socket_id=1.2&channel_name=private-thread-th2")),
        case("auth other tenant", "POST", auth, u("u1"), Form("socket_id=1.2&channel_name=presence-tenant-t2")),
        case("auth other conversation", "POST", auth, v("v1", "t1"), Form("socket_id=1.2&channel_name=private-chatbot-c2")),
        case("auth partner visitor conversation", "POST", auth, p("v1", "t1"), Form("socket_id=1.2&channel_name=private-chatbot-c1")),
        case("auth bad socket", "POST", auth, u("u1"), Form("socket_id=x&channel_name=private-user-u1")),
        case("auth bad channel", "POST", auth, u("u1"), Form("socket_id=1.2&channel_name=private%20user")),
        case("auth json array", "POST", auth, u("u1"), Json(r#"["1.2"]"#)),
        case("threads empty", "GET", "/api/chat/user-threads", u("u2"), Empty),
        case("send", "POST", msgs, u("u1"), Json(r#"{"body":"hello","clientMessageId":"k1"}"#)),
        case("send retry", "POST", msgs, u("u1"), Json(r#"{"body":"hello again","clientMessageId":"k1"}"#)),
        case("send unicode", "POST", msgs, u("u2"), Json(r#"{"body":"h\u00e9 \ud83d\ude00 \"q\" \u2028","clientMessageId":"k2"}"#)),
        case("send third", "POST", msgs, u("u1"), Json(r#"{"body":"three","clientMessageId":"k3"}"#)),
        case("send blank", "POST", msgs, u("u1"), Json(r#"{"body":"  ","clientMessageId":"k"}"#)),
        case("send no key", "POST", msgs, u("u1"), Json(r#"{"body":"x"}"#)),
        case("send wrong type", "POST", msgs, u("u1"), Json(r#"{"body":5,"clientMessageId":"k"}"#)),
        case("send not json", "POST", msgs, u("u1"), Json("{nope")),
        case("send not participant", "POST", "/api/chat/user-threads/th2/messages", u("u1"), Json(r#"{"body":"x","clientMessageId":"k"}"#)),
        case("send as visitor", "POST", msgs, v("v1", "t1"), Json(r#"{"body":"x","clientMessageId":"k"}"#)),
        case("page 1", "GET", "/api/chat/user-threads/th1/messages?limit=2", u("u2"), Empty),
        case("page 2", "GET", "/api/chat/user-threads/th1/messages?limit=2&cursor={cursor}", u("u2"), Empty),
        case("page bad limit", "GET", "/api/chat/user-threads/th1/messages?limit=500", u("u2"), Empty),
        case("page bad cursor", "GET", "/api/chat/user-threads/th1/messages?cursor=zzz", u("u2"), Empty),
        case("threads with unread", "GET", "/api/chat/user-threads", u("u2"), Empty),
        case("receipt read", "POST", "/api/chat/user-threads/th1/receipts", u("u2"), Json(r#"{"messageId":"{msg}","type":"read"}"#)),
        case("receipt read again", "POST", "/api/chat/user-threads/th1/receipts", u("u2"), Json(r#"{"messageId":"{msg}","type":"delivered"}"#)),
        case("threads after read", "GET", "/api/chat/user-threads", u("u2"), Empty),
        case("receipt bad type", "POST", "/api/chat/user-threads/th1/receipts", u("u2"), Json(r#"{"messageId":"m","type":"seen"}"#)),
        case("receipt unknown message", "POST", "/api/chat/user-threads/th1/receipts", u("u2"), Json(r#"{"messageId":"m","type":"read"}"#)),
        case("typing", "POST", "/api/chat/user-threads/th1/typing", u("u1"), Json(r#"{"isTyping":true}"#)),
        case("typing missing", "POST", "/api/chat/user-threads/th1/typing", u("u1"), Json("{}")),
        case("schedule", "POST", "/api/chat/user-threads/th1/scheduled", u("u1"), Json(r#"{"body":"later","sendAt":"2030-01-01T10:00:00.1239+02:00"}"#)),
        case("schedule bad time", "POST", "/api/chat/user-threads/th1/scheduled", u("u1"), Json(r#"{"body":"later","sendAt":"soon"}"#)),
        case("scheduled list", "GET", "/api/chat/user-threads/th1/scheduled", u("u1"), Empty),
        case("cancel by other", "DELETE", "/api/chat/user-threads/th1/scheduled/{sched}", u("u2"), Empty),
        case("cancel", "DELETE", "/api/chat/user-threads/th1/scheduled/{sched}", u("u1"), Empty),
        case("cancel again", "DELETE", "/api/chat/user-threads/th1/scheduled/{sched}", u("u1"), Empty),
        case("widget config", "GET", "/api/tenant-chatbot/config", v("v1", "t1"), Empty),
        case("widget config as user", "GET", "/api/tenant-chatbot/config", u("u1"), Empty),
        case("start conversation", "POST", "/api/tenant-chatbot/conversations", v("v9", "t1"), Json(r#"{"visitorName":"Nine"}"#)),
        case("start disabled", "POST", "/api/tenant-chatbot/conversations", v("v1", "t2"), Json("{}")),
        case("visitor send", "POST", "/api/tenant-chatbot/conversations/{conv}/messages", v("v9", "t1"), Json(r#"{"body":"hi bot","clientMessageId":"c1"}"#)),
        case("visitor send retry", "POST", "/api/tenant-chatbot/conversations/{conv}/messages", v("v9", "t1"), Json(r#"{"body":"hi bot","clientMessageId":"c1"}"#)),
        case("visitor page", "GET", "/api/tenant-chatbot/conversations/{conv}/messages", v("v9", "t1"), Empty),
        case("visitor other conversation", "GET", "/api/tenant-chatbot/conversations/c1/messages", v("v9", "t1"), Empty),
        case("partner visitor widget conversation", "GET", "/api/tenant-chatbot/conversations/c1/messages", p("v1", "t1"), Empty),
        case("partner visitor send to widget conversation", "POST", "/api/tenant-chatbot/conversations/c1/messages", p("v1", "t1"), Json(r#"{"body":"x","clientMessageId":"p1"}"#)),
        case("cache clear non-admin", "DELETE", "/api/chat/realtime/config/cache", u("u1"), Empty),
        case("cache clear admin", "DELETE", "/api/chat/realtime/config/cache", u("u3"), Empty),
    ];
    let mut shadow = case("shadow send", "POST", msgs, u("u1"), Json(r#"{"body":"dry","clientMessageId":"dry"}"#));
    shadow.shadow = true;
    all.push(shadow);
    all.push(case("after shadow", "GET", "/api/chat/user-threads/th1/messages?limit=1", u("u1"), Empty));
    all
}
