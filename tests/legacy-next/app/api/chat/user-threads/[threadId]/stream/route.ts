// SSE stream of a user thread (issue 15): the events of its thread channel;
// the same participant check as the messages route.
import { handle, invalid } from '@/lib/errors';
import { sessionUser } from '@/lib/identity';
import { memberThread, threadScope } from '@/lib/rows';
import { lastEventId, openStream } from '@/lib/streams';

export const dynamic = 'force-dynamic';
export const runtime = 'nodejs';

type Ctx = { params: Promise<{ threadId: string }> };

export const GET = handle(async (req: Request, { params }: Ctx) => {
  const userId = await sessionUser(req);
  const thread = await memberThread((await params).threadId, userId);
  const scope = await threadScope(thread);
  const last = lastEventId(req);
  if (last === 'invalid') throw invalid('invalid_last_event_id');
  return openStream(req, `session:${userId}`, scope.channel, last);
});
