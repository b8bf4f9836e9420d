import { NextResponse } from 'next/server';
import { inTx, pool } from '@/lib/db';
import { handle, invalid } from '@/lib/errors';
import { isDryRun, sessionUser } from '@/lib/identity';
import { SCHEDULED_COLS, memberThread, scheduled } from '@/lib/rows';
import { checkBody, optString, parseRfc3339, readJson } from '@/lib/validate';

export const dynamic = 'force-dynamic';

type Ctx = { params: Promise<{ threadId: string }> };

export const GET = handle(async (req: Request, { params }: Ctx) => {
  const userId = await sessionUser(req);
  const thread = await memberThread((await params).threadId, userId);
  const { rows } = await pool.query(
    `SELECT ${SCHEDULED_COLS} FROM "ScheduledMessage"
     WHERE "threadId" = $1 AND "senderId" = $2 AND "status" = 'pending'
     ORDER BY "sendAt", "id"`,
    [thread.id, userId],
  );
  return NextResponse.json({ scheduledMessages: rows.map(scheduled) });
});

export const POST = handle(async (req: Request, { params }: Ctx) => {
  const userId = await sessionUser(req);
  const thread = await memberThread((await params).threadId, userId);
  const body = await readJson(req);
  const text = checkBody(optString(body, 'body'));
  const sendAt = parseRfc3339(optString(body, 'sendAt'));
  if (!sendAt) throw invalid('invalid_send_at');
  const row = await inTx(isDryRun(req), async (c) => {
    const { rows } = await c.query(
      `INSERT INTO "ScheduledMessage" ("threadId", "senderId", "body", "sendAt")
       VALUES ($1, $2, $3, $4) RETURNING ${SCHEDULED_COLS}`,
      [thread.id, userId, text, sendAt],
    );
    return scheduled(rows[0]);
  });
  return NextResponse.json({ scheduledMessage: row }, { status: 201 });
});
