'use client';
// One conversation: messages (older pages on scroll-up), composer, typing
// indicator, read receipts, presence, scheduled messages; live over the
// thread's presence channel.
import { useCallback, useEffect, useState } from 'react';
import { describe, loginOnUnauthorized } from '@/lib/client/api';
import type { ReadEvent, TypingEvent, UserMessageEvent } from '@/lib/client/types';
import { useChannel } from '@/lib/client/useChannel';
import { usePresence } from '@/lib/client/usePresence';
import { useReceipts } from '@/lib/client/useReceipts';
import { useThreadMessages } from '@/lib/client/useThreadMessages';
import { useTypingSender, useTypingWatch } from '@/lib/client/useTyping';
import { Composer } from './Composer';
import { ErrorBanner } from './ErrorBanner';
import { MessageList } from './MessageList';
import { ScheduledPanel } from './ScheduledPanel';

export type Person = { id: string; name: string };

type Props = { threadId: string; title: string; tenantId: string; channel: string; me: Person; others: Person[] };

export function ThreadView({ threadId, title, tenantId, channel, me, others }: Props) {
  const [error, setError] = useState<string | null>(null);
  const fail = useCallback((e: unknown) => {
    loginOnUnauthorized(e);
    setError(describe(e));
  }, []);
  const thread = useThreadMessages(threadId, me.id);
  const receipts = useReceipts(threadId, me.id, thread.messages, fail);
  const sender = useTypingSender(threadId, fail);
  const watch = useTypingWatch(me.id);
  const presence = usePresence();
  const { loadLatest } = thread;

  const state = useChannel(channel, {
    ...presence.handlers,
    'tenant-user-message': (e: UserMessageEvent) => {
      watch.clear(e.senderId);
      thread.receive(e);
    },
    'tenant-user-message-read': (e: ReadEvent) => receipts.onRead(e),
    typing: (e: TypingEvent) => watch.onTyping(e),
  });

  // First load, and a catch-up each time the channel is (re)subscribed.
  useEffect(() => {
    loadLatest().catch(fail);
  }, [loadLatest, fail, state]);

  const send = (body: string) => {
    sender.stop();
    setError(null);
    thread.send(body).catch(fail);
  };
  const typist = others.find((p) => p.id === watch.typing);

  return (
    <section className="thread" data-testid="thread" data-realtime={state}>
      <header className="thread-head">
        <h1>{title}</h1>
        <ul className="people">
          {others.map((p) => (
            <li key={p.id} data-testid="participant" data-online={presence.online.has(p.id)}>
              <span className={presence.online.has(p.id) ? 'dot on' : 'dot'} /> {p.name}
            </li>
          ))}
        </ul>
      </header>
      <ErrorBanner message={error} onClose={() => setError(null)} />
      <MessageList
        me={me.id}
        people={[me, ...others]}
        messages={thread.messages}
        pending={thread.pending}
        hasOlder={thread.hasOlder}
        loaded={thread.loaded}
        loadingOlder={thread.loadingOlder}
        onReachTop={() => thread.loadOlder().catch(fail)}
        onRetry={(p) => thread.retry(p).catch(fail)}
        isSeen={receipts.isSeen}
      />
      <p className="typing" data-testid="typing" hidden={!typist}>
        {typist ? `${typist.name} is typing…` : ''}
      </p>
      <Composer onSend={send} onTyping={sender.typed} />
      <ScheduledPanel threadId={threadId} tenantId={tenantId} me={me.id} onError={fail} />
    </section>
  );
}
