// Queue a message for the worker to send. Idempotent on clientMessageId: the
// same key returns the row already queued (fixed from legacy).
import { randomUUID } from 'node:crypto';
import { NextResponse } from 'next/server';
import { inTx } from '@/lib/db';
import { isDryRun, sessionUser } from '@/lib/identity';
import { visibleSession } from '@/lib/whatsapp/access';
import { badRequest, waHandle } from '@/lib/whatsapp/errors';
import { isSendableJid, MAX_CONTENT, waMessageId } from '@/lib/whatsapp/outbox';
import { readBody, requiredString } from '@/lib/whatsapp/request';

export const dynamic = 'force-dynamic';

export const POST = waHandle(async (req: Request) => {
  const userId = await sessionUser(req);
  const body = await readBody(req);
  const session = await visibleSession(userId, requiredString(body, 'sessionId'));
  const toJid = requiredString(body, 'toJid');
  if (!isSendableJid(toJid)) throw badRequest('Invalid toJid');
  const content = body.content;
  if (typeof content !== 'string' || content.trim() === '') throw badRequest('content is required');
  if (content.length > MAX_CONTENT) throw badRequest('Content too long');
  const rawKey = body.clientMessageId ?? undefined;
  if (rawKey !== undefined && (typeof rawKey !== 'string' || rawKey === '' || rawKey.length > 100)) {
    throw badRequest('Invalid clientMessageId');
  }
  // Without a key the send is not deduplicated (legacy behaviour).
  const key = rawKey ?? randomUUID();

  const row = await inTx(isDryRun(req), async (c) => {
    const ins = await c.query(
      `INSERT INTO whatsapp_outbox ("sessionId", "clientMessageId", "waMessageId", "toJid", "content", "senderId")
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT ("sessionId", "clientMessageId") DO NOTHING
       RETURNING "id", "clientMessageId", "status"`,
      [session.sessionId, key, waMessageId(session.sessionId, key), toJid, content, userId],
    );
    if (ins.rows[0]) return ins.rows[0];
    const first = await c.query(
      `SELECT "id", "clientMessageId", "status" FROM whatsapp_outbox WHERE "sessionId" = $1 AND "clientMessageId" = $2`,
      [session.sessionId, key],
    );
    return first.rows[0];
  });
  return NextResponse.json({
    success: true,
    message: 'Message queued',
    outboxId: row.id,
    clientMessageId: row.clientMessageId,
    status: row.status,
  });
});
