// Baileys events from the worker, one batch per call, applied once: the batch
// id is recorded in the same transaction, so a replay changes nothing.
import { NextResponse } from 'next/server';
import { inTx } from '@/lib/db';
import { isDryRun, serviceCaller } from '@/lib/identity';
import { anySession, lockSession } from '@/lib/whatsapp/access';
import { waHandle } from '@/lib/whatsapp/errors';
import { emit, type WaEvent } from '@/lib/whatsapp/events';
import { applyBatch, parseBatch, type Applied } from '@/lib/whatsapp/ingest';
import { readBody, requiredString } from '@/lib/whatsapp/request';

export const dynamic = 'force-dynamic';

export const POST = waHandle(async (req: Request) => {
  await serviceCaller(req);
  const body = await readBody(req);
  const session = await anySession(requiredString(body, 'sessionId'));
  // The whole batch is validated before anything is applied.
  const batch = parseBatch(body);
  const dryRun = isDryRun(req);
  const result = await inTx(dryRun, async (c): Promise<{ applied: Applied; events: WaEvent[] } | null> => {
    // Batch row first, then the session lock (the same order on both backends).
    const fresh = await c.query(
      `INSERT INTO whatsapp_worker_batches ("sessionId", "batchId") VALUES ($1, $2)
       ON CONFLICT ("sessionId", "batchId") DO NOTHING RETURNING "batchId"`,
      [session.sessionId, batch.batchId],
    );
    if (!fresh.rows[0]) return null;
    const locked = await lockSession(c, session.sessionId);
    return applyBatch(c, locked, batch);
  });
  if (!result) {
    return NextResponse.json({
      success: true,
      duplicate: true,
      applied: { connection: 0, messages: 0, statuses: 0, contacts: 0 },
    });
  }
  await emit(dryRun, session, result.events);
  return NextResponse.json({ success: true, duplicate: false, applied: result.applied });
});
