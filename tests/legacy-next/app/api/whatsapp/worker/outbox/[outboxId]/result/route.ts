// The worker reports a send: ok → the message is stored and announced once;
// a failure goes back to the queue until MAX_ATTEMPTS, then fails.
import { NextResponse } from 'next/server';
import { inTx } from '@/lib/db';
import { isDryRun, serviceCaller } from '@/lib/identity';
import { badRequest, notFound, waHandle } from '@/lib/whatsapp/errors';
import { emit, type WaEvent } from '@/lib/whatsapp/events';
import { MAX_ATTEMPTS, type OutboxRow } from '@/lib/whatsapp/outbox';
import { optionalString, readBody, requiredString } from '@/lib/whatsapp/request';
import { MESSAGE_COLS, message, receivedEvent } from '@/lib/whatsapp/rows';

export const dynamic = 'force-dynamic';

const INVALID_RESULT = 'Invalid result';

type Ctx = { params: Promise<{ outboxId: string }> };

export const POST = waHandle(async (req: Request, { params }: Ctx) => {
  await serviceCaller(req);
  const { outboxId } = await params;
  const body = await readBody(req);
  const dryRun = isDryRun(req);

  const result = await inTx(dryRun, async (c) => {
    const found = await c.query(
      `SELECT o.*, s."tenantId"
       FROM whatsapp_outbox o JOIN whatsapp_sessions s ON s."sessionId" = o."sessionId"
       WHERE o."id" = $1 FOR UPDATE OF o`,
      [outboxId],
    );
    const row = found.rows[0] as (OutboxRow & { tenantId: string }) | undefined;
    if (!row) throw notFound('Outbox item not found');
    requiredString(body, 'workerId');
    const ok = body.ok;
    if (typeof ok !== 'boolean') throw badRequest(INVALID_RESULT);
    const messageId = optionalString(body, 'messageId', INVALID_RESULT) || row.waMessageId;
    const error = optionalString(body, 'error', INVALID_RESULT);
    const session = { sessionId: row.sessionId, tenantId: row.tenantId };
    const events: WaEvent[] = [];
    if (row.status === 'sent') return { duplicate: true, status: 'sent', session, events };

    if (!ok) {
      const next = row.attempts < MAX_ATTEMPTS ? 'queued' : 'failed';
      await c.query(
        `UPDATE whatsapp_outbox
         SET "status" = $2, "leaseOwner" = NULL, "leaseUntil" = NULL, "errorMessage" = $3, "updatedAt" = now()
         WHERE "id" = $1`,
        [row.id, next, error ?? null],
      );
      return { duplicate: false, status: next, session, events };
    }

    await c.query(
      `UPDATE whatsapp_outbox SET "status" = 'sent', "leaseUntil" = NULL, "errorMessage" = NULL, "updatedAt" = now()
       WHERE "id" = $1`,
      [row.id],
    );
    const ins = await c.query(
      `INSERT INTO whatsapp_messages
         ("sessionId", "messageId", "remoteJid", "fromMe", "content", "messageType", "status", "timestamp", "senderId")
       VALUES ($1, $2, $3, true, $4, 'TEXT', 'SENT', now(), $5)
       ON CONFLICT ("sessionId", "messageId") DO UPDATE
         SET "senderId" = COALESCE(whatsapp_messages."senderId", EXCLUDED."senderId")
       RETURNING (xmax = 0) AS "created", ${MESSAGE_COLS}`,
      [row.sessionId, messageId, row.toJid, row.content, row.senderId],
    );
    // The worker's echo of the send (messages.upsert) may have stored the row
    // first: it is kept as is, only its missing senderId is filled in.
    const { created } = ins.rows[0];
    const msg = message(ins.rows[0]);
    events.push({ event: 'message.sent', data: { ...receivedEvent(msg), clientMessageId: row.clientMessageId } });
    if (created) events.push({ event: 'message.received', data: receivedEvent(msg) });
    return { duplicate: false, status: 'sent', session, events };
  });

  await emit(dryRun, result.session, result.events);
  return NextResponse.json({ success: true, duplicate: result.duplicate, status: result.status });
});
