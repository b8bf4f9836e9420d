// Pusher channel authorization + user sign-in with the app's channel rules.
import { NextResponse } from 'next/server';
import { pool } from '@/lib/db';
import { forbidden, handle, invalid } from '@/lib/errors';
import { asVisitor, identify, type Identity } from '@/lib/identity';
import { pusher } from '@/lib/pusher';

export const dynamic = 'force-dynamic';

type AuthRequest = { socket_id?: string; channel_name?: string };

async function parse(req: Request): Promise<AuthRequest> {
  const type = (req.headers.get('content-type') ?? '').trimStart().toLowerCase();
  const text = await req.text();
  if (type.startsWith('application/json')) {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw invalid('invalid_body');
    }
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw invalid('invalid_body');
    const o = v as Record<string, unknown>;
    const out: AuthRequest = {};
    for (const k of ['socket_id', 'channel_name'] as const) {
      if (o[k] === undefined || o[k] === null) continue;
      if (typeof o[k] !== 'string') throw invalid('invalid_body');
      out[k] = o[k] as string;
    }
    return out;
  }
  const form = new URLSearchParams(text);
  const out: AuthRequest = {};
  for (const k of ['socket_id', 'channel_name'] as const) {
    const all = form.getAll(k);
    if (all.length > 1) throw invalid('invalid_body');
    if (all.length === 1) out[k] = all[0];
  }
  return out;
}

async function displayName(id: Identity): Promise<string | null> {
  if (id.scheme !== 'session') return null;
  const { rows } = await pool.query(`SELECT "name" FROM "User" WHERE "id" = $1`, [id.userId]);
  return rows[0]?.name ?? null;
}

async function exists(sql: string, params: string[]): Promise<boolean> {
  const { rows } = await pool.query(sql, params);
  return rows.length > 0;
}

function suffix(channel: string, prefix: string): string | null {
  return channel.startsWith(prefix) && channel.length > prefix.length ? channel.slice(prefix.length) : null;
}

/**
 * own user channel; threads one participates in; one's tenant presence; a visitor's own conversation;
 * the private channel of a WhatsApp session of one's tenant
 */
async function mayJoin(id: Identity, channel: string): Promise<boolean> {
  let x: string | null;
  if ((x = suffix(channel, 'private-user-')) !== null) return id.scheme === 'session' && x === id.userId;
  if ((x = suffix(channel, 'private-thread-')) !== null) {
    return id.scheme === 'session'
      && exists(`SELECT 1 FROM "ThreadParticipant" WHERE "userId" = $1 AND "threadId" = $2`, [id.userId, x]);
  }
  if ((x = suffix(channel, 'presence-tenant-')) !== null) {
    return id.scheme === 'session'
      && exists(`SELECT 1 FROM "Membership" WHERE "userId" = $1 AND "tenantId" = $2`, [id.userId, x]);
  }
  if ((x = suffix(channel, 'private-whatsapp.')) !== null) {
    return id.scheme === 'session'
      && exists(
        `SELECT 1 FROM whatsapp_sessions s JOIN "Membership" m ON m."tenantId" = s."tenantId"
         WHERE s."sessionId" = $1 AND m."userId" = $2`,
        [x, id.userId],
      );
  }
  if ((x = suffix(channel, 'private-chatbot-')) !== null) {
    // Owned by (tenant, issuer, visitor): another issuer's "v1" is not this "v1".
    const v = asVisitor(id);
    return v !== null
      && exists(
        `SELECT 1 FROM "ChatbotSession" WHERE "id" = $1 AND "tenantId" = $2 AND "visitorId" = $3 AND "issuer" = $4`,
        [x, v.tenantId, v.visitorId, v.issuer],
      );
  }
  return false;
}

export const POST = handle(async (req: Request) => {
  const id = await identify(req);
  const body = await parse(req);
  const socketId = body.socket_id;
  if (socketId === undefined || !/^\d+\.\d+$/.test(socketId)) throw invalid('invalid_socket_id');
  const channel = body.channel_name;
  if (channel === undefined) {
    // Sign-in names a user for sendToUser: only a session is a user.
    if (id.scheme !== 'session') throw forbidden('channel_forbidden');
    const userData = { id: id.userId, user_info: { name: await displayName(id) } };
    return NextResponse.json(pusher.authenticateUser(socketId, userData));
  }
  if (!/^[A-Za-z0-9_\-=@,.;]+$/.test(channel) || channel.length > 200) throw invalid('invalid_channel_name');
  if (!(await mayJoin(id, channel))) throw forbidden('channel_forbidden');
  if (channel.startsWith('presence-tenant-')) {
    const presence = { user_id: id.userId, user_info: { name: await displayName(id) } };
    return NextResponse.json(pusher.authorizeChannel(socketId, channel, presence));
  }
  return NextResponse.json(pusher.authorizeChannel(socketId, channel));
});
