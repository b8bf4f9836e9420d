import { NextResponse } from 'next/server';
import { inTx, pool } from '@/lib/db';
import { handle } from '@/lib/errors';
import { isDryRun, sessionUser } from '@/lib/identity';
import { page, parsePaging } from '@/lib/cursor';
import { USER_MESSAGE, broadcast, recipient } from '@/lib/pusher';
import { MESSAGE_COLS, memberThread, message, sendMessage, threadScope } from '@/lib/rows';
import { checkBody, checkClientMessageId, optString, readJson } from '@/lib/validate';

export const dynamic = 'force-dynamic';

type Ctx = { params: Promise<{ threadId: string }> };

export const GET = handle(async (req: Request, { params }: Ctx) => {
  const userId = await sessionUser(req);
  const thread = await memberThread((await params).threadId, userId);
  const { cursor, limit } = parsePaging(req.url);
  const { rows } = await pool.query(
    `SELECT ${MESSAGE_COLS} FROM "Message"
     WHERE "threadId" = $1 AND ($2::timestamptz IS NULL OR ("createdAt", "id") < ($2, $3))
     ORDER BY "createdAt" DESC, "id" DESC
     LIMIT $4`,
    [thread.id, cursor?.createdAt ?? null, cursor?.id ?? null, limit + 1],
  );
  const { items, nextCursor } = page(rows.map(message), limit);
  return NextResponse.json({ messages: items, nextCursor });
});

export const POST = handle(async (req: Request, { params }: Ctx) => {
  const userId = await sessionUser(req);
  const thread = await memberThread((await params).threadId, userId);
  const body = await readJson(req);
  const text = checkBody(optString(body, 'body'));
  const key = checkClientMessageId(optString(body, 'clientMessageId'));
  const scope = await threadScope(thread);
  const dryRun = isDryRun(req);
  const [msg, created] = await inTx(dryRun, (c) => sendMessage(c, thread.id, userId, text, key));
  if (!created) return NextResponse.json({ message: msg }, { status: 200 });
  await broadcast(dryRun, scope.channel, USER_MESSAGE, {
    id: msg.id, tenantId: scope.tenantId, threadKey: scope.key, senderId: msg.senderId,
    recipientId: recipient(scope.participants, msg.senderId), content: msg.body, createdAt: msg.createdAt,
  });
  return NextResponse.json({ message: msg }, { status: 201 });
});
