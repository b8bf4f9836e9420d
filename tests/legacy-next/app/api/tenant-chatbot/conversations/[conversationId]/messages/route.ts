import { NextResponse } from 'next/server';
import { inTx, pool } from '@/lib/db';
import { handle, notFound } from '@/lib/errors';
import { chatbotVisitor, isDryRun } from '@/lib/identity';
import { page, parsePaging } from '@/lib/cursor';
import { broadcast, chatbotChannel } from '@/lib/pusher';
import { CHATBOT_MESSAGE_COLS, CONVERSATION_COLS, chatbotMessage, conversation, type Conversation } from '@/lib/rows';
import { checkBody, checkClientMessageId, optString, readJson } from '@/lib/validate';

export const dynamic = 'force-dynamic';

type Ctx = { params: Promise<{ conversationId: string }> };

async function ownConversation(req: Request, id: string): Promise<Conversation> {
  const { tenantId, issuer, visitorId } = await chatbotVisitor(req);
  const { rows } = await pool.query(
    `SELECT ${CONVERSATION_COLS} FROM "ChatbotSession" WHERE "id" = $1 AND "tenantId" = $2 AND "visitorId" = $3 AND "issuer" = $4`,
    [id, tenantId, visitorId, issuer],
  );
  if (!rows[0]) throw notFound('conversation_not_found');
  return conversation(rows[0]);
}

export const GET = handle(async (req: Request, { params }: Ctx) => {
  const conv = await ownConversation(req, (await params).conversationId);
  const { cursor, limit } = parsePaging(req.url);
  const { rows } = await pool.query(
    `SELECT ${CHATBOT_MESSAGE_COLS} FROM "ChatbotMessage"
     WHERE "sessionId" = $1 AND ($2::timestamptz IS NULL OR ("createdAt", "id") < ($2, $3))
     ORDER BY "createdAt" DESC, "id" DESC
     LIMIT $4`,
    [conv.id, cursor?.createdAt ?? null, cursor?.id ?? null, limit + 1],
  );
  const { items, nextCursor } = page(rows.map(chatbotMessage), limit);
  return NextResponse.json({ messages: items, nextCursor });
});

export const POST = handle(async (req: Request, { params }: Ctx) => {
  const conv = await ownConversation(req, (await params).conversationId);
  const body = await readJson(req);
  const text = checkBody(optString(body, 'body'));
  const key = checkClientMessageId(optString(body, 'clientMessageId'));
  const dryRun = isDryRun(req);
  const [msg, created] = await inTx(dryRun, async (c) => {
    const ins = await c.query(
      `INSERT INTO "ChatbotMessage" ("sessionId", "role", "body", "clientMessageId")
       VALUES ($1, 'visitor', $2, $3)
       ON CONFLICT ("sessionId", "role", "clientMessageId") DO NOTHING
       RETURNING ${CHATBOT_MESSAGE_COLS}`,
      [conv.id, text, key],
    );
    if (ins.rows[0]) return [chatbotMessage(ins.rows[0]), true] as const;
    const first = await c.query(
      `SELECT ${CHATBOT_MESSAGE_COLS} FROM "ChatbotMessage" WHERE "sessionId" = $1 AND "role" = 'visitor' AND "clientMessageId" = $2`,
      [conv.id, key],
    );
    return [chatbotMessage(first.rows[0]), false] as const;
  });
  if (!created) return NextResponse.json({ message: msg }, { status: 200 });
  await broadcast(dryRun, chatbotChannel(conv.id), 'message.created', { tenantId: conv.tenantId, conversationId: conv.id, message: msg });
  return NextResponse.json({ message: msg }, { status: 201 });
});
