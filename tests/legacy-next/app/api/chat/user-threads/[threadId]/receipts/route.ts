import { NextResponse } from 'next/server';
import { inTx } from '@/lib/db';
import { handle, invalid, notFound } from '@/lib/errors';
import { isDryRun, sessionUser } from '@/lib/identity';
import { USER_MESSAGE_DELIVERED, USER_MESSAGE_READ, broadcast } from '@/lib/pusher';
import { memberThread, threadScope } from '@/lib/rows';
import { optString, readJson } from '@/lib/validate';

export const dynamic = 'force-dynamic';

type Ctx = { params: Promise<{ threadId: string }> };

export const POST = handle(async (req: Request, { params }: Ctx) => {
  const userId = await sessionUser(req);
  const thread = await memberThread((await params).threadId, userId);
  const body = await readJson(req);
  const messageId = optString(body, 'messageId');
  const kind = optString(body, 'type');
  if (!messageId) throw invalid('message_id_required');
  if (kind !== 'read' && kind !== 'delivered') throw invalid('invalid_receipt_type');
  const dryRun = isDryRun(req);
  const receipt = await inTx(dryRun, async (c) => {
    const { rows } = await c.query(
      `INSERT INTO "MessageReceipt" ("messageId", "userId", "readAt")
       SELECT m."id", $3, CASE WHEN $4 THEN CURRENT_TIMESTAMP END
       FROM "Message" m WHERE m."id" = $1 AND m."threadId" = $2
       ON CONFLICT ("messageId", "userId") DO UPDATE
         SET "readAt" = COALESCE("MessageReceipt"."readAt", EXCLUDED."readAt")
       RETURNING "messageId", "userId", "deliveredAt", "readAt"`,
      [messageId, thread.id, userId, kind === 'read'],
    );
    if (!rows[0]) throw notFound('message_not_found');
    if (kind === 'read') {
      await c.query(
        `UPDATE "ThreadParticipant" p SET "lastReadAt" = m."createdAt"
         FROM "Message" m
         WHERE m."id" = $1 AND p."threadId" = m."threadId" AND p."userId" = $2
           AND (p."lastReadAt" IS NULL OR p."lastReadAt" < m."createdAt")`,
        [messageId, userId],
      );
    }
    const r = rows[0];
    return { messageId: r.messageId, userId: r.userId, deliveredAt: r.deliveredAt, readAt: r.readAt };
  });
  const scope = await threadScope(thread);
  const messageIds = [receipt.messageId];
  if (kind === 'read' && receipt.readAt !== null) {
    await broadcast(dryRun, scope.channel, USER_MESSAGE_READ, {
      tenantId: scope.tenantId, threadKey: scope.key, readerId: receipt.userId, messageIds, readAt: receipt.readAt,
    });
  } else {
    await broadcast(dryRun, scope.channel, USER_MESSAGE_DELIVERED, {
      tenantId: scope.tenantId, threadKey: scope.key, recipientId: receipt.userId, messageIds, deliveredAt: receipt.deliveredAt,
    });
  }
  return NextResponse.json({ receipt });
});
