'use client';
// Typing indicator, both ways: tell the thread while the user types (at most
// every few seconds, and "stopped" after a pause or a send), and show who
// else is typing from the thread's `typing` events (hidden again after a
// while if their "stopped" never comes).
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from './api';
import type { TypingEvent } from './types';

const RESEND_MS = 2500;
const IDLE_MS = 3000;
const SHOWN_MS = 6000;

export function useTypingSender(threadId: string, onError: (e: unknown) => void) {
  const url = `/api/chat/user-threads/${encodeURIComponent(threadId)}/typing`;
  const lastSent = useRef(0);
  const idle = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const tell = useCallback((isTyping: boolean) => {
    api(url, { method: 'POST', body: { isTyping } }).catch(onError);
  }, [url, onError]);

  const stop = useCallback(() => {
    clearTimeout(idle.current);
    if (lastSent.current === 0) return;
    lastSent.current = 0;
    tell(false);
  }, [tell]);

  const typed = useCallback(() => {
    const now = Date.now();
    if (now - lastSent.current > RESEND_MS) {
      lastSent.current = now;
      tell(true);
    }
    clearTimeout(idle.current);
    idle.current = setTimeout(stop, IDLE_MS);
  }, [tell, stop]);

  useEffect(() => () => clearTimeout(idle.current), []);
  return { typed, stop };
}

/** Who (other than `me`) is typing now, and the handler for `typing` events. */
export function useTypingWatch(me: string) {
  const [typing, setTyping] = useState<string | null>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);

  const onTyping = useCallback((e: TypingEvent) => {
    if (e.userId === me) return;
    clearTimeout(timer.current);
    if (!e.isTyping) return setTyping(null);
    setTyping(e.userId);
    timer.current = setTimeout(() => setTyping(null), SHOWN_MS);
  }, [me]);

  /** A message from them ends their typing. */
  const clear = useCallback((userId: string) => {
    setTyping((t) => (t === userId ? null : t));
  }, []);

  useEffect(() => () => clearTimeout(timer.current), []);
  return { typing, onTyping, clear };
}
