// Ask the worker to (re)connect a session: it picks up CONNECTING rows and
// reports progress through worker/events, so nothing is emitted here.
import { NextResponse } from 'next/server';
import { inTx } from '@/lib/db';
import { isDryRun, sessionUser } from '@/lib/identity';
import { visibleSession } from '@/lib/whatsapp/access';
import { waHandle } from '@/lib/whatsapp/errors';
import { readBody, requiredString } from '@/lib/whatsapp/request';

export const dynamic = 'force-dynamic';

export const POST = waHandle(async (req: Request) => {
  const userId = await sessionUser(req);
  const body = await readBody(req);
  const session = await visibleSession(userId, requiredString(body, 'sessionId'));
  // A name only replaces the current one when it is a non-blank string.
  const name = typeof body.name === 'string' && body.name.trim() !== '' ? body.name : null;
  await inTx(isDryRun(req), (c) =>
    c.query(
      `UPDATE whatsapp_sessions
       SET "status" = $2::"WhatsAppSessionStatus", "isActive" = true, "errorMessage" = NULL,
           "name" = COALESCE($3, "name"), "updatedAt" = now()
       WHERE "sessionId" = $1`,
      [session.sessionId, 'CONNECTING', name],
    ),
  );
  return NextResponse.json({ success: true, message: 'Connection initiated' });
});
