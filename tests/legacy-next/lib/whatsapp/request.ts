// Request parsing for the WhatsApp routes. A body must be a JSON object
// ("Invalid JSON body" otherwise); each field is then checked at its place in
// the route's validation order, a field of the wrong JSON type failing that
// field's own check (null counts as absent).
import { badRequest } from './errors';

export type Body = Record<string, unknown>;

export async function readBody(req: Request): Promise<Body> {
  const text = await req.text();
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest('Invalid JSON body');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw badRequest('Invalid JSON body');
  return value as Body;
}

/** A required field: anything but a non-empty string → `<key> is required`. */
export function requiredString(body: Body, key: string): string {
  return required(body[key], key);
}

/** An optional string field: absent/null → undefined, another type → `invalid`. */
export function optionalString(body: Body, key: string, invalid: string): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badRequest(invalid);
  return v;
}

/** An optional integer field in min..=max: absent/null → undefined, anything else → `invalid`. */
export function optionalInt(body: Body, key: string, min: number, max: number, invalid: string): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw badRequest(invalid);
  return v;
}

/** Anything but a non-empty string → `<key> is required`. */
export function required(value: unknown, key: string): string {
  if (typeof value !== 'string' || value === '') throw badRequest(`${key} is required`);
  return value;
}

/** First value of a query parameter (URLSearchParams.get); empty counts as absent. */
export function queryParam(req: Request, key: string): string | undefined {
  const v = new URL(req.url).searchParams.get(key);
  return v === null || v === '' ? undefined : v;
}
