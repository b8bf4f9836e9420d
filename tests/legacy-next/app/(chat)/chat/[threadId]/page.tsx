// A conversation: who is in it and its realtime channel come from the
// server (the session's user must be a participant); the rest is client-side.
import { notFound, redirect } from 'next/navigation';
import { getServerSession } from 'next-auth';
import { ThreadView } from '@/components/chat/ThreadView';
import { authOptions } from '@/lib/auth';
import { pool } from '@/lib/db';
import { ApiError } from '@/lib/errors';
import { memberThread, threadScope } from '@/lib/rows';

export const dynamic = 'force-dynamic';
export const metadata = { title: 'Conversation' };

type Props = { params: Promise<{ threadId: string }> };

export default async function ThreadPage({ params }: Props) {
  const { threadId } = await params;
  const session = await getServerSession(authOptions);
  const me = (session?.user as { id?: string } | undefined)?.id;
  if (!me) redirect(`/login?callbackUrl=${encodeURIComponent(`/chat/${threadId}`)}`);
  const thread = await memberThread(threadId, me).catch((e) => {
    if (e instanceof ApiError) notFound();
    throw e;
  });
  const scope = await threadScope(thread);
  const { rows } = await pool.query(
    `SELECT t."title", u."id", COALESCE(u."name", u."email") AS "name"
     FROM "Thread" t JOIN "ThreadParticipant" p ON p."threadId" = t."id" JOIN "User" u ON u."id" = p."userId"
     WHERE t."id" = $1 ORDER BY u."id"`,
    [thread.id],
  );
  const people = rows.map((r) => ({ id: r.id as string, name: r.name as string }));
  return (
    <main>
      <ThreadView
        threadId={thread.id}
        title={rows[0]?.title ?? people.filter((p) => p.id !== me).map((p) => p.name).join(', ')}
        tenantId={scope.tenantId}
        channel={scope.channel}
        me={people.find((p) => p.id === me) ?? { id: me, name: 'You' }}
        others={people.filter((p) => p.id !== me)}
      />
    </main>
  );
}
