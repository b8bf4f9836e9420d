// The send outbox: one row per (sessionId, clientMessageId), claimed by the
// worker with a lease, sent with a WhatsApp message id derived from the key.
import { createHash } from 'node:crypto';

/** "3EB0" + the first 16 hex digits (uppercase) of sha256("<sessionId>\n<clientMessageId>"). */
export function waMessageId(sessionId: string, clientMessageId: string): string {
  const hex = createHash('sha256').update(`${sessionId}\n${clientMessageId}`, 'utf8').digest('hex');
  return '3EB0' + hex.slice(0, 16).toUpperCase();
}

/** Failed sends go back to the queue until this many claims were made. */
export const MAX_ATTEMPTS = 5;

export type OutboxRow = {
  id: string;
  sessionId: string;
  clientMessageId: string;
  waMessageId: string;
  toJid: string;
  content: string;
  senderId: string | null;
  status: 'queued' | 'claimed' | 'sent' | 'failed';
  attempts: number;
  createdAt: Date;
};

export const OUTBOX_COLS = `"id", "sessionId", "clientMessageId", "waMessageId", "toJid", "content", "senderId", "status", "attempts", "createdAt"`;

/** What a claim hands the worker. */
export const claimItem = (r: OutboxRow) => ({
  outboxId: r.id,
  sessionId: r.sessionId,
  clientMessageId: r.clientMessageId,
  waMessageId: r.waMessageId,
  toJid: r.toJid,
  content: r.content,
  attempts: r.attempts,
});

const USER_JID = /^[0-9]{5,20}@s\.whatsapp\.net$/;
const GROUP_JID = /^[0-9-]{5,40}@g\.us$/;

export const isSendableJid = (jid: string) => USER_JID.test(jid) || GROUP_JID.test(jid);

/** Content limit, in UTF-16 units as String.prototype.length counts. */
export const MAX_CONTENT = 4096;
