// One pg pool per process, from DATABASE_URL.
import { Pool, PoolClient } from 'pg';

const globalForPool = globalThis as unknown as { legacyPool?: Pool };

export const pool: Pool =
  globalForPool.legacyPool ??
  (globalForPool.legacyPool = new Pool({
    connectionString: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    max: 10,
  }));

/** Run `fn` in a transaction; roll back instead of committing on a dry run. */
export async function inTx<T>(dryRun: boolean, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query(dryRun ? 'ROLLBACK' : 'COMMIT');
    return out;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw e;
  } finally {
    client.release();
  }
}
