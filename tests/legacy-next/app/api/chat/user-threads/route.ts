import { NextResponse } from 'next/server';
import { pool } from '@/lib/db';
import { handle } from '@/lib/errors';
import { sessionUser } from '@/lib/identity';

export const dynamic = 'force-dynamic';

export const GET = handle(async (req: Request) => {
  const userId = await sessionUser(req);
  const { rows } = await pool.query(
    `SELECT t."id", t."tenantId", t."title", t."createdAt",
       (SELECT count(*) FROM "Message" u
         WHERE u."threadId" = t."id" AND u."senderId" <> $1
           AND (p."lastReadAt" IS NULL OR u."createdAt" > p."lastReadAt")) AS "unreadCount",
       m."id" AS "mId", m."senderId" AS "mSenderId", m."body" AS "mBody",
       m."clientMessageId" AS "mClientMessageId", m."createdAt" AS "mCreatedAt"
     FROM "ThreadParticipant" p
     JOIN "Thread" t ON t."id" = p."threadId"
     LEFT JOIN LATERAL (
       SELECT * FROM "Message" x WHERE x."threadId" = t."id"
       ORDER BY x."createdAt" DESC, x."id" DESC LIMIT 1) m ON true
     WHERE p."userId" = $1
     ORDER BY COALESCE(m."createdAt", t."createdAt") DESC, t."id" DESC`,
    [userId],
  );
  const threads = rows.map((r) => ({
    id: r.id,
    tenantId: r.tenantId,
    title: r.title,
    createdAt: r.createdAt,
    lastMessage: r.mId === null ? null : {
      id: r.mId, threadId: r.id, senderId: r.mSenderId, body: r.mBody, clientMessageId: r.mClientMessageId, createdAt: r.mCreatedAt,
    },
    unreadCount: Number(r.unreadCount),
  }));
  return NextResponse.json({ threads });
});
