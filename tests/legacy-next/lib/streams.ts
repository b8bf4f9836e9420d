// SSE streams (issue 15), the Next side of src/handlers/streams*: the same
// framing, resume, heartbeat and cap. Events come from the shared
// `stream_events` table (recorded by both backends' writers through
// stream_event_append) via ONE `pg` client per process that LISTENs on
// `stream_events` and fans out to every open stream of that process.
//
// Per channel with subscribers the hub keeps a cursor and, on each
// notification, reads every row after it (a lost notification only delays).
// Each subscriber has a bounded queue (STREAM_BUFFER): one that falls that far
// behind is ended with `retry:` and resumes from its last id.
import { Client } from 'pg';
import { pool } from '@/lib/db';

const HEARTBEAT_MS = Number(process.env.STREAM_HEARTBEAT_MS ?? 15000);
const BUFFER = Number(process.env.STREAM_BUFFER ?? 256);
const PER_IDENTITY = Number(process.env.STREAM_PER_IDENTITY ?? 5);
const RETRY_MS = 1000;
const RETRY_AFTER_SECS = 5;
const RETENTION_SECS = 3600;
const BATCH = 200;

export type StreamEvent = { id: number; event: string; payload: string };

type Subscriber = { push: (e: StreamEvent) => void };
type Channel = { cursor: number; subs: Set<Subscriber>; busy: Promise<void> };
type Hub = { client: Promise<Client> | null; channels: Map<string, Channel>; open: Map<string, number> };

const g = globalThis as unknown as { legacyStreamHub?: Hub };
const hub: Hub = g.legacyStreamHub ?? (g.legacyStreamHub = { client: null, channels: new Map(), open: new Map() });

/** The channels that have a stream (the same rule as src/store/stream_events.rs). */
export function isStreamable(channel: string): boolean {
  return channel.startsWith('private-chatbot-') || (channel.startsWith('presence-tenant.') && channel.includes('.thread.'));
}

/** Record a published event (same JSON text as Soketi gets); failures are logged. */
export async function recordStreamEvent(channels: string[], event: string, payload: string): Promise<void> {
  for (const channel of channels.filter(isStreamable)) {
    try {
      await pool.query('SELECT stream_event_append($1, $2, $3)', [channel, event, payload]);
    } catch (e) {
      console.warn('stream event not recorded', { event, error: String(e) });
    }
  }
}

async function rowsAfter(channel: string, after: number, limit: number): Promise<StreamEvent[]> {
  const { rows } = await pool.query(
    `SELECT "id"::text AS id, "event", "payload" FROM "stream_events" WHERE "channel" = $1 AND "id" > $2 ORDER BY "id" LIMIT $3`,
    [channel, after, limit],
  );
  return rows.map((r: { id: string; event: string; payload: string }) => ({ id: Number(r.id), event: r.event, payload: r.payload }));
}

async function head(channel: string): Promise<number> {
  const { rows } = await pool.query(`SELECT COALESCE(max("id"), 0)::text AS id FROM "stream_events" WHERE "channel" = $1`, [channel]);
  return Number(rows[0].id);
}

async function prunedThrough(): Promise<number> {
  const { rows } = await pool.query(`SELECT "pruned_through"::text AS id FROM "stream_events_horizon"`);
  return Number(rows[0].id);
}

/** Catch one channel up, one dispatch at a time per channel. */
function dispatch(name: string): void {
  const ch = hub.channels.get(name);
  if (!ch) return;
  if (ch.subs.size === 0) {
    hub.channels.delete(name);
    return;
  }
  ch.busy = ch.busy.then(async () => {
    for (;;) {
      const rows = await rowsAfter(name, ch.cursor, 500);
      for (const r of rows) {
        ch.cursor = r.id;
        for (const s of ch.subs) s.push(r);
      }
      if (rows.length < 500) return;
    }
  }).catch((e) => console.warn('stream dispatch failed', String(e)));
}

function listener(): Promise<Client> {
  if (hub.client) return hub.client;
  const start = async () => {
    const client = new Client({ connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' });
    await client.connect();
    client.on('notification', (n) => {
      const payload = n.payload ?? '';
      dispatch(payload.slice(0, payload.lastIndexOf(':')));
    });
    client.on('error', (e) => {
      console.warn('stream listener failed; reconnecting', String(e));
      hub.client = null;
      // Reconnect, then catch every channel up (notifications were lost).
      setTimeout(() => listener().then(() => { for (const name of hub.channels.keys()) dispatch(name); }).catch(() => undefined), 1000);
    });
    await client.query('LISTEN stream_events');
    const prune = setInterval(() => {
      pool.query('SELECT stream_events_prune(make_interval(secs => $1))', [RETENTION_SECS]).catch((e) => console.warn('stream retention failed', String(e)));
    }, 60_000);
    prune.unref?.();
    return client;
  };
  hub.client = start().catch((e) => {
    hub.client = null;
    throw e;
  });
  return hub.client;
}

async function subscribe(name: string, sub: Subscriber): Promise<() => void> {
  await listener();
  let ch = hub.channels.get(name);
  if (!ch) {
    // The cursor is read after LISTEN; events after it reach the subscriber.
    const created: Channel = { cursor: 0, subs: new Set(), busy: Promise.resolve() };
    hub.channels.set(name, created);
    created.busy = head(name).then((h) => { created.cursor = Math.max(created.cursor, h); });
    ch = created;
  }
  ch.subs.add(sub);
  const joined = ch;
  return () => joined.subs.delete(sub);
}

/** A 429 at the cap, else a release function. */
function acquire(identity: string): (() => void) | null {
  const n = hub.open.get(identity) ?? 0;
  if (n >= PER_IDENTITY) return null;
  hub.open.set(identity, n + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = (hub.open.get(identity) ?? 1) - 1;
    if (left <= 0) hub.open.delete(identity);
    else hub.open.set(identity, left);
  };
}

export const frame = (e: StreamEvent) =>
  `id: ${e.id}\nevent: ${e.event}\n${e.payload.split('\n').map((l) => `data: ${l}\n`).join('')}\n`;

/** The resume id from `Last-Event-ID` or `?lastEventId=`; 'invalid' when not a non-negative integer. */
export function lastEventId(req: Request): number | null | 'invalid' {
  const raw = (req.headers.get('last-event-id') ?? new URL(req.url).searchParams.get('lastEventId') ?? '').trim();
  if (raw === '') return null;
  if (!/^\d+$/.test(raw)) return 'invalid';
  return Number(raw);
}

/** The SSE response of `channel` for `identity`, resuming after `last`. */
export async function openStream(req: Request, identity: string, channel: string, last: number | null): Promise<Response> {
  const release = acquire(identity);
  if (!release) {
    return Response.json(
      { error: 'rate_limited', reason: 'too_many_streams', limit: PER_IDENTITY, retry_after: RETRY_AFTER_SECS },
      { status: 429, headers: { 'retry-after': String(RETRY_AFTER_SECS) } },
    );
  }
  const enc = new TextEncoder();
  const queue: StreamEvent[] = [];
  let wake: (() => void) | null = null;
  let lagged = false;
  const sub: Subscriber = {
    push: (e) => {
      if (queue.length >= BUFFER) lagged = true;
      else queue.push(e);
      wake?.();
    },
  };
  let unsubscribe: () => void = () => undefined;
  let closed = false;
  const cleanup = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    release();
    wake?.();
  };
  try {
    unsubscribe = await subscribe(channel, sub);
  } catch (e) {
    release();
    throw e;
  }
  req.signal.addEventListener('abort', cleanup);
  let position: number;
  let backfill = false;
  let first: string;
  try {
    if (last !== null && last >= (await prunedThrough())) {
      position = last;
      backfill = true;
      first = `id: ${last}\n\n`;
    } else {
      position = await head(channel);
      first = last === null ? `id: ${position}\n\n` : `id: ${position}\nevent: reset\ndata: {}\n\n`;
    }
  } catch (e) {
    cleanup();
    throw e;
  }
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(enc.encode(first));
    },
    async pull(controller) {
      for (;;) {
        if (closed) return controller.close();
        if (backfill) {
          const rows = await rowsAfter(channel, position, BATCH).catch(() => null);
          if (rows === null) {
            controller.enqueue(enc.encode(`retry: ${RETRY_MS}\n\n`));
            cleanup();
            return controller.close();
          }
          backfill = rows.length === BATCH;
          if (rows.length > 0) {
            position = rows[rows.length - 1].id;
            controller.enqueue(enc.encode(rows.map(frame).join('')));
            return;
          }
          continue;
        }
        if (lagged) {
          controller.enqueue(enc.encode(`retry: ${RETRY_MS}\n\n`));
          cleanup();
          return controller.close();
        }
        const fresh = queue.splice(0).filter((e) => e.id > position);
        if (fresh.length > 0) {
          position = fresh[fresh.length - 1].id;
          controller.enqueue(enc.encode(fresh.map(frame).join('')));
          return;
        }
        const beat = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(true), HEARTBEAT_MS);
          wake = () => {
            clearTimeout(timer);
            resolve(false);
          };
        });
        wake = null;
        if (beat && !closed) {
          controller.enqueue(enc.encode(': hb\n\n'));
          return;
        }
      }
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(body, {
    headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' },
  });
}
