// The WhatsApp admin API (contracts/whatsapp.md) as the console uses it.
import { api } from './api';
import { newClientMessageId } from './ids';

export type WaSession = {
  id: string; sessionId: string; tenantId: string; name: string; phoneNumber: string | null; status: string;
  isActive: boolean; lastSync: string; lastConnected: string | null; errorMessage: string | null;
  routingRule: string; stats: { messages: number; contacts: number };
};
export type WaStatus = { status: string; qr?: string; socketStatus: string };
export type WaContact = {
  id: string; jid: string; name: string | null; phoneNumber: string | null; isGroup: boolean; isBusiness: boolean;
  avatarUrl: string | null; lastMessageAt: string | null; unreadCount: number;
};
export type WaMessage = {
  id: string; messageId: string; remoteJid: string; fromMe: boolean; content: string | null; messageType: string;
  status: string; timestamp: string; deliveredAt: string | null; readAt: string | null; mediaMimeType: string | null;
  mediaSize: number | null; quotedMessageId: string | null; senderId: string | null;
};

const q = (v: string) => encodeURIComponent(v);

export const wa = {
  sessions: () => api<{ sessions: WaSession[] }>('/api/whatsapp/sessions'),
  create: (name: string) => api<{ session: WaSession }>('/api/whatsapp/sessions', { method: 'POST', body: { name } }),
  remove: (sid: string) => api(`/api/whatsapp/sessions?sessionId=${q(sid)}`, { method: 'DELETE' }),
  connect: (sid: string) => api('/api/whatsapp/connect', { method: 'POST', body: { sessionId: sid } }),
  disconnect: (sid: string) => api('/api/whatsapp/disconnect', { method: 'POST', body: { sessionId: sid } }),
  status: (sid: string) => api<WaStatus>(`/api/whatsapp/status?sessionId=${q(sid)}`),
  contacts: (sid: string) => api<{ contacts: WaContact[] }>(`/api/whatsapp/contacts?sessionId=${q(sid)}`),
  markRead: (sid: string, jid: string) =>
    api('/api/whatsapp/contacts/mark-read', { method: 'POST', body: { sessionId: sid, jid } }),
  messages: (sid: string, jid: string) =>
    api<{ messages: WaMessage[]; nextCursor: string | null }>(`/api/whatsapp/messages?sessionId=${q(sid)}&jid=${q(jid)}&limit=50`),
  send: (sid: string, toJid: string, content: string) =>
    api<{ outboxId: string; status: string }>('/api/whatsapp/chat-messages', {
      method: 'POST', body: { sessionId: sid, toJid, content, clientMessageId: newClientMessageId() },
    }),
};

/** The admin UI's status word for the event's lower-case status or the row's enum. */
export function statusLabel(s: string): string {
  const map: Record<string, string> = {
    connected: 'Connected', CONNECTED: 'Connected', connecting: 'Connecting', CONNECTING: 'Connecting',
    qr_required: 'Scan QR code', QR_REQUIRED: 'Scan QR code', disconnected: 'Disconnected',
    DISCONNECTED: 'Disconnected', error: 'Error', ERROR: 'Error',
  };
  return map[s] ?? s;
}
