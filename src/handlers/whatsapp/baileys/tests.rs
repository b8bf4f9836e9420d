use serde_json::json;

use super::*;

#[test]
fn text_image_document_and_group_messages_map_as_the_legacy_worker_did() {
    let text = json!({"key": {"remoteJid": "4912345@s.whatsapp.net", "fromMe": false, "id": "3EB0A"},
                      "messageTimestamp": 1764500000, "pushName": "Ann",
                      "message": {"conversation": "hi"}});
    let m = map_message(&text).unwrap();
    assert_eq!(
        (m.message_type, m.content, m.from_me),
        ("TEXT", Some("hi"), false)
    );
    assert_eq!(m.push_name, Some("Ann"));
    assert_eq!(m.timestamp.timestamp(), 1764500000);

    let image = json!({"key": {"remoteJid": "1@g.us", "fromMe": true, "id": "X"},
                       "messageTimestamp": "1764500001",
                       "message": {"imageMessage": {"caption": "look", "mimetype": "image/jpeg", "fileLength": "2048"}}});
    let m = map_message(&image).unwrap();
    assert_eq!((m.message_type, m.content), ("IMAGE", Some("look")));
    assert_eq!(
        (m.media_mime_type, m.media_size),
        (Some("image/jpeg"), Some(2048))
    );

    let doc = json!({"key": {"remoteJid": "1@s.whatsapp.net", "id": "D"}, "messageTimestamp": 5,
                     "message": {"documentMessage": {"fileName": "a.pdf", "mimetype": "application/pdf", "fileLength": 9}}});
    let m = map_message(&doc).unwrap();
    assert_eq!(
        (m.message_type, m.content, m.media_size),
        ("DOCUMENT", None, Some(9))
    );

    let quoted = json!({"key": {"remoteJid": "1@s.whatsapp.net", "id": "Q"}, "messageTimestamp": 5,
                        "message": {"extendedTextMessage": {"text": "re", "contextInfo": {"stanzaId": "3EB0A"}}}});
    let m = map_message(&quoted).unwrap();
    assert_eq!(
        (m.content, m.quoted_message_id),
        (Some("re"), Some("3EB0A"))
    );
}

#[test]
fn messages_without_key_chat_or_time_and_status_broadcasts_are_skipped() {
    for v in [
        json!({"key": {"remoteJid": "1@s.whatsapp.net"}, "messageTimestamp": 1}),
        json!({"key": {"id": "A"}, "messageTimestamp": 1}),
        json!({"key": {"id": "A", "remoteJid": "status@broadcast"}, "messageTimestamp": 1}),
        json!({"key": {"id": "A", "remoteJid": "1@s.whatsapp.net"}}),
        json!({"key": {"id": "A", "remoteJid": "1@s.whatsapp.net"}, "messageTimestamp": "soon"}),
        json!({"key": {"id": "A", "remoteJid": "1@s.whatsapp.net"}, "messageTimestamp": -1}),
        json!({"key": {"id": "A", "remoteJid": "1@s.whatsapp.net"}, "messageTimestamp": 253_402_300_800_i64}),
    ] {
        assert_eq!(map_message(&v), None, "{v}");
    }
}

#[test]
fn receipts_map_3_to_delivered_and_4_5_to_read_and_ignore_the_rest() {
    let got: Vec<_> = (0..=5).map(receipt_status).collect();
    assert_eq!(
        got,
        [
            None,
            None,
            None,
            Some("DELIVERED"),
            Some("READ"),
            Some("READ")
        ]
    );
}

fn batch(events: serde_json::Value) -> Result<Batch, InvalidBatch> {
    let body = json!({"sessionId": "s", "batchId": "b1", "events": events});
    parse_batch(body.as_object().unwrap())
}

#[test]
fn a_well_formed_batch_parses_every_event_kind() {
    let b = batch(json!([
        {"type": "connection.update", "data": {"qr": "2@abc"}},
        {"type": "connection.update", "data": {"connection": "close", "lastDisconnect": {"statusCode": 515}}},
        {"type": "messages.upsert", "data": {"type": "append", "messages": [{}], "media": {"X": "s/X.jpg"}}},
        {"type": "messages.update", "data": [{"key": {"id": "X"}, "update": {"status": 3}}]},
        {"type": "contacts.upsert", "data": [{"id": "1@s.whatsapp.net", "notify": "Ann"}]}
    ]))
    .unwrap();
    assert_eq!(b.batch_id, "b1");
    assert_eq!(b.events.len(), 5);
    assert!(matches!(&b.events[1], Event::Connection(c) if c.status_code == Some(515)));
    assert!(
        matches!(&b.events[2], Event::Upsert { notify: false, media, .. } if media["X"] == "s/X.jpg")
    );
    assert!(matches!(&b.events[4], Event::Contacts(c) if c[0].name.as_deref() == Some("Ann")));
}

#[test]
fn a_batch_with_any_malformed_event_is_rejected_whole() {
    for events in [
        json!("nope"),
        json!([{"type": "presence.update", "data": {}}]),
        json!([{"type": "connection.update", "data": {"connection": "sideways"}}]),
        json!([{"type": "connection.update", "data": {"qr": 7}}]),
        json!([{"type": "messages.upsert", "data": {"type": "notify", "messages": "x"}}]),
        json!([{"type": "messages.upsert", "data": {"messages": []}}]),
        json!([{"type": "messages.upsert", "data": {"type": "notify", "messages": [1]}}]),
        json!([{"type": "messages.upsert", "data": {"type": "notify", "messages": [], "media": {"a": 1}}}]),
        json!([{"type": "messages.update", "data": [{"key": {}, "update": {}}]}]),
        json!([{"type": "contacts.upsert", "data": [{"name": "x"}]}]),
        json!([{"type": "contacts.upsert"}]),
    ] {
        assert_eq!(batch(events.clone()), Err(InvalidBatch), "{events}");
    }
    let no_id = json!({"sessionId": "s", "events": []});
    assert_eq!(parse_batch(no_id.as_object().unwrap()), Err(InvalidBatch));
}
