// Realtime config TTL cache (60 s) over the "SystemConfig" row `realtime`.
import { pool } from './db';

export type RealtimeConfigPayload = {
  key: string; host: string; port: number; useTLS: boolean; cluster: string; authEndpoint: string; userAuthEndpoint: string;
};

export const AUTH_ENDPOINT = '/api/chat/realtime/auth';
const TTL_MS = 60_000;
let cached: { at: number; value: RealtimeConfigPayload } | null = null;

export function clearRealtimeCache() {
  cached = null;
}

function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535;
}

export async function realtimeConfig(now: number): Promise<RealtimeConfigPayload | null> {
  if (cached && now - cached.at < TTL_MS) return cached.value;
  const { rows } = await pool.query(`SELECT "value" FROM "SystemConfig" WHERE "key" = $1`, ['realtime']);
  const v = rows[0]?.value;
  if (!v || typeof v !== 'object' || typeof v.key !== 'string' || typeof v.host !== 'string' || !isPort(v.port)
      || typeof v.useTLS !== 'boolean' || typeof v.cluster !== 'string') {
    return null;
  }
  const value: RealtimeConfigPayload = {
    key: v.key, host: v.host, port: v.port, useTLS: v.useTLS, cluster: v.cluster,
    authEndpoint: AUTH_ENDPOINT, userAuthEndpoint: AUTH_ENDPOINT,
  };
  cached = { at: now, value };
  return value;
}
