// Mark a chat read: its unread counter back to 0.
import { NextResponse } from 'next/server';
import { inTx } from '@/lib/db';
import { isDryRun, sessionUser } from '@/lib/identity';
import { visibleSession } from '@/lib/whatsapp/access';
import { notFound, waHandle } from '@/lib/whatsapp/errors';
import { emit } from '@/lib/whatsapp/events';
import { readBody, requiredString } from '@/lib/whatsapp/request';

export const dynamic = 'force-dynamic';

export const POST = waHandle(async (req: Request) => {
  const userId = await sessionUser(req);
  const body = await readBody(req);
  const session = await visibleSession(userId, requiredString(body, 'sessionId'));
  const jid = requiredString(body, 'jid');
  const dryRun = isDryRun(req);
  const changed = await inTx(dryRun, async (c) => {
    const { rows } = await c.query(
      `SELECT "unreadCount" FROM whatsapp_contacts WHERE "sessionId" = $1 AND "jid" = $2 FOR UPDATE`,
      [session.sessionId, jid],
    );
    if (!rows[0]) throw notFound('Contact not found');
    if (rows[0].unreadCount === 0) return false;
    await c.query(
      `UPDATE whatsapp_contacts SET "unreadCount" = 0, "updatedAt" = now() WHERE "sessionId" = $1 AND "jid" = $2`,
      [session.sessionId, jid],
    );
    return true;
  });
  if (changed) await emit(dryRun, session, [{ event: 'contact.updated', data: { jid, unreadCount: 0 } }]);
  return NextResponse.json({ success: true });
});
