// Disconnect a session. Fixed from legacy: the row really leaves the worker's
// list (DISCONNECTED, inactive), so the worker closes its socket.
import { NextResponse } from 'next/server';
import { inTx } from '@/lib/db';
import { isDryRun, sessionUser } from '@/lib/identity';
import { visibleSession } from '@/lib/whatsapp/access';
import { waHandle } from '@/lib/whatsapp/errors';
import { emit } from '@/lib/whatsapp/events';
import { readBody, requiredString } from '@/lib/whatsapp/request';

export const dynamic = 'force-dynamic';

export const POST = waHandle(async (req: Request) => {
  const userId = await sessionUser(req);
  const body = await readBody(req);
  const session = await visibleSession(userId, requiredString(body, 'sessionId'));
  const dryRun = isDryRun(req);
  await inTx(dryRun, (c) =>
    c.query(
      `UPDATE whatsapp_sessions
       SET "status" = $2::"WhatsAppSessionStatus", "isActive" = false, "metadata" = "metadata" - 'qr', "updatedAt" = now()
       WHERE "sessionId" = $1`,
      [session.sessionId, 'DISCONNECTED'],
    ),
  );
  await emit(dryRun, session, [{ event: 'connection.update', data: { status: 'disconnected' } }]);
  return NextResponse.json({ success: true, message: 'Disconnected' });
});
