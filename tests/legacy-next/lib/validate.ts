// Request parsing with the contract's reasons, mirroring src/handlers/extract.rs:
// a field of the wrong JSON type is `invalid_json`; missing or null is "absent".
import { invalid } from './errors';

export type Body = Record<string, unknown>;

export async function readJson(req: Request): Promise<Body> {
  const text = await req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid('invalid_json');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid('invalid_json');
  return value as Body;
}

export function optString(body: Body, key: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid('invalid_json');
  return v;
}

export function optBool(body: Body, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid('invalid_json');
  return v;
}

/** required, not blank, at most 4000 UTF-16 units */
export function checkBody(body: string | undefined): string {
  if (body === undefined || body.trim() === '') throw invalid('body_required');
  if (body.length > 4000) throw invalid('body_too_long');
  return body;
}

/** required, non-empty, at most 100 UTF-16 units */
export function checkClientMessageId(id: string | undefined): string {
  if (id === undefined || id === '') throw invalid('client_message_id_required');
  if (id.length > 100) throw invalid('client_message_id_too_long');
  return id;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export function parseRfc3339(s: string | undefined): Date | undefined {
  if (s === undefined || !RFC3339.test(s)) return undefined;
  const d = new Date(s.toUpperCase());
  return Number.isNaN(d.getTime()) ? undefined : d;
}
