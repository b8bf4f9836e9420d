//! The scripted WhatsApp session run against one side: what the admin UI
//! does (create, connect, read, send, mark read, media, disconnect, delete)
//! interleaved with what the worker does (a recorded-style Baileys session,
//! then the outbox), the bad requests, and tenant isolation. Both sides run
//! exactly this; the test compares what they answered and broadcast.

use serde_json::json;

use crate::wa_stack::{Rec, WaStack, Who};

pub const SESSION: &str = "wa-main";
const CHAT: &str = "4915111111@s.whatsapp.net";

/// Rows whose timestamps are near now, so analytics has something to count
/// (the worker's recorded session is dated 2025).
async fn seed_recent(stack: &WaStack) {
    sqlx::raw_sql(
        r#"
        INSERT INTO whatsapp_contacts ("id", "sessionId", "jid", "name", "lastMessageAt", "unreadCount") VALUES
          ('seed-c1', 'wa-main', '4915111111@s.whatsapp.net', 'Seed', now() - interval '1 hour', 1);
        INSERT INTO whatsapp_messages ("id", "sessionId", "messageId", "remoteJid", "fromMe", "content", "status", "timestamp", "senderId") VALUES
          ('seed-1', 'wa-main', 'S1', '4915111111@s.whatsapp.net', false, 'a', 'DELIVERED', now() - interval '1 hour', NULL),
          ('seed-2', 'wa-main', 'S2', '4915111111@s.whatsapp.net', true, 'b', 'SENT', now() - interval '2 hours', 'whatsapp-system'),
          ('seed-3', 'wa-main', 'S3', '4915111111@s.whatsapp.net', true, 'c', 'SENT', now() - interval '3 days', 'u1');
        "#,
    )
    .execute(&stack.stack.db.pool)
    .await
    .expect("seed recent rows");
}

/// A stored media message's row id of `kind` (IMAGE, DOCUMENT).
async fn media_message(stack: &WaStack, kind: &str) -> String {
    sqlx::query_scalar(
        r#"SELECT "id" FROM whatsapp_messages
           WHERE "sessionId" = 'wa-main' AND "messageType"::text = $1 AND "mediaUrl" IS NOT NULL
           ORDER BY "timestamp", "messageId" LIMIT 1"#,
    )
    .bind(kind)
    .fetch_one(&stack.stack.db.pool)
    .await
    .expect("the worker stored a media message of this kind")
}

pub async fn lifecycle(rec: &mut Rec<'_>) {
    let u1 = Who::User("u1");
    let sid = json!({"sessionId": SESSION});
    rec.call("list empty", "GET", "/api/whatsapp/sessions", u1, None)
        .await;
    let create = json!({"name": "Support", "sessionId": SESSION});
    rec.call(
        "create",
        "POST",
        "/api/whatsapp/sessions",
        u1,
        Some(create.clone()),
    )
    .await;
    rec.call(
        "create retry",
        "POST",
        "/api/whatsapp/sessions",
        u1,
        Some(create),
    )
    .await;
    let taken = json!({"name": "Other", "sessionId": SESSION});
    rec.call(
        "create taken",
        "POST",
        "/api/whatsapp/sessions",
        Who::User("u4"),
        Some(taken),
    )
    .await;
    rec.call(
        "create nameless",
        "POST",
        "/api/whatsapp/sessions",
        u1,
        Some(json!({"sessionId": "x"})),
    )
    .await;
    rec.call(
        "create bad id",
        "POST",
        "/api/whatsapp/sessions",
        u1,
        Some(json!({"name": "n", "sessionId": "a/b"})),
    )
    .await;
    rec.call(
        "connect",
        "POST",
        "/api/whatsapp/connect",
        u1,
        Some(sid.clone()),
    )
    .await;
    rec.call(
        "status connecting",
        "GET",
        "/api/whatsapp/status?sessionId=wa-main",
        u1,
        None,
    )
    .await;
}

pub async fn worker_session(rec: &mut Rec<'_>, stack: &WaStack) {
    let summary = rec
        .worker(
            "replay",
            &[
                "--session",
                SESSION,
                "--mode",
                "replay",
                "--messages",
                "300",
                "--batch-size",
                "25",
            ],
        )
        .await;
    assert_eq!(
        summary["failures"],
        json!([]),
        "{} worker failures",
        rec.side
    );
    assert_eq!(
        summary["replayedDuplicate"], true,
        "{}: a replayed batch is a duplicate",
        rec.side
    );
    seed_recent(stack).await;
}

pub async fn reads(rec: &mut Rec<'_>) {
    let u1 = Who::User("u1");
    rec.call(
        "status connected",
        "GET",
        "/api/whatsapp/status?sessionId=wa-main",
        u1,
        None,
    )
    .await;
    rec.call("list", "GET", "/api/whatsapp/sessions", u1, None)
        .await;
    let (_, contacts) = rec
        .call(
            "contacts",
            "GET",
            "/api/whatsapp/contacts?sessionId=wa-main",
            u1,
            None,
        )
        .await;
    let (_, page1) = rec
        .call(
            "history",
            "GET",
            "/api/whatsapp/messages?sessionId=wa-main&limit=20",
            u1,
            None,
        )
        .await;
    let cursor = page1["nextCursor"]
        .as_str()
        .expect("a long chat has an older page")
        .to_owned();
    let older = format!("/api/whatsapp/messages?sessionId=wa-main&limit=20&cursor={cursor}");
    rec.call("history older", "GET", &older, u1, None).await;
    let group = contacts["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["isGroup"] == true)
        .expect("a group chat");
    let by_jid = format!(
        "/api/whatsapp/messages?sessionId=wa-main&jid={}&limit=5",
        group["jid"].as_str().unwrap()
    );
    rec.call("history by jid", "GET", &by_jid, u1, None).await;
    let by_contact = format!(
        "/api/whatsapp/messages?sessionId=wa-main&contactId={}&limit=5",
        group["id"].as_str().unwrap()
    );
    rec.call("history by contact", "GET", &by_contact, u1, None)
        .await;
    rec.call(
        "history default",
        "GET",
        "/api/whatsapp/messages?sessionId=wa-main",
        u1,
        None,
    )
    .await;
    rec.call(
        "history bad limit",
        "GET",
        "/api/whatsapp/messages?sessionId=wa-main&limit=0",
        u1,
        None,
    )
    .await;
    rec.call(
        "history bad cursor",
        "GET",
        "/api/whatsapp/messages?sessionId=wa-main&cursor=nope",
        u1,
        None,
    )
    .await;
    rec.call(
        "analytics 24h",
        "GET",
        "/api/whatsapp/analytics?sessionId=wa-main&timeRange=24h",
        u1,
        None,
    )
    .await;
    rec.call(
        "analytics default",
        "GET",
        "/api/whatsapp/analytics?sessionId=wa-main",
        u1,
        None,
    )
    .await;
}

pub async fn sends(rec: &mut Rec<'_>) {
    let u1 = Who::User("u1");
    let send = |n: u32| json!({"sessionId": SESSION, "toJid": CHAT, "content": format!("reply {n}"), "clientMessageId": format!("ui-{n}")});
    for n in 1..=3 {
        rec.call(
            &format!("send {n}"),
            "POST",
            "/api/whatsapp/chat-messages",
            u1,
            Some(send(n)),
        )
        .await;
    }
    rec.call(
        "send retry",
        "POST",
        "/api/whatsapp/chat-messages",
        u1,
        Some(send(1)),
    )
    .await;
    rec.call(
        "send bad jid",
        "POST",
        "/api/whatsapp/chat-messages",
        u1,
        Some(json!({"sessionId": SESSION, "toJid": "x", "content": "c"})),
    )
    .await;
    rec.call(
        "send empty",
        "POST",
        "/api/whatsapp/chat-messages",
        u1,
        Some(json!({"sessionId": SESSION, "toJid": CHAT, "content": " "})),
    )
    .await;
    let summary = rec
        .worker(
            "outbox",
            &[
                "--session",
                SESSION,
                "--mode",
                "outbox",
                "--duration-ms",
                "2500",
            ],
        )
        .await;
    assert_eq!(
        summary["outboxSent"], 3,
        "{}: the worker sent each queued message once",
        rec.side
    );
    rec.call(
        "history after send",
        "GET",
        "/api/whatsapp/messages?sessionId=wa-main&jid=4915111111@s.whatsapp.net&limit=5",
        u1,
        None,
    )
    .await;
    rec.call(
        "send retry after sent",
        "POST",
        "/api/whatsapp/chat-messages",
        u1,
        Some(send(1)),
    )
    .await;
    let read = json!({"sessionId": SESSION, "jid": CHAT});
    rec.call(
        "mark read",
        "POST",
        "/api/whatsapp/contacts/mark-read",
        u1,
        Some(read.clone()),
    )
    .await;
    rec.call(
        "mark read again",
        "POST",
        "/api/whatsapp/contacts/mark-read",
        u1,
        Some(read),
    )
    .await;
    rec.call(
        "mark read unknown",
        "POST",
        "/api/whatsapp/contacts/mark-read",
        u1,
        Some(json!({"sessionId": SESSION, "jid": "1@s.whatsapp.net"})),
    )
    .await;
}

pub async fn media(rec: &mut Rec<'_>, stack: &WaStack) {
    let u1 = Who::User("u1");
    let image = media_message(stack, "IMAGE").await;
    let doc = media_message(stack, "DOCUMENT").await;
    rec.media("image", &image, u1, &[]).await;
    rec.media("image range", &image, u1, &[("range", "bytes=0-99")])
        .await;
    rec.media("image suffix", &image, u1, &[("range", "bytes=-50")])
        .await;
    rec.media("image open range", &image, u1, &[("range", "bytes=100-")])
        .await;
    rec.media(
        "image multi range",
        &image,
        u1,
        &[("range", "bytes=0-1,5-9")],
    )
    .await;
    rec.media(
        "image unsatisfiable",
        &image,
        u1,
        &[("range", "bytes=99999999-")],
    )
    .await;
    let etag = format!("\"{image}-{}\"", file_size(stack, &image).await);
    rec.media(
        "image not modified",
        &image,
        u1,
        &[("if-none-match", &etag)],
    )
    .await;
    rec.media("document", &doc, u1, &[]).await;
    rec.media("media other tenant", &image, Who::User("u4"), &[])
        .await;
    rec.media("media missing", "no-such-message", u1, &[]).await;
    rec.media("media without media", "seed-1", u1, &[]).await;
    let outside = seed_traversal(stack).await;
    for id in ["trav-1", "trav-2", "trav-3"] {
        rec.media(&format!("media traversal {id}"), id, u1, &[])
            .await;
    }
    rec.media(
        "media traversal in the id",
        "..%2F..%2Fetc%2Fpasswd",
        u1,
        &[],
    )
    .await;
    let _ = std::fs::remove_file(outside);
}

/// Media rows whose object names try to leave the root, with a real file
/// where `../` would lead: neither side may serve it.
async fn seed_traversal(stack: &WaStack) -> std::path::PathBuf {
    let root = stack.media_root();
    let name = format!(
        "outside-{}.txt",
        root.file_name().unwrap().to_string_lossy()
    );
    let outside = root.parent().unwrap().join(&name);
    std::fs::write(&outside, "secret outside the media root").unwrap();
    sqlx::query(
        r#"INSERT INTO whatsapp_messages ("id", "sessionId", "messageId", "remoteJid", "messageType",
             "status", "mediaUrl", "mediaMimeType", "timestamp")
           VALUES ('trav-1', 'wa-main', 'T1', '4915111111@s.whatsapp.net', 'DOCUMENT', 'DELIVERED', $1, 'text/plain', now()),
                  ('trav-2', 'wa-main', 'T2', '4915111111@s.whatsapp.net', 'DOCUMENT', 'DELIVERED', '/etc/passwd', 'text/plain', now()),
                  ('trav-3', 'wa-main', 'T3', '4915111111@s.whatsapp.net', 'DOCUMENT', 'DELIVERED', 'wa-main/../../etc/passwd', 'text/plain', now())"#,
    )
    .bind(format!("../{name}"))
    .execute(&stack.stack.db.pool)
    .await
    .unwrap();
    outside
}

async fn file_size(stack: &WaStack, id: &str) -> u64 {
    let name: String =
        sqlx::query_scalar(r#"SELECT "mediaUrl" FROM whatsapp_messages WHERE "id" = $1"#)
            .bind(id)
            .fetch_one(&stack.stack.db.pool)
            .await
            .unwrap();
    std::fs::metadata(stack.media_root().join(name))
        .unwrap()
        .len()
}

pub async fn isolation(rec: &mut Rec<'_>) {
    let u4 = Who::User("u4");
    rec.call(
        "other tenant status",
        "GET",
        "/api/whatsapp/status?sessionId=wa-main",
        u4,
        None,
    )
    .await;
    rec.call(
        "other tenant history",
        "GET",
        "/api/whatsapp/messages?sessionId=wa-main",
        u4,
        None,
    )
    .await;
    rec.call(
        "other tenant send",
        "POST",
        "/api/whatsapp/chat-messages",
        u4,
        Some(json!({"sessionId": SESSION, "toJid": CHAT, "content": "x"})),
    )
    .await;
    rec.call(
        "other tenant list",
        "GET",
        "/api/whatsapp/sessions",
        u4,
        None,
    )
    .await;
    let auth = "/api/chat/realtime/auth";
    rec.form(
        "private channel member",
        auth,
        Who::User("u1"),
        "socket_id=123.456&channel_name=private-whatsapp.wa-main",
    )
    .await;
    rec.form(
        "private channel other tenant",
        auth,
        u4,
        "socket_id=123.456&channel_name=private-whatsapp.wa-main",
    )
    .await;
    rec.call(
        "worker without token",
        "GET",
        "/api/whatsapp/worker/sessions",
        Who::Nobody,
        None,
    )
    .await;
    rec.call(
        "worker with a user cookie",
        "GET",
        "/api/whatsapp/worker/sessions",
        Who::User("u1"),
        None,
    )
    .await;
    rec.call(
        "worker sessions",
        "GET",
        "/api/whatsapp/worker/sessions",
        Who::Worker,
        None,
    )
    .await;
    rec.call(
        "worker bad batch",
        "POST",
        "/api/whatsapp/worker/events",
        Who::Worker,
        Some(
            json!({"sessionId": SESSION, "batchId": "b", "events": [{"type": "nope", "data": {}}]}),
        ),
    )
    .await;
    rec.call(
        "worker unknown session",
        "POST",
        "/api/whatsapp/worker/events",
        Who::Worker,
        Some(json!({"sessionId": "nope", "batchId": "b", "events": []})),
    )
    .await;
}

pub async fn teardown(rec: &mut Rec<'_>) {
    let u1 = Who::User("u1");
    let sid = json!({"sessionId": SESSION});
    rec.call(
        "disconnect",
        "POST",
        "/api/whatsapp/disconnect",
        u1,
        Some(sid),
    )
    .await;
    rec.call(
        "status disconnected",
        "GET",
        "/api/whatsapp/status?sessionId=wa-main",
        u1,
        None,
    )
    .await;
    rec.call(
        "worker sessions after disconnect",
        "GET",
        "/api/whatsapp/worker/sessions",
        Who::Worker,
        None,
    )
    .await;
    rec.call(
        "delete",
        "DELETE",
        "/api/whatsapp/sessions?sessionId=wa-main",
        u1,
        None,
    )
    .await;
    rec.call(
        "status deleted",
        "GET",
        "/api/whatsapp/status?sessionId=wa-main",
        u1,
        None,
    )
    .await;
    rec.call(
        "list after delete",
        "GET",
        "/api/whatsapp/sessions",
        u1,
        None,
    )
    .await;
}

/// Statuses that must really be what they are (equal on both sides is not enough).
pub const EXPECTED: &[(&str, u16)] = &[
    ("create", 201),
    ("create retry", 200),
    ("create taken", 409),
    ("history", 200),
    ("history older", 200),
    ("send 1", 200),
    ("send retry", 200),
    ("mark read", 200),
    ("image", 200),
    ("image range", 206),
    ("image unsatisfiable", 416),
    ("image not modified", 304),
    ("document", 200),
    ("media other tenant", 404),
    ("media traversal trav-1", 404),
    ("media traversal trav-2", 404),
    ("media traversal trav-3", 404),
    ("media traversal in the id", 404),
    ("other tenant status", 404),
    ("private channel member", 200),
    ("private channel other tenant", 403),
    ("worker without token", 401),
    ("worker sessions", 200),
    ("disconnect", 200),
    ("delete", 200),
];
