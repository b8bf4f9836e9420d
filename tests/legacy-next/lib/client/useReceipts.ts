'use client';
// Read receipts, both ways: mark the newest message from the others as read
// once it is on screen, and remember up to which of our messages the others
// have read (from `tenant-user-message-read` events).
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { api } from './api';
import type { Message, ReadEvent } from './types';

export function useReceipts(threadId: string, me: string, messages: Message[], onError: (e: unknown) => void) {
  const url = `/api/chat/user-threads/${encodeURIComponent(threadId)}/receipts`;
  const lastMarked = useRef<string | null>(null);
  // Ids the others reported read. A report can arrive before our own send's
  // answer (the server broadcasts first), so it is matched at render time.
  const [read, setRead] = useState<ReadonlySet<string>>(new Set());
  const seenUpTo = useMemo(
    () => Math.max(0, ...messages.filter((m) => read.has(m.id)).map((m) => Date.parse(m.createdAt))),
    [messages, read],
  );

  useEffect(() => {
    const newest = [...messages].reverse().find((m) => m.senderId !== me);
    if (!newest || newest.id === lastMarked.current) return;
    lastMarked.current = newest.id;
    api(url, { method: 'POST', body: { messageId: newest.id, type: 'read' } }).catch(onError);
  }, [messages, me, url, onError]);

  const onRead = useCallback((e: ReadEvent) => {
    if (e.readerId !== me) setRead((r) => new Set([...r, ...e.messageIds]));
  }, [me]);

  const isSeen = useCallback((m: Message) => m.senderId === me && Date.parse(m.createdAt) <= seenUpTo, [me, seenUpTo]);
  return { onRead, isSeen };
}
