'use client';
// The scrolling message list: stays at the bottom as messages arrive (unless
// the user scrolled up to read), asks for older ones when scrolled to the top
// and keeps the reading position when they are put above.
import { useLayoutEffect, useRef } from 'react';
import type { Message } from '@/lib/client/types';
import type { Pending } from '@/lib/client/useThreadMessages';
import { MessageItem } from './MessageItem';

type Props = {
  me: string;
  people: { id: string; name: string }[];
  messages: Message[];
  pending: Pending[];
  hasOlder: boolean;
  loaded: boolean;
  loadingOlder: boolean;
  onReachTop: () => void;
  onRetry: (p: Pending) => void;
  isSeen: (m: Message) => boolean;
};

const NEAR_PX = 48;

export function MessageList(p: Props) {
  const box = useRef<HTMLDivElement>(null);
  const before = useRef({ height: 0, top: 0, first: '' as string | undefined, atBottom: true });

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const was = before.current;
    const first = p.messages[0]?.id;
    if (was.first && first !== was.first && !was.atBottom) {
      el.scrollTop = el.scrollHeight - was.height + was.top; // older page put above
    } else if (was.atBottom) {
      el.scrollTop = el.scrollHeight;
    }
    before.current = { height: el.scrollHeight, top: el.scrollTop, first, atBottom: was.atBottom };
  }, [p.messages, p.pending]);

  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_PX;
    before.current = { ...before.current, height: el.scrollHeight, top: el.scrollTop, atBottom };
    if (el.scrollTop < NEAR_PX && p.hasOlder && !p.loadingOlder) p.onReachTop();
  };
  const name = (id: string) => p.people.find((x) => x.id === id)?.name ?? id;

  return (
    <div className="messages" data-testid="messages" ref={box} onScroll={onScroll}>
      {p.loaded && !p.hasOlder && <p className="history-start" data-testid="history-start">Beginning of the conversation</p>}
      {p.loadingOlder && <p className="loading" data-testid="loading-older">Loading earlier messages…</p>}
      {p.messages.map((m) => (
        <MessageItem key={m.id} mine={m.senderId === p.me} author={name(m.senderId)} message={m} seen={p.isSeen(m)} />
      ))}
      {p.pending.map((x) => (
        <div key={x.clientMessageId} className="message mine pending" data-testid="pending-message" data-failed={x.failed}>
          <span className="body">{x.body}</span>
          {x.failed ? <button type="button" onClick={() => p.onRetry(x)}>Retry</button> : <small>Sending…</small>}
        </div>
      ))}
    </div>
  );
}
