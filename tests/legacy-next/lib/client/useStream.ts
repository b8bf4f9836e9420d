'use client';
// Follow one SSE stream while a component is mounted, for clients that cannot
// hold a Pusher socket: `new EventSource(url)` with the token in the query
// (EventSource cannot set headers). The browser reconnects on its own after
// the server ends the stream (a `retry:` hint, a flip that migrates streams)
// and resumes with `Last-Event-ID`, so nothing is missed or repeated.
import { useEffect, useRef, useState } from 'react';
import type { ChannelState, Handlers } from './useChannel';

export function useStream(url: string | null, handlers: Handlers): ChannelState {
  const latest = useRef(handlers);
  latest.current = handlers;
  const [state, setState] = useState<ChannelState>('connecting');

  useEffect(() => {
    if (!url) return;
    const source = new EventSource(url);
    source.onopen = () => setState('subscribed');
    // Ended by the server or the network: the browser retries by itself.
    source.onerror = () => setState(source.readyState === EventSource.CLOSED ? 'off' : 'retrying');
    const listeners = Object.keys(latest.current).map((event) => {
      const listener = (e: MessageEvent<string>) => {
        const handler = latest.current[event] as ((data: unknown) => void) | undefined;
        handler?.(JSON.parse(e.data));
      };
      source.addEventListener(event, listener);
      return [event, listener] as const;
    });
    return () => {
      for (const [event, listener] of listeners) source.removeEventListener(event, listener);
      source.close();
    };
  }, [url]);

  return state;
}
