// SSE stream of a chatbot conversation (issue 15): the events of
// private-chatbot-{conversationId}; the same owner check as the messages route.
import { pool } from '@/lib/db';
import { handle, invalid, notFound } from '@/lib/errors';
import { chatbotVisitor } from '@/lib/identity';
import { chatbotChannel } from '@/lib/pusher';
import { lastEventId, openStream } from '@/lib/streams';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

type Ctx = { params: Promise<{ conversationId: string }> };

export const GET = handle(async (req: Request, { params }: Ctx) => {
  const { tenantId, issuer, visitorId } = await chatbotVisitor(req);
  const { rows } = await pool.query(
    `SELECT "id" FROM "ChatbotSession" WHERE "id" = $1 AND "tenantId" = $2 AND "visitorId" = $3 AND "issuer" = $4`,
    [(await params).conversationId, tenantId, visitorId, issuer],
  );
  if (!rows[0]) throw notFound('conversation_not_found');
  const last = lastEventId(req);
  if (last === 'invalid') throw invalid('invalid_last_event_id');
  return openStream(req, `chatbot:${issuer}:${tenantId}:${visitorId}`, chatbotChannel(rows[0].id), last);
});
