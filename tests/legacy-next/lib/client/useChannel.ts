'use client';
// Subscribe to one channel while a component is mounted and route its events
// to the handlers (the latest ones: handlers may change every render). A
// refused subscription is dropped and tried again a little later, as the
// app's RealtimeProvider does; `subscribed` lets the caller catch up on what
// it may have missed while not subscribed.
import { useEffect, useRef, useState } from 'react';
import type { Channel } from 'pusher-js';
import { acquireRealtime, releaseRealtime } from './realtime';

export type ChannelState = 'connecting' | 'subscribed' | 'retrying' | 'off';
export type Handlers = Record<string, (data: never) => void>;

const RETRY_MS = 1000;
const MAX_RETRIES = 10;

export function useChannel(name: string | null, handlers: Handlers, bearer?: string): ChannelState {
  const latest = useRef(handlers);
  latest.current = handlers;
  const [state, setState] = useState<ChannelState>('connecting');

  useEffect(() => {
    if (!name) return;
    let stopped = false;
    let retries = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let unsubscribe = () => {};
    const connection = acquireRealtime(bearer);

    const subscribe = async () => {
      const pusher = await connection;
      if (stopped) return;
      if (!pusher) return setState('off');
      const channel: Channel = pusher.subscribe(name);
      unsubscribe = () => {
        channel.unbind_all();
        pusher.unsubscribe(name);
      };
      channel.bind_global((event: string, data: unknown) => {
        if (event === 'pusher:subscription_succeeded') {
          retries = 0;
          setState('subscribed');
        }
        if (event === 'pusher:subscription_error') {
          unsubscribe();
          if (retries++ < MAX_RETRIES) {
            setState('retrying');
            timer = setTimeout(subscribe, RETRY_MS);
          } else {
            setState('off');
          }
        }
        const handler = latest.current[event] as ((d: unknown) => void) | undefined;
        handler?.(data);
      });
    };
    void subscribe();
    return () => {
      stopped = true;
      clearTimeout(timer);
      unsubscribe();
      releaseRealtime(bearer);
    };
  }, [name, bearer]);

  return name ? state : 'off';
}
