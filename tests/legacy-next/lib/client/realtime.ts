// The realtime connection (pusher-js to the Pusher-protocol server), as the
// app's RealtimeProvider builds it: config from /api/chat/realtime/config
// (the {success, config} envelope; without success realtime is off, silently),
// channels authorized by /api/chat/realtime/auth. One connection per identity:
// the session cookie, or a chat widget's bearer token.
import Pusher from 'pusher-js';

type Config = { key: string; host: string; port: number; useTLS: boolean; cluster?: string };

// Per identity: the connection and how many mounted components use it. The
// last one to leave disconnects, so the next page that needs realtime fetches
// the config again (a changed host or key is picked up without a reload).
const clients = new Map<string, { client: Promise<Pusher | null>; users: number }>();

async function connect(bearer: string | undefined): Promise<Pusher | null> {
  const headers: Record<string, string> = bearer ? { Authorization: `Bearer ${bearer}` } : {};
  const res = await fetch('/api/chat/realtime/config', { headers, credentials: 'same-origin', cache: 'no-store' });
  const body = await res.json().catch(() => null);
  if (!body || body.success !== true || !body.config) return null;
  const c = body.config as Config;
  return new Pusher(c.key, {
    cluster: c.cluster ?? 'mt1',
    wsHost: c.host,
    wsPort: c.port,
    wssPort: c.port,
    forceTLS: c.useTLS,
    enabledTransports: ['ws', 'wss'],
    enableStats: false,
    authEndpoint: '/api/chat/realtime/auth',
    auth: { headers },
  });
}

/** The shared connection for this identity (null when realtime is not configured); pair with release(). */
export function acquireRealtime(bearer?: string): Promise<Pusher | null> {
  const key = bearer ?? 'session';
  let entry = clients.get(key);
  if (!entry) {
    const client = connect(bearer).catch(() => {
      clients.delete(key); // a failed config fetch is tried again by the next subscriber
      return null;
    });
    entry = { client, users: 0 };
    clients.set(key, entry);
  }
  entry.users += 1;
  return entry.client;
}

export function releaseRealtime(bearer?: string): void {
  const key = bearer ?? 'session';
  const entry = clients.get(key);
  if (!entry || --entry.users > 0) return;
  clients.delete(key);
  // pusher-js sends (the unsubscribes just made) a tick later: close after them.
  void entry.client.then((p) => setTimeout(() => p?.disconnect(), 0));
}
