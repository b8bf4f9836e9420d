// The worker takes queued sends (and ones whose lease ran out) with a lease.
import { NextResponse } from 'next/server';
import { inTx } from '@/lib/db';
import { isDryRun, serviceCaller } from '@/lib/identity';
import { waHandle } from '@/lib/whatsapp/errors';
import { claimItem, OUTBOX_COLS, type OutboxRow } from '@/lib/whatsapp/outbox';
import { optionalInt, readBody, requiredString } from '@/lib/whatsapp/request';

export const dynamic = 'force-dynamic';

export const POST = waHandle(async (req: Request) => {
  await serviceCaller(req);
  const body = await readBody(req);
  const workerId = requiredString(body, 'workerId');
  const limit = optionalInt(body, 'limit', 1, 100, 'Invalid limit') ?? 10;
  const leaseSeconds = optionalInt(body, 'leaseSeconds', 5, 600, 'Invalid leaseSeconds') ?? 60;
  const rows = await inTx(isDryRun(req), async (c) => {
    const { rows } = await c.query(
      `WITH picked AS (
         SELECT o."id" FROM whatsapp_outbox o
         JOIN whatsapp_sessions s ON s."sessionId" = o."sessionId"
         WHERE s."status" = 'CONNECTED'
           AND (o."status" = 'queued' OR (o."status" = 'claimed' AND o."leaseUntil" < now()))
         ORDER BY o."createdAt", o."id"
         LIMIT $1
         FOR UPDATE OF o SKIP LOCKED
       ), claimed AS (
         UPDATE whatsapp_outbox o
         SET "status" = 'claimed', "leaseOwner" = $2, "leaseUntil" = now() + make_interval(secs => $3),
             "attempts" = o."attempts" + 1, "updatedAt" = now()
         FROM picked WHERE o."id" = picked."id"
         RETURNING o.*
       )
       SELECT ${OUTBOX_COLS} FROM claimed ORDER BY "createdAt", "id"`,
      [limit, workerId, leaseSeconds],
    );
    return rows as OutboxRow[];
  });
  return NextResponse.json({ items: rows.map(claimItem) });
});
