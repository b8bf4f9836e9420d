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

/// The auth rule table's expected statuses (each legacy and each stricter
/// rule, see contracts/legacy-api.yaml), asserted on both sides by both
/// parity suites; the bodies are the legacy `{"error": ...}` (equal on both
/// sides, valid against the contract's `RealtimeAuthError`).
pub const AUTH_EXPECTED: &[(&str, u16)] = &[
    ("auth online", 200),
    ("auth online json", 200),
    ("auth online no email", 200),
    ("auth notifications", 200),
    ("auth thread", 200),
    ("auth thread json", 200),
    ("auth own scheduled", 200),
    ("auth other scheduled", 403),
    ("auth other thread", 403),
    ("auth unknown thread key", 403),
    ("auth other tenant online", 403),
    ("auth other tenant notifications", 403),
    ("auth old thread name", 403),
    ("auth old user channel", 403),
    ("auth user without tenant", 401),
    ("auth no identity", 401),
    ("auth visitor conversation", 200),
    ("auth visitor conversation json", 200),
    ("auth visitor online", 403),
    ("auth visitor thread", 403),
    ("auth member on chatbot channel", 403),
    ("auth sign-in json", 200),
    ("auth sign-in as visitor", 403),
    ("auth other conversation", 403),
    ("auth partner visitor conversation", 403),
    ("auth bad socket", 400),
    ("auth missing socket", 400),
    ("auth bad channel", 403),
    ("auth json array", 400),
    ("auth json broken", 400),
    ("config", 200),
    ("config chat token", 200),
];

/// The scripted cases, in order; a table, so kept one case per line. Through
/// cutover the shipped `realtime-auth` cap (`burst = 10` per client) applies:
/// at most ten auth cases per identity.
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
        case("config chat token", "GET", "/api/chat/realtime/config", v("v1", "t1"), Empty),
        case("config without identity", "GET", "/api/chat/realtime/config", None, Empty),
        // The auth rule table (legacy rules, stricter rules, each status and body), form and JSON.
        case("auth online", "POST", auth, u("u1"), Form("socket_id=123.456&channel_name=presence-tenant.t1.online")),
        case("auth online json", "POST", auth, u("u1"), Json(r#"{"socket_id":"123.456","channel_name":"presence-tenant.t1.online"}"#)),
        case("auth online no email", "POST", auth, u("u4"), Form("socket_id=1.2&channel_name=presence-tenant.t2.online")),
        case("auth notifications", "POST", auth, u("u1"), Form("socket_id=1.2&channel_name=private-tenant.t1.notifications")),
        case("auth thread", "POST", auth, u("u1"), Form("socket_id=123.456&channel_name=presence-tenant.t1.thread.u1--u2")),
        case("auth thread json", "POST", auth, u("u2"), Json(r#"{"socket_id":"1.2","channel_name":"presence-tenant.t1.thread.u1--u2"}"#)),
        case("auth own scheduled", "POST", auth, u("u1"), Form("socket_id=1.2&channel_name=private-scheduled.t1.u1")),
        case("auth other scheduled", "POST", auth, u("u1"), Form("socket_id=1.2&channel_name=private-scheduled.t1.u2")),
        case("auth other thread", "POST", auth, u("u1"), Form("socket_id=1.2&channel_name=presence-tenant.t1.thread.u2--u3")),
        case("auth unknown thread key", "POST", auth, u("u1"), Json(r#"{"socket_id":"1.2","channel_name":"presence-tenant.t1.thread.u1--u9"}"#)),
        case("auth other tenant online", "POST", auth, u("u1"), Form("socket_id=1.2&channel_name=presence-tenant.t2.online")),
        case("auth other tenant notifications", "POST", auth, u("u4"), Form("socket_id=1.2&channel_name=private-tenant.t1.notifications")),
        case("auth old thread name", "POST", auth, u("u3"), Form("socket_id=1.2&channel_name=private-thread-th2")),
        case("auth old user channel", "POST", auth, u("u3"), Form("socket_id=1.2&channel_name=private-user-u3")),
        case("auth user without tenant", "POST", auth, u("u9"), Form("socket_id=1.2&channel_name=presence-tenant.t1.online")),
        case("auth no identity", "POST", auth, None, Json(r#"{"socket_id":"1.2","channel_name":"presence-tenant.t1.online"}"#)),
        case("auth visitor conversation", "POST", auth, v("v1", "t1"), Form("socket_id=1.2&channel_name=private-chatbot-c1")),
        case("auth visitor conversation json", "POST", auth, v("v1", "t1"), Json(r#"{"socket_id":"1.2","channel_name":"private-chatbot-c1"}"#)),
        case("auth visitor online", "POST", auth, v("v1", "t1"), Form("socket_id=1.2&channel_name=presence-tenant.t1.online")),
        case("auth visitor thread", "POST", auth, v("v1", "t1"), Json(r#"{"socket_id":"1.2","channel_name":"presence-tenant.t1.thread.u1--u2"}"#)),
        case("auth member on chatbot channel", "POST", auth, u("u3"), Form("socket_id=1.2&channel_name=private-chatbot-c1")),
        case("auth sign-in json", "POST", auth, u("u2"), Json(r#"{"socket_id":"1.2"}"#)),
        case("auth sign-in as visitor", "POST", auth, v("u2", "t1"), Json(r#"{"socket_id":"1.2"}"#)),
        case("auth other conversation", "POST", auth, v("v1", "t1"), Form("socket_id=1.2&channel_name=private-chatbot-c2")),
        case("auth partner visitor conversation", "POST", auth, p("v1", "t1"), Form("socket_id=1.2&channel_name=private-chatbot-c1")),
        case("auth bad socket", "POST", auth, u("u2"), Form("socket_id=x&channel_name=presence-tenant.t1.online")),
        case("auth missing socket", "POST", auth, u("u2"), Json(r#"{"channel_name":"presence-tenant.t1.online"}"#)),
        case("auth bad channel", "POST", auth, u("u3"), Form("socket_id=1.2&channel_name=presence-tenant.t1.online%20x")),
        case("auth json array", "POST", auth, u("u2"), Json(r#"["1.2"]"#)),
        case("auth json broken", "POST", auth, u("u2"), Json("{nope")),
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
