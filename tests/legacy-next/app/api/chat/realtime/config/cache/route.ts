import { pool } from '@/lib/db';
import { forbidden, handle } from '@/lib/errors';
import { identify } from '@/lib/identity';
import { clearRealtimeCache } from '@/lib/realtime';

export const dynamic = 'force-dynamic';

export const DELETE = handle(async (req: Request) => {
  const id = await identify(req);
  if (id.scheme !== 'session') throw forbidden('admin_only');
  const { rows } = await pool.query(`SELECT "role" FROM "User" WHERE "id" = $1`, [id.userId]);
  if (rows[0]?.role !== 'ADMIN') throw forbidden('admin_only');
  clearRealtimeCache();
  return new Response(null, { status: 204 });
});
