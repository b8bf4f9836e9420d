// Who may touch a WhatsApp session: a signed-in user with a Membership in the
// session's tenant. A session of another tenant is exactly a missing one.
import type { PoolClient } from 'pg';
import { pool } from '../db';
import { notFound, SESSION_NOT_FOUND } from './errors';

export type SessionRef = {
  id: string;
  sessionId: string;
  tenantId: string;
  status: string;
  metadata: unknown;
};

const SESSION_REF_COLS = `s."id", s."sessionId", s."tenantId", s."status"::text AS "status", s."metadata"`;

/** The session if `userId` is a member of its tenant, else 404. */
export async function visibleSession(userId: string, sessionId: string): Promise<SessionRef> {
  const { rows } = await pool.query(
    `SELECT ${SESSION_REF_COLS} FROM whatsapp_sessions s
     WHERE s."sessionId" = $1
       AND EXISTS (SELECT 1 FROM "Membership" m WHERE m."userId" = $2 AND m."tenantId" = s."tenantId")`,
    [sessionId, userId],
  );
  if (!rows[0]) throw notFound(SESSION_NOT_FOUND);
  return rows[0];
}

/**
 * Any session (worker routes), locked for the rest of the transaction; else 404.
 * FOR NO KEY UPDATE: serializes batches of one session without conflicting with
 * the FOR KEY SHARE locks that inserts into its child tables take.
 */
export async function lockSession(c: PoolClient, sessionId: string): Promise<SessionRef> {
  const { rows } = await c.query(
    `SELECT ${SESSION_REF_COLS} FROM whatsapp_sessions s WHERE s."sessionId" = $1 FOR NO KEY UPDATE`,
    [sessionId],
  );
  if (!rows[0]) throw notFound(SESSION_NOT_FOUND);
  return rows[0];
}

/** Tenant ids the user is a member of, oldest membership first. */
export async function memberTenants(userId: string): Promise<string[]> {
  const { rows } = await pool.query(
    `SELECT "tenantId" FROM "Membership" WHERE "userId" = $1 ORDER BY "createdAt", "id"`,
    [userId],
  );
  return rows.map((r: { tenantId: string }) => r.tenantId);
}

/** Any session (worker routes), without a lock; else 404. */
export async function anySession(sessionId: string): Promise<SessionRef> {
  const { rows } = await pool.query(`SELECT ${SESSION_REF_COLS} FROM whatsapp_sessions s WHERE s."sessionId" = $1`, [
    sessionId,
  ]);
  if (!rows[0]) throw notFound(SESSION_NOT_FOUND);
  return rows[0];
}
