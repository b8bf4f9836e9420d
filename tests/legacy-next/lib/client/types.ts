// The API's shapes as the pages use them (contracts/legacy-api.yaml,
// contracts/whatsapp.md). Timestamps arrive as ISO strings.
export type Message = {
  id: string; threadId: string; senderId: string; body: string; clientMessageId: string | null; createdAt: string;
};

export type Thread = {
  id: string; tenantId: string; title: string | null; createdAt: string; lastMessage: Message | null; unreadCount: number;
};

export type Scheduled = {
  id: string; threadId: string; senderId: string; body: string; sendAt: string; status: string; messageId: string | null; createdAt: string;
};

/** `tenant-user-message` on the thread's presence channel. */
export type UserMessageEvent = {
  id: string; tenantId: string; threadKey: string; senderId: string; recipientId: string | null; content: string; createdAt: string;
};

/** `tenant-user-message-read`. */
export type ReadEvent = { tenantId: string; threadKey: string; readerId: string; messageIds: string[]; readAt: string };

/** `typing`. */
export type TypingEvent = { threadId: string; userId: string; isTyping: boolean };

export type ChatbotMessage = {
  id: string; conversationId: string; role: string; body: string; clientMessageId: string | null; createdAt: string;
};

export type ChatbotConfig = {
  tenantId: string; name: string; enabled: boolean; greeting: string | null; primaryColor: string | null;
};
