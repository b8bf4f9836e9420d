// WhatsApp rows as the contract serializes them (key order = contracts/whatsapp.md).
// Enum columns are read as ::text; creds, keys and metadata are never returned.
import type { PoolClient } from 'pg';
import { pool } from '../db';

type Db = Pick<PoolClient, 'query'>;

export type Session = {
  id: string;
  sessionId: string;
  tenantId: string;
  name: string;
  phoneNumber: string | null;
  status: string;
  isActive: boolean;
  lastSync: Date;
  lastConnected: Date | null;
  errorMessage: string | null;
  routingRule: string;
  stats: { messages: number; contacts: number };
};

export const SESSION_SELECT = `
  SELECT s."id", s."sessionId", s."tenantId", s."name", s."phoneNumber", s."status"::text AS "status",
         s."isActive", s."lastSync", s."lastConnected", s."errorMessage",
         COALESCE(c."routingRule"::text, 'FLOWBOT_FIRST') AS "routingRule",
         (SELECT count(*)::int FROM whatsapp_messages m WHERE m."sessionId" = s."sessionId") AS "messageCount",
         (SELECT count(*)::int FROM whatsapp_contacts k WHERE k."sessionId" = s."sessionId") AS "contactCount"
  FROM whatsapp_sessions s
  LEFT JOIN whatsapp_session_configs c ON c."sessionId" = s."sessionId"`;

type SessionRow = Omit<Session, 'stats'> & { messageCount: number; contactCount: number };

export const session = (r: SessionRow): Session => ({
  id: r.id,
  sessionId: r.sessionId,
  tenantId: r.tenantId,
  name: r.name,
  phoneNumber: r.phoneNumber,
  status: r.status,
  isActive: r.isActive,
  lastSync: r.lastSync,
  lastConnected: r.lastConnected,
  errorMessage: r.errorMessage,
  routingRule: r.routingRule,
  stats: { messages: r.messageCount, contacts: r.contactCount },
});

export async function sessionById(db: Db, sessionId: string): Promise<Session | undefined> {
  const { rows } = await db.query(`${SESSION_SELECT} WHERE s."sessionId" = $1`, [sessionId]);
  return rows[0] ? session(rows[0]) : undefined;
}

export async function sessionsOfUser(userId: string): Promise<Session[]> {
  const { rows } = await pool.query(
    `${SESSION_SELECT}
     WHERE s."tenantId" IN (SELECT m."tenantId" FROM "Membership" m WHERE m."userId" = $1)
     ORDER BY s."createdAt" DESC, s."id" DESC`,
    [userId],
  );
  return rows.map(session);
}

export type Contact = {
  id: string;
  jid: string;
  name: string | null;
  phoneNumber: string | null;
  isGroup: boolean;
  isBusiness: boolean;
  avatarUrl: string | null;
  lastMessageAt: Date | null;
  unreadCount: number;
};

export const CONTACT_COLS = `"id", "jid", "name", "phoneNumber", "isGroup", "isBusiness", "avatarUrl", "lastMessageAt", "unreadCount"`;

export const contact = (r: Contact): Contact => ({
  id: r.id,
  jid: r.jid,
  name: r.name,
  phoneNumber: r.phoneNumber,
  isGroup: r.isGroup,
  isBusiness: r.isBusiness,
  avatarUrl: r.avatarUrl,
  lastMessageAt: r.lastMessageAt,
  unreadCount: r.unreadCount,
});

export type Message = {
  id: string;
  messageId: string;
  remoteJid: string;
  fromMe: boolean;
  content: string | null;
  messageType: string;
  status: string;
  timestamp: Date;
  deliveredAt: Date | null;
  readAt: Date | null;
  mediaMimeType: string | null;
  mediaSize: number | null;
  quotedMessageId: string | null;
  senderId: string | null;
};

export const MESSAGE_COLS = `"id", "messageId", "remoteJid", "fromMe", "content", "messageType"::text AS "messageType",
  "status"::text AS "status", "timestamp", "deliveredAt", "readAt", "mediaMimeType", "mediaSize", "quotedMessageId", "senderId"`;

export const message = (r: Message): Message => ({
  id: r.id,
  messageId: r.messageId,
  remoteJid: r.remoteJid,
  fromMe: r.fromMe,
  content: r.content,
  messageType: r.messageType,
  status: r.status,
  timestamp: r.timestamp,
  deliveredAt: r.deliveredAt,
  readAt: r.readAt,
  mediaMimeType: r.mediaMimeType,
  mediaSize: r.mediaSize,
  quotedMessageId: r.quotedMessageId,
  senderId: r.senderId,
});

/** The `message.received` event data of a stored message. */
export const receivedEvent = (m: Message) => ({
  id: m.id,
  messageId: m.messageId,
  remoteJid: m.remoteJid,
  fromMe: m.fromMe,
  content: m.content,
  messageType: m.messageType,
  timestamp: m.timestamp.toISOString(),
});

/** `{ "status": "QR_REQUIRED" }` → the socket status the UI shows. */
export function socketStatus(status: string): string {
  switch (status) {
    case 'CONNECTED':
      return 'connected';
    case 'QR_REQUIRED':
      return 'qr_required';
    case 'CONNECTING':
      return 'connecting';
    default:
      return 'disconnected';
  }
}
