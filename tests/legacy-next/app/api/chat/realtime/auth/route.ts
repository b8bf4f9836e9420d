// Pusher channel authorization + user sign-in with the legacy rules, statuses
// and {error} bodies (the same table as src/handlers/realtime.rs; each rule is
// marked legacy or fix in contracts/legacy-api.yaml).
import { NextResponse } from 'next/server';
import { pool } from '@/lib/db';
import { ApiError } from '@/lib/errors';
import { asVisitor, identify, type Identity } from '@/lib/identity';
import { pusher, threadKey } from '@/lib/pusher';
import { realtimeConfig } from '@/lib/realtime';

export const dynamic = 'force-dynamic';

class AuthError extends Error {
  constructor(public status: number, message: string) {
    super(message);
  }
}
const UNAUTHORIZED = () => new AuthError(401, 'Unauthorized');
const INVALID = () => new AuthError(400, 'Invalid auth payload');
const FORBIDDEN = () => new AuthError(403, 'Forbidden channel');
const NOT_CONFIGURED = () => new AuthError(503, 'Realtime not configured');

type AuthRequest = { socket_id?: string; channel_name?: string };

async function parse(req: Request): Promise<AuthRequest> {
  const type = (req.headers.get('content-type') ?? '').trimStart().toLowerCase();
  const text = await req.text();
  if (type.startsWith('application/json')) {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw INVALID();
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw INVALID();
    const o = v as Record<string, unknown>;
    const out: AuthRequest = {};
    for (const k of ['socket_id', 'channel_name'] as const) {
      if (o[k] === undefined || o[k] === null) continue;
      if (typeof o[k] !== 'string') throw INVALID();
      out[k] = o[k] as string;
    }
    return out;
  }
  const form = new URLSearchParams(text);
  const out: AuthRequest = {};
  for (const k of ['socket_id', 'channel_name'] as const) {
    const all = form.getAll(k);
    if (all.length > 1) throw INVALID();
    if (all.length === 1) out[k] = all[0];
  }
  return out;
}

/** A session user with their tenants ("Membership"), or a chatbot visitor; else 401. */
type Asker = { kind: 'user'; tenants: string[] } | { kind: 'visitor' };

async function asker(id: Identity): Promise<Asker> {
  if (id.scheme === 'session') {
    const { rows } = await pool.query(
      `SELECT "tenantId" FROM "Membership" WHERE "userId" = $1 ORDER BY "tenantId"`, [id.userId]);
    if (rows.length === 0) throw UNAUTHORIZED();
    return { kind: 'user', tenants: rows.map((r) => r.tenantId as string) };
  }
  if (asVisitor(id) !== null) return { kind: 'visitor' };
  throw UNAUTHORIZED();
}

async function email(id: Identity): Promise<string | null> {
  const { rows } = await pool.query(`SELECT "email" FROM "User" WHERE "id" = $1`, [id.userId]);
  return rows[0]?.email ?? null;
}

async function exists(sql: string, params: string[]): Promise<boolean> {
  const { rows } = await pool.query(sql, params);
  return rows.length > 0;
}

/** `{id}.{rest}`, both non-empty. */
function idAndRest(s: string | null): [string, string] | null {
  if (s === null) return null;
  const dot = s.indexOf('.');
  if (dot <= 0 || dot === s.length - 1) return null;
  return [s.slice(0, dot), s.slice(dot + 1)];
}

function suffix(channel: string, prefix: string): string | null {
  return channel.startsWith(prefix) && channel.length > prefix.length ? channel.slice(prefix.length) : null;
}

type Kind =
  | { k: 'thread'; tenant: string; key: string }
  | { k: 'tenant-presence'; tenant: string }
  | { k: 'tenant-private'; tenant: string }
  | { k: 'scheduled'; tenant: string; sender: string }
  | { k: 'chatbot'; id: string }
  | { k: 'whatsapp'; id: string }
  | { k: 'other' };

function classify(channel: string): Kind {
  let p: [string, string] | null;
  let x: string | null;
  if ((p = idAndRest(suffix(channel, 'presence-tenant.'))) !== null) {
    const key = suffix(p[1], 'thread.');
    return key !== null ? { k: 'thread', tenant: p[0], key } : { k: 'tenant-presence', tenant: p[0] };
  }
  if ((p = idAndRest(suffix(channel, 'private-tenant.'))) !== null) return { k: 'tenant-private', tenant: p[0] };
  if ((p = idAndRest(suffix(channel, 'private-scheduled.'))) !== null) {
    return p[1].includes('.') ? { k: 'other' } : { k: 'scheduled', tenant: p[0], sender: p[1] };
  }
  if ((x = suffix(channel, 'private-chatbot-')) !== null) return { k: 'chatbot', id: x };
  if ((x = suffix(channel, 'private-whatsapp.')) !== null) return { k: 'whatsapp', id: x };
  return { k: 'other' };
}

async function mayJoin(id: Identity, who: Asker, kind: Kind): Promise<boolean> {
  const member = (tenant: string) => who.kind === 'user' && who.tenants.includes(tenant);
  switch (kind.k) {
    case 'tenant-presence':
    case 'tenant-private':
      return member(kind.tenant);
    case 'thread': {
      if (!member(kind.tenant)) return false;
      const { rows } = await pool.query(
        `SELECT t."id", array_agg(o."userId" ORDER BY o."userId") AS "people"
         FROM "Thread" t
         JOIN "ThreadParticipant" p ON p."threadId" = t."id" AND p."userId" = $1
         JOIN "ThreadParticipant" o ON o."threadId" = t."id"
         WHERE t."tenantId" = $2
         GROUP BY t."id"`,
        [id.userId, kind.tenant],
      );
      return rows.some((r) => threadKey(r.id, r.people) === kind.key);
    }
    case 'scheduled':
      return member(kind.tenant) && kind.sender === id.userId;
    case 'whatsapp':
      return who.kind === 'user'
        && exists(
          `SELECT 1 FROM whatsapp_sessions s JOIN "Membership" m ON m."tenantId" = s."tenantId"
           WHERE s."sessionId" = $1 AND m."userId" = $2`,
          [kind.id, id.userId],
        );
    case 'chatbot': {
      // Owned by (tenant, issuer, visitor): another issuer's "v1" is not this "v1".
      const v = asVisitor(id);
      return who.kind === 'visitor' && v !== null
        && exists(
          `SELECT 1 FROM "ChatbotSession" WHERE "id" = $1 AND "tenantId" = $2 AND "visitorId" = $3 AND "issuer" = $4`,
          [kind.id, v.tenantId, v.visitorId, v.issuer],
        );
    }
    default:
      return false;
  }
}

async function configured(): Promise<void> {
  if (!(await realtimeConfig(Date.now()))) throw NOT_CONFIGURED();
}

async function authorize(req: Request): Promise<Response> {
  let id: Identity;
  try {
    id = await identify(req);
  } catch (e) {
    if (e instanceof ApiError) throw UNAUTHORIZED();
    throw e;
  }
  const who = await asker(id);
  const body = await parse(req);
  const socketId = body.socket_id;
  if (socketId === undefined || !/^\d+\.\d+$/.test(socketId)) throw INVALID();
  const channel = body.channel_name;
  if (channel === undefined) {
    // Sign-in names a user for sendToUser: only a session is a user.
    if (who.kind !== 'user') throw FORBIDDEN();
    await configured();
    const userData = { id: id.userId, user_info: { email: await email(id) } };
    return NextResponse.json(pusher.authenticateUser(socketId, userData));
  }
  const valid = /^[A-Za-z0-9_\-=@,.;]+$/.test(channel) && channel.length <= 200;
  const kind = valid ? classify(channel) : { k: 'other' as const };
  if (!(await mayJoin(id, who, kind))) throw FORBIDDEN();
  await configured();
  if (kind.k === 'thread' || kind.k === 'tenant-presence') {
    const presence = { user_id: id.userId, user_info: { email: await email(id) } };
    return NextResponse.json(pusher.authorizeChannel(socketId, channel, presence));
  }
  return NextResponse.json(pusher.authorizeChannel(socketId, channel));
}

export const POST = async (req: Request): Promise<Response> => {
  try {
    return await authorize(req);
  } catch (e) {
    if (e instanceof AuthError) return NextResponse.json({ error: e.message }, { status: e.status });
    console.error('realtime auth failed', e);
    return NextResponse.json({ error: 'Internal server error' }, { status: 500 });
  }
};
