// Row shapes as the contract serializes them (key order = the Rust structs'),
// and the SQL shared by several routes (same statements as src/store/).
import type { PoolClient } from 'pg';
import { pool } from './db';
import { notFound } from './errors';
import { threadChannel, threadKey } from './pusher';

export type Message = {
  id: string; threadId: string; senderId: string; body: string; clientMessageId: string | null; createdAt: Date;
};

export const MESSAGE_COLS = `"id", "threadId", "senderId", "body", "clientMessageId", "createdAt"`;

export const message = (r: Message): Message => ({
  id: r.id, threadId: r.threadId, senderId: r.senderId, body: r.body, clientMessageId: r.clientMessageId, createdAt: r.createdAt,
});

/** The thread if the user participates in it, else 404 thread_not_found. */
export async function memberThread(threadId: string, userId: string): Promise<{ id: string; tenantId: string }> {
  const { rows } = await pool.query(
    `SELECT t."id", t."tenantId" FROM "Thread" t
     JOIN "ThreadParticipant" p ON p."threadId" = t."id"
     WHERE t."id" = $1 AND p."userId" = $2`,
    [threadId, userId],
  );
  if (!rows[0]) throw notFound('thread_not_found');
  return rows[0];
}

export type ThreadScope = { id: string; tenantId: string; participants: string[]; key: string; channel: string };

/** The thread with its participants (sorted), threadKey and channel. */
export async function threadScope(thread: { id: string; tenantId: string }): Promise<ThreadScope> {
  const { rows } = await pool.query(
    `SELECT "userId" FROM "ThreadParticipant" WHERE "threadId" = $1 ORDER BY "userId"`,
    [thread.id],
  );
  const participants = rows.map((r) => r.userId as string);
  const key = threadKey(thread.id, participants);
  return { id: thread.id, tenantId: thread.tenantId, participants, key, channel: threadChannel(thread.tenantId, key) };
}

/** Idempotent insert on (thread, sender, clientMessageId): [row, created]. */
export async function sendMessage(
  c: PoolClient, threadId: string, senderId: string, body: string, clientMessageId: string,
): Promise<[Message, boolean]> {
  const ins = await c.query(
    `INSERT INTO "Message" ("threadId", "senderId", "body", "clientMessageId")
     VALUES ($1, $2, $3, $4)
     ON CONFLICT ("threadId", "senderId", "clientMessageId") DO NOTHING
     RETURNING ${MESSAGE_COLS}`,
    [threadId, senderId, body, clientMessageId],
  );
  if (ins.rows[0]) return [message(ins.rows[0]), true];
  const first = await c.query(
    `SELECT ${MESSAGE_COLS} FROM "Message" WHERE "threadId" = $1 AND "senderId" = $2 AND "clientMessageId" = $3`,
    [threadId, senderId, clientMessageId],
  );
  return [message(first.rows[0]), false];
}

export type Scheduled = {
  id: string; threadId: string; senderId: string; body: string; sendAt: Date; status: string; messageId: string | null; createdAt: Date;
};

export const SCHEDULED_COLS = `"id", "threadId", "senderId", "body", "sendAt", "status", "messageId", "createdAt"`;

export const scheduled = (r: Scheduled): Scheduled => ({
  id: r.id, threadId: r.threadId, senderId: r.senderId, body: r.body, sendAt: r.sendAt, status: r.status, messageId: r.messageId, createdAt: r.createdAt,
});

export type ChatbotMessage = {
  id: string; conversationId: string; role: string; body: string; clientMessageId: string | null; createdAt: Date;
};

export const CHATBOT_MESSAGE_COLS = `"id", "sessionId", "role", "body", "clientMessageId", "createdAt"`;

export const chatbotMessage = (r: { id: string; sessionId: string; role: string; body: string; clientMessageId: string | null; createdAt: Date }): ChatbotMessage => ({
  id: r.id, conversationId: r.sessionId, role: r.role, body: r.body, clientMessageId: r.clientMessageId, createdAt: r.createdAt,
});

export type Conversation = {
  id: string; tenantId: string; visitorId: string; visitorName: string | null; status: string; createdAt: Date;
};

export const CONVERSATION_COLS = `"id", "tenantId", "visitorId", "visitorName", "status", "createdAt"`;

export const conversation = (r: Conversation): Conversation => ({
  id: r.id, tenantId: r.tenantId, visitorId: r.visitorId, visitorName: r.visitorName, status: r.status, createdAt: r.createdAt,
});
