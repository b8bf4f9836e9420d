//! The legacy app's channel names and its `threadKey` (pure): every emitter
//! and the auth rules build names here, so both agree on them.
//!
//! - `presence-tenant.{tenantId}.thread.{threadKey}`: a user thread's events.
//! - `presence-tenant.{tenantId}.online`: who is online in the tenant.
//! - `private-scheduled.{tenantId}.{senderId}`: a sender's scheduled messages.

use std::cmp::Ordering;

/// Events on a thread channel.
pub const USER_MESSAGE: &str = "tenant-user-message";
pub const USER_MESSAGE_READ: &str = "tenant-user-message-read";
pub const USER_MESSAGE_DELIVERED: &str = "tenant-user-message-delivered";
/// Event on a scheduled channel.
pub const SCHEDULED_UPDATE: &str = "scheduled-message-update";

pub fn thread_channel(tenant_id: &str, thread_key: &str) -> String {
    format!("presence-tenant.{tenant_id}.thread.{thread_key}")
}

pub fn online_channel(tenant_id: &str) -> String {
    format!("presence-tenant.{tenant_id}.online")
}

pub fn scheduled_channel(tenant_id: &str, sender_id: &str) -> String {
    format!("private-scheduled.{tenant_id}.{sender_id}")
}

/// The `threadKey` of a thread from its participants (any order):
/// - exactly two participants (1:1, the legacy rule): the two user ids,
///   trimmed, sorted with [`locale_cmp`], joined by `--`;
/// - any other count (a group, or a thread with one participant):
///   `group-{threadId}` (never contains `--` for our cuid thread ids, so it
///   cannot equal a 1:1 key).
pub fn thread_key(thread_id: &str, participants: &[String]) -> String {
    match participants {
        [a, b] => {
            let (a, b) = (a.trim(), b.trim());
            match locale_cmp(a, b) {
                Ordering::Greater => format!("{b}--{a}"),
                _ => format!("{a}--{b}"),
            }
        }
        _ => format!("group-{thread_id}"),
    }
}

/// The other participant of a 1:1 thread (the `recipientId` of a message
/// `sender_id` sent); `None` in a group.
pub fn recipient<'a>(participants: &'a [String], sender_id: &str) -> Option<&'a str> {
    match participants {
        [a, b] if a == sender_id => Some(b),
        [a, b] if b == sender_id => Some(a),
        _ => None,
    }
}

/// JavaScript's `a.localeCompare(b)` (ICU root collation, Node's default
/// full-icu) for the characters a channel name may hold
/// (`[A-Za-z0-9_\-=@,.;]`): punctuation before digits before letters, the
/// punctuation in ICU's order `_ - , ; . @ =`; letters compared without case
/// first, then lower case before upper case at the first difference. Other
/// characters fall back to code point order after letters (not used in ids).
pub fn locale_cmp(a: &str, b: &str) -> Ordering {
    fn primary(c: char) -> (u8, u32) {
        match c {
            '_' => (0, 0),
            '-' => (0, 1),
            ',' => (0, 2),
            ';' => (0, 3),
            '.' => (0, 4),
            '@' => (0, 5),
            '=' => (0, 6),
            '0'..='9' => (1, c as u32),
            'a'..='z' => (2, c as u32),
            'A'..='Z' => (2, c.to_ascii_lowercase() as u32),
            _ => (3, c as u32),
        }
    }
    let primaries = |s: &str| s.chars().map(primary).collect::<Vec<_>>();
    primaries(a).cmp(&primaries(b)).then_with(|| {
        // Tertiary: lower case first at the first case difference.
        let tertiary = |s: &str| {
            s.chars()
                .map(|c| c.is_ascii_uppercase())
                .collect::<Vec<_>>()
        };
        tertiary(a).cmp(&tertiary(b))
    })
}
