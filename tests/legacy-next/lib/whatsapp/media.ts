// Media files of messages: object names under WHATSAPP_MEDIA_ROOT, served
// with validators (ETag) and single byte ranges. Names are checked before any
// file system access; the resolved path must stay under the resolved root.
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';

const SEGMENT = /^[A-Za-z0-9._-]+$/;

/** Relative object name: segments of [A-Za-z0-9._-], none empty, "." or "..". */
export function isSafeObjectName(name: string): boolean {
  return name.split('/').every((seg) => SEGMENT.test(seg) && seg !== '.' && seg !== '..');
}

export type MediaFile = { handle: FileHandle; size: number };

/** Missing (or a path through a non-directory): a 404, not a server error. */
const isMissing = (e: unknown) => {
  const code = (e as { code?: unknown }).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};

/**
 * Open `<root>/<name>` for reading if it is a regular file whose real path is
 * under the real root; undefined when the name is unsafe, the file is missing
 * or not a regular file, or it resolves outside the root. Other I/O errors
 * throw (500). `rootReal` comes from fs.realpath.
 */
export async function openMedia(rootReal: string, name: string): Promise<MediaFile | undefined> {
  if (!isSafeObjectName(name)) return undefined;
  let real: string;
  try {
    real = await fs.realpath(path.join(rootReal, name));
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
  const prefix = rootReal.endsWith(path.sep) ? rootReal : rootReal + path.sep;
  if (!real.startsWith(prefix)) return undefined;
  let handle: FileHandle;
  try {
    handle = await fs.open(real, 'r');
  } catch (e) {
    if (isMissing(e)) return undefined;
    throw e;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) {
      await handle.close();
      return undefined;
    }
    return { handle, size: st.size };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

export type RangeResult =
  | { kind: 'none' } // no header, or one we ignore: whole file
  | { kind: 'unsatisfiable' }
  | { kind: 'partial'; start: number; end: number }; // inclusive

const DIGITS = /^[0-9]+$/;

/**
 * One range of `bytes=a-b | a- | -n` (unit case-insensitive, spaces around
 * the value and the spec allowed). Ignored (whole file): no header, an
 * If-Range that is not the ETag, a syntactically invalid header (also `a > b`
 * and any multi-range). Unsatisfiable: a range starting at or past the end,
 * `-0`, a suffix of an empty file. `b` past the end is clamped, `-n` longer
 * than the file is the whole file (still 206). Huge numbers act as +infinity.
 */
export function parseRange(header: string | null, ifRange: string | null, etag: string, size: number): RangeResult {
  if (header === null) return { kind: 'none' };
  if (ifRange !== null && ifRange.trim() !== etag) return { kind: 'none' };
  const value = header.trim();
  if (value.slice(0, 6).toLowerCase() !== 'bytes=') return { kind: 'none' };
  const spec = value.slice(6).trim();
  const dash = spec.indexOf('-');
  if (dash < 0) return { kind: 'none' };
  const a = spec.slice(0, dash);
  const b = spec.slice(dash + 1);
  if (a === '') {
    if (!DIGITS.test(b)) return { kind: 'none' };
    const n = Number(b);
    if (n === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - n), end: size - 1 };
  }
  if (!DIGITS.test(a) || (b !== '' && !DIGITS.test(b))) return { kind: 'none' };
  const start = Number(a);
  const last = b === '' ? undefined : Number(b);
  if (last !== undefined && last < start) return { kind: 'none' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: last === undefined ? size - 1 : Math.min(last, size - 1) };
}

/** If-None-Match: `*`, or a comma-separated list with the tag (weak `W/` form too). */
export function etagMatches(ifNoneMatch: string | null, etag: string): boolean {
  if (ifNoneMatch === null) return false;
  return ifNoneMatch.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || (tag.startsWith('W/') ? tag.slice(2) : tag) === etag;
  });
}

/** `mediaMimeType` when it is a usable header value, else application/octet-stream. */
export function contentType(mime: string | null): string {
  return mime && /^[\t\x20-\x7e]+$/.test(mime) ? mime : 'application/octet-stream';
}

const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/;

/** `inline`, or `inline; filename="<ascii>"; filename*=UTF-8''<pct>` (RFC 6266 / 5987). */
export function contentDisposition(fileName: string | null): string {
  if (!fileName) return 'inline';
  let ascii = '';
  for (const ch of fileName) {
    const c = ch.codePointAt(0)!;
    ascii += c < 0x20 || c > 0x7e || ch === '"' || ch === '\\' ? '_' : ch;
  }
  let pct = '';
  for (const byte of Buffer.from(fileName, 'utf8')) {
    const ch = String.fromCharCode(byte);
    pct += byte < 0x80 && ATTR_CHAR.test(ch) ? ch : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return `inline; filename="${ascii}"; filename*=UTF-8''${pct}`;
}
