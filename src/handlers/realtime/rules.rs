//! Pure channel rules: input validation and which kind of channel a name is.
//! Who may join is decided in `realtime::authorize` with these kinds.

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel<'a> {
    /// `private-user-{userId}`
    User(&'a str),
    /// `private-thread-{threadId}`
    Thread(&'a str),
    /// `presence-tenant-{tenantId}`
    TenantPresence(&'a str),
    /// `private-chatbot-{conversationId}`
    Chatbot(&'a str),
    /// `private-whatsapp.{sessionId}`: members of the session's tenant only
    /// (the legacy app let any logged-in user in).
    WhatsApp(&'a str),
    Other,
}

impl Channel<'_> {
    pub fn is_presence(&self) -> bool {
        matches!(self, Channel::TenantPresence(_))
    }
}

pub fn classify(name: &str) -> Channel<'_> {
    let with_id = |prefix: &str| name.strip_prefix(prefix).filter(|id| !id.is_empty());
    if let Some(id) = with_id("private-user-") {
        Channel::User(id)
    } else if let Some(id) = with_id("private-thread-") {
        Channel::Thread(id)
    } else if let Some(id) = with_id("presence-tenant-") {
        Channel::TenantPresence(id)
    } else if let Some(id) = with_id("private-chatbot-") {
        Channel::Chatbot(id)
    } else if let Some(id) = with_id("private-whatsapp.") {
        Channel::WhatsApp(id)
    } else {
        Channel::Other
    }
}
