'use client';
// Who is on a presence channel, from pusher-js's members events.
import { useCallback, useState } from 'react';

type Members = { each: (f: (m: { id: string }) => void) => void };

export function usePresence() {
  const [online, setOnline] = useState<Set<string>>(new Set());
  const handlers = {
    'pusher:subscription_succeeded': useCallback((members: Members) => {
      const ids = new Set<string>();
      members.each((m) => ids.add(m.id));
      setOnline(ids);
    }, []),
    'pusher:member_added': useCallback((m: { id: string }) => setOnline((s) => new Set(s).add(m.id)), []),
    'pusher:member_removed': useCallback((m: { id: string }) => setOnline((s) => {
      const next = new Set(s);
      next.delete(m.id);
      return next;
    }), []),
  };
  return { online, handlers };
}
