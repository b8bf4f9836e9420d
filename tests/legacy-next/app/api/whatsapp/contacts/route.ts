// Contacts (chats) of a session, most recent conversation first.
import { NextResponse } from 'next/server';
import { pool } from '@/lib/db';
import { sessionUser } from '@/lib/identity';
import { visibleSession } from '@/lib/whatsapp/access';
import { waHandle } from '@/lib/whatsapp/errors';
import { queryParam, required } from '@/lib/whatsapp/request';
import { CONTACT_COLS, contact } from '@/lib/whatsapp/rows';

export const dynamic = 'force-dynamic';

export const GET = waHandle(async (req: Request) => {
  const userId = await sessionUser(req);
  const session = await visibleSession(userId, required(queryParam(req, 'sessionId'), 'sessionId'));
  const { rows } = await pool.query(
    `SELECT ${CONTACT_COLS} FROM whatsapp_contacts WHERE "sessionId" = $1
     ORDER BY "lastMessageAt" DESC NULLS LAST, "jid" ASC`,
    [session.sessionId],
  );
  return NextResponse.json({ contacts: rows.map(contact) });
});
