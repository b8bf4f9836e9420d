// Message history of a session or one chat: the newest `limit` messages,
// returned oldest first (legacy form), plus a cursor to the older ones.
import { NextResponse } from 'next/server';
import { pool } from '@/lib/db';
import { decodeCursor, encodeCursor, type Cursor } from '@/lib/cursor';
import { sessionUser } from '@/lib/identity';
import { visibleSession } from '@/lib/whatsapp/access';
import { badRequest, notFound, waHandle } from '@/lib/whatsapp/errors';
import { queryParam, required } from '@/lib/whatsapp/request';
import { MESSAGE_COLS, message } from '@/lib/whatsapp/rows';

export const dynamic = 'force-dynamic';

const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 500;

function parseLimit(raw: string | null): number {
  if (raw === null) return DEFAULT_LIMIT;
  if (!/^\d+$/.test(raw)) throw badRequest('Invalid limit');
  const n = Number(raw);
  if (n < 1 || n > MAX_LIMIT) throw badRequest('Invalid limit');
  return n;
}

export const GET = waHandle(async (req: Request) => {
  const userId = await sessionUser(req);
  const session = await visibleSession(userId, required(queryParam(req, 'sessionId'), 'sessionId'));
  // `jid` names the chat; `contactId` is the legacy way to name it (jid wins).
  let jid = queryParam(req, 'jid');
  const contactId = queryParam(req, 'contactId');
  if (jid === undefined && contactId !== undefined) {
    const { rows } = await pool.query(`SELECT "jid" FROM whatsapp_contacts WHERE "id" = $1 AND "sessionId" = $2`, [
      contactId,
      session.sessionId,
    ]);
    if (!rows[0]) throw notFound('Contact not found');
    jid = rows[0].jid as string;
  }
  const q = new URL(req.url).searchParams;
  const limit = parseLimit(q.get('limit'));
  let cursor: Cursor | undefined;
  const rawCursor = q.get('cursor');
  if (rawCursor !== null) {
    cursor = decodeCursor(rawCursor);
    if (!cursor) throw badRequest('Invalid cursor');
  }

  const { rows } = await pool.query(
    `SELECT ${MESSAGE_COLS} FROM whatsapp_messages
     WHERE "sessionId" = $1
       AND ($2::text IS NULL OR "remoteJid" = $2)
       AND ($3::timestamptz IS NULL OR ("timestamp", "id") < ($3, $4))
     ORDER BY "timestamp" DESC, "id" DESC
     LIMIT $5`,
    [session.sessionId, jid ?? null, cursor?.createdAt ?? null, cursor?.id ?? null, limit + 1],
  );
  const newest = rows.slice(0, limit).map(message);
  const oldest = newest[newest.length - 1];
  const nextCursor = rows.length > limit ? encodeCursor({ createdAt: oldest.timestamp, id: oldest.id }) : null;
  return NextResponse.json({ messages: newest.reverse(), nextCursor });
});
