// Keyset cursors and paging parameters, byte-compatible with src/store/cursor.rs
// and src/handlers/extract.rs: base64url (no padding) of `<createdAt ISO>|<id>`.
import { invalid } from './errors';
import { parseRfc3339 } from './validate';

export type Cursor = { createdAt: Date; id: string };

export function encodeCursor(c: Cursor): string {
  return Buffer.from(`${c.createdAt.toISOString()}|${c.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(s: string): Cursor | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return undefined;
  const raw = Buffer.from(s, 'base64url');
  if (raw.toString('base64url') !== s) return undefined; // strict, like the Rust decoder
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return undefined;
  }
  const bar = text.indexOf('|');
  if (bar < 0) return undefined;
  const id = text.slice(bar + 1);
  const createdAt = parseRfc3339(text.slice(0, bar));
  if (!id || !createdAt) return undefined;
  return { createdAt, id };
}

export type Paging = { cursor: Cursor | undefined; limit: number };

export function parsePaging(url: string): Paging {
  const q = new URL(url).searchParams;
  let limit = 50;
  const l = q.get('limit');
  if (l !== null) {
    if (!/^\d+$/.test(l)) throw invalid('invalid_limit');
    limit = Number(l);
    if (limit < 1 || limit > 100) throw invalid('invalid_limit');
  }
  const c = q.get('cursor');
  let cursor: Cursor | undefined;
  if (c !== null) {
    cursor = decodeCursor(c);
    if (!cursor) throw invalid('invalid_cursor');
  }
  return { cursor, limit };
}

/** Split `limit + 1` rows into the page and the next cursor. */
export function page<T extends { id: string; createdAt: Date }>(rows: T[], limit: number) {
  if (rows.length > limit) {
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items, nextCursor: encodeCursor({ createdAt: last.createdAt, id: last.id }) };
  }
  return { items: rows, nextCursor: null as string | null };
}
