// Realtime config TTL cache (60 s) over the "SystemConfig" row `realtime`, in
// the legacy client's `config` shape (the same as src/handlers/realtime.rs).
import { pool } from './db';

export type RealtimeConfigPayload = {
  key: string; host: string; port: number; useTLS: boolean; appId: string; cluster: 'mt1';
};

export const DISABLED_MESSAGE = 'Realtime features are disabled. Configure the realtime settings to enable them.';
const TTL_MS = 60_000;
let cached: { at: number; value: RealtimeConfigPayload } | null = null;

export function clearRealtimeCache() {
  cached = null;
}

function isPort(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535;
}

/** The config, or null when realtime is not configured (not cached). */
export async function realtimeConfig(now: number): Promise<RealtimeConfigPayload | null> {
  if (cached && now - cached.at < TTL_MS) return cached.value;
  const { rows } = await pool.query(`SELECT "value" FROM "SystemConfig" WHERE "key" = $1`, ['realtime']);
  const v = rows[0]?.value;
  if (!v || typeof v !== 'object' || Array.isArray(v) || typeof v.key !== 'string' || typeof v.host !== 'string'
      || !isPort(v.port) || typeof v.useTLS !== 'boolean') {
    return null;
  }
  const value: RealtimeConfigPayload = {
    key: v.key, host: v.host.trim(), port: v.port, useTLS: v.useTLS,
    appId: process.env.PUSHER_APP_ID ?? 'app-1', cluster: 'mt1',
  };
  cached = { at: now, value };
  return value;
}
