//! Pure channel rules: input validation and which kind of channel a name is.
//! Who may join is decided in `realtime::may_join` with these kinds.

/// `socket_id` as Pusher issues it: `^\d+\.\d+$`.
pub fn valid_socket_id(s: &str) -> bool {
    match s.split_once('.') {
        Some((a, b)) => {
            !a.is_empty()
                && !b.is_empty()
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

/// Channel names Pusher accepts: `[A-Za-z0-9_\-=@,.;]+`, at most 200 chars.
pub fn valid_channel_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"_-=@,.;".contains(&c))
}

/// The channels the app uses; everything else is `Other` (always forbidden).
/// Tenant and sender ids hold no `.`; the rest of a name may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel<'a> {
    /// `presence-tenant.{tenantId}.thread.{threadKey}`
    Thread {
        tenant: &'a str,
        key: &'a str,
    },
    /// `presence-tenant.{tenantId}.{rest}` (`.online` and any other presence)
    TenantPresence(&'a str),
    /// `private-tenant.{tenantId}.{rest}` (`.notifications`, …)
    TenantPrivate(&'a str),
    /// `private-scheduled.{tenantId}.{senderId}`
    Scheduled {
        tenant: &'a str,
        sender: &'a str,
    },
    /// `private-chatbot-{conversationId}`
    Chatbot(&'a str),
    /// `private-whatsapp.{sessionId}`: members of the session's tenant only
    /// (the legacy app let any logged-in user in).
    WhatsApp(&'a str),
    Other,
}

impl Channel<'_> {
    pub fn is_presence(&self) -> bool {
        matches!(self, Channel::Thread { .. } | Channel::TenantPresence(_))
    }
}

/// `{id}.{rest}` with both parts non-empty.
fn id_and_rest(s: &str) -> Option<(&str, &str)> {
    s.split_once('.')
        .filter(|(id, rest)| !id.is_empty() && !rest.is_empty())
}

pub fn classify(name: &str) -> Channel<'_> {
    let with_id = |prefix: &str| name.strip_prefix(prefix).filter(|id| !id.is_empty());
    if let Some((tenant, rest)) = with_id("presence-tenant.").and_then(id_and_rest) {
        match rest.strip_prefix("thread.").filter(|k| !k.is_empty()) {
            Some(key) => Channel::Thread { tenant, key },
            None => Channel::TenantPresence(tenant),
        }
    } else if let Some((tenant, _)) = with_id("private-tenant.").and_then(id_and_rest) {
        Channel::TenantPrivate(tenant)
    } else if let Some((tenant, sender)) = with_id("private-scheduled.").and_then(id_and_rest) {
        if sender.contains('.') {
            Channel::Other
        } else {
            Channel::Scheduled { tenant, sender }
        }
    } else if let Some(id) = with_id("private-chatbot-") {
        Channel::Chatbot(id)
    } else if let Some(id) = with_id("private-whatsapp.") {
        Channel::WhatsApp(id)
    } else {
        Channel::Other
    }
}
