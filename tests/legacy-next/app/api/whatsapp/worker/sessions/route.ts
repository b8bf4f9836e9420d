// The sessions the worker must hold a socket for; it closes every other one.
import { NextResponse } from 'next/server';
import { pool } from '@/lib/db';
import { serviceCaller } from '@/lib/identity';
import { waHandle } from '@/lib/whatsapp/errors';

export const dynamic = 'force-dynamic';

export const GET = waHandle(async (req: Request) => {
  await serviceCaller(req);
  const { rows } = await pool.query(
    `SELECT "sessionId", "tenantId", "name", "status"::text AS "status" FROM whatsapp_sessions
     WHERE "isActive" AND "status" IN ('CONNECTING', 'QR_REQUIRED', 'CONNECTED')
     ORDER BY "sessionId"`,
  );
  const sessions = rows.map((r: { sessionId: string; tenantId: string; name: string; status: string }) => ({
    sessionId: r.sessionId,
    tenantId: r.tenantId,
    name: r.name,
    status: r.status,
  }));
  return NextResponse.json({ sessions });
});
