'use client';
// A thread's messages: the newest page first, older pages as the user scrolls
// up (the route's `cursor`), sends with a client message id (a failed send is
// retried with the same id, so it is stored once), and messages arriving live.
// Each message is held once, by id, in (createdAt, id) order.
import { useCallback, useRef, useState } from 'react';
import { api } from './api';
import { newClientMessageId } from './ids';
import type { Message, UserMessageEvent } from './types';

export type Pending = { clientMessageId: string; body: string; failed: boolean };
type Page = { messages: Message[]; nextCursor: string | null };

const PAGE = 20;
const at = (m: Message) => Date.parse(m.createdAt);

function merge(list: Message[], incoming: Message[]): Message[] {
  const byId = new Map(list.map((m) => [m.id, m]));
  for (const m of incoming) byId.set(m.id, m);
  return [...byId.values()].sort((a, b) => at(a) - at(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

export function useThreadMessages(threadId: string, me: string) {
  const base = `/api/chat/user-threads/${encodeURIComponent(threadId)}/messages`;
  const [messages, setMessages] = useState<Message[]>([]);
  const [pending, setPending] = useState<Pending[]>([]);
  // undefined: not loaded yet; null: the oldest message is shown.
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const pendingRef = useRef(pending);
  pendingRef.current = pending;

  /** The newest page (first load, and catching up after a resubscribe). */
  const loadLatest = useCallback(async () => {
    const page = await api<Page>(`${base}?limit=${PAGE}`);
    setMessages((list) => merge(list, page.messages));
    setCursor((c) => (c === undefined ? page.nextCursor : c));
  }, [base]);

  const loadOlder = useCallback(async () => {
    if (!cursor || loadingOlder) return;
    setLoadingOlder(true);
    try {
      const page = await api<Page>(`${base}?limit=${PAGE}&cursor=${encodeURIComponent(cursor)}`);
      setMessages((list) => merge(list, page.messages));
      setCursor(page.nextCursor);
    } finally {
      setLoadingOlder(false);
    }
  }, [base, cursor, loadingOlder]);

  const post = useCallback(async (p: Pending) => {
    setPending((list) => list.map((x) => (x.clientMessageId === p.clientMessageId ? { ...x, failed: false } : x)));
    try {
      const { message } = await api<{ message: Message }>(base, {
        method: 'POST',
        body: { body: p.body, clientMessageId: p.clientMessageId },
      });
      setMessages((list) => merge(list, [message]));
      setPending((list) => list.filter((x) => x.clientMessageId !== p.clientMessageId));
    } catch (e) {
      setPending((list) => list.map((x) => (x.clientMessageId === p.clientMessageId ? { ...x, failed: true } : x)));
      throw e;
    }
  }, [base]);

  const send = useCallback((body: string) => {
    const p: Pending = { clientMessageId: newClientMessageId(), body, failed: false };
    setPending((list) => [...list, p]);
    return post(p);
  }, [post]);

  /** A `tenant-user-message` event. Our own send in flight is shown by its answer. */
  const receive = useCallback((e: UserMessageEvent) => {
    if (e.senderId === me && pendingRef.current.some((p) => p.body === e.content)) return;
    const m: Message = { id: e.id, threadId, senderId: e.senderId, body: e.content, clientMessageId: null, createdAt: e.createdAt };
    setMessages((list) => merge(list, [m]));
  }, [me, threadId]);

  return { messages, pending, hasOlder: !!cursor, loaded: cursor !== undefined, loadingOlder, loadLatest, loadOlder, send, retry: post, receive };
}
