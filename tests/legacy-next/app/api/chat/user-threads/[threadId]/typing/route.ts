import { handle, invalid } from '@/lib/errors';
import { isDryRun, sessionUser } from '@/lib/identity';
import { broadcast } from '@/lib/pusher';
import { memberThread, threadScope } from '@/lib/rows';
import { optBool, readJson } from '@/lib/validate';

export const dynamic = 'force-dynamic';

type Ctx = { params: Promise<{ threadId: string }> };

export const POST = handle(async (req: Request, { params }: Ctx) => {
  const userId = await sessionUser(req);
  const thread = await memberThread((await params).threadId, userId);
  const body = await readJson(req);
  const isTyping = optBool(body, 'isTyping');
  if (isTyping === undefined) throw invalid('invalid_is_typing');
  const scope = await threadScope(thread);
  await broadcast(isDryRun(req), scope.channel, 'typing', { threadId: thread.id, userId, isTyping });
  return new Response(null, { status: 204 });
});
