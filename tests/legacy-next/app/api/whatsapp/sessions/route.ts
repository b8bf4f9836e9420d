// WhatsApp sessions of the caller's tenants: list, create (retry-safe), delete.
import { randomUUID } from 'node:crypto';
import { NextResponse } from 'next/server';
import { inTx } from '@/lib/db';
import { isDryRun, sessionUser } from '@/lib/identity';
import { memberTenants, visibleSession } from '@/lib/whatsapp/access';
import { badRequest, conflict, notFound, SESSION_NOT_FOUND, waHandle, WaError } from '@/lib/whatsapp/errors';
import { emit } from '@/lib/whatsapp/events';
import { queryParam, readBody, required } from '@/lib/whatsapp/request';
import { sessionById, sessionsOfUser } from '@/lib/whatsapp/rows';

export const dynamic = 'force-dynamic';

const SESSION_ID = /^[A-Za-z0-9_-]{1,64}$/;

export const GET = waHandle(async (req: Request) => {
  const userId = await sessionUser(req);
  const sessions = await sessionsOfUser(userId);
  const count = (status: string) => sessions.filter((s) => s.status === status).length;
  return NextResponse.json({
    sessions,
    summary: {
      total: sessions.length,
      connected: count('CONNECTED'),
      qrRequired: count('QR_REQUIRED'),
      connecting: count('CONNECTING'),
    },
  });
});

export const POST = waHandle(async (req: Request) => {
  const userId = await sessionUser(req);
  const body = await readBody(req);
  const name = body.name;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 100) throw badRequest('name is required');
  const rawSessionId = body.sessionId ?? undefined;
  if (rawSessionId !== undefined && (typeof rawSessionId !== 'string' || !SESSION_ID.test(rawSessionId))) {
    throw badRequest('Invalid sessionId');
  }
  const sessionId = rawSessionId ?? `wa_${randomUUID()}`;

  // A tenantId that is sent (a non-empty string; anything else counts as not
  // sent) must be one of the caller's tenants.
  const rawTenantId = typeof body.tenantId === 'string' && body.tenantId !== '' ? body.tenantId : undefined;
  const tenants = await memberTenants(userId);
  let tenantId: string;
  if (rawTenantId !== undefined) {
    if (!tenants.includes(rawTenantId)) throw new WaError(403, 'Forbidden');
    tenantId = rawTenantId;
  } else if (tenants.length === 1) {
    tenantId = tenants[0];
  } else if (tenants.length === 0) {
    throw new WaError(403, 'Forbidden');
  } else {
    throw badRequest('tenantId is required');
  }

  const [session, created] = await inTx(isDryRun(req), async (c) => {
    const ins = await c.query(
      `INSERT INTO whatsapp_sessions ("sessionId", "tenantId", "name") VALUES ($1, $2, $3)
       ON CONFLICT ("sessionId") DO NOTHING RETURNING "sessionId"`,
      [sessionId, tenantId, name],
    );
    if (ins.rows[0]) {
      await c.query(
        `INSERT INTO whatsapp_session_configs ("sessionId") VALUES ($1) ON CONFLICT ("sessionId") DO NOTHING`,
        [sessionId],
      );
      return [await sessionById(c, sessionId), true] as const;
    }
    // Retry of the same create: same id, tenant and name → the existing session.
    const existing = await sessionById(c, sessionId);
    if (!existing || existing.tenantId !== tenantId || existing.name !== name) throw conflict('Session already exists');
    return [existing, false] as const;
  });
  return NextResponse.json({ success: true, session }, { status: created ? 201 : 200 });
});

export const DELETE = waHandle(async (req: Request) => {
  const userId = await sessionUser(req);
  const sessionId = required(queryParam(req, 'sessionId'), 'sessionId');
  const session = await visibleSession(userId, sessionId);
  const dryRun = isDryRun(req);
  await inTx(dryRun, async (c) => {
    // Config, messages, contacts, outbox and batches go with it (ON DELETE CASCADE).
    const del = await c.query(`DELETE FROM whatsapp_sessions WHERE "sessionId" = $1 RETURNING "id"`, [sessionId]);
    if (!del.rows[0]) throw notFound(SESSION_NOT_FOUND);
  });
  await emit(dryRun, session, [{ event: 'connection.update', data: { status: 'disconnected' } }]);
  return NextResponse.json({ success: true, message: 'Session deleted' });
});
