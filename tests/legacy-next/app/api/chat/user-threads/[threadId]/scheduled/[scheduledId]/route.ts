import { NextResponse } from 'next/server';
import { inTx } from '@/lib/db';
import { conflict, handle, notFound } from '@/lib/errors';
import { isDryRun, sessionUser } from '@/lib/identity';
import { SCHEDULED_COLS, memberThread, scheduled } from '@/lib/rows';

export const dynamic = 'force-dynamic';

type Ctx = { params: Promise<{ threadId: string; scheduledId: string }> };

export const DELETE = handle(async (req: Request, { params }: Ctx) => {
  const userId = await sessionUser(req);
  const { threadId, scheduledId } = await params;
  const thread = await memberThread(threadId, userId);
  const row = await inTx(isDryRun(req), async (c) => {
    const done = await c.query(
      `UPDATE "ScheduledMessage" SET "status" = 'cancelled'
       WHERE "id" = $1 AND "threadId" = $2 AND "senderId" = $3 AND "status" = 'pending'
       RETURNING ${SCHEDULED_COLS}`,
      [scheduledId, thread.id, userId],
    );
    if (done.rows[0]) return scheduled(done.rows[0]);
    const exists = await c.query(
      `SELECT "status" FROM "ScheduledMessage" WHERE "id" = $1 AND "threadId" = $2 AND "senderId" = $3`,
      [scheduledId, thread.id, userId],
    );
    throw exists.rows[0] ? conflict('scheduled_not_pending') : notFound('scheduled_not_found');
  });
  return NextResponse.json({ scheduledMessage: row });
});
