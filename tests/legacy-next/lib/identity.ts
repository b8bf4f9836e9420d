// Who is calling: the identity cutover verified (x-cutover-* headers) when
// present, else the NextAuth session. Mirrors crate::identity::Identity.
//
// The x-cutover-* headers are trusted only with a valid
// `x-cutover-identity-sig: t=<unix>,v2=<hex HMAC-SHA256>` over
// `v2\n<t>\nnext\n<METHOD>\n<pathname+search>\n<auth>\n<issuer>\n<user-id>\n<email>\n<tenant-id>`
// (header values as sent, absent = empty; values percent-encoded outside
// visible ASCII), keyed by CUTOVER_IDENTITY_KEY and at most 30 s old — the same
// rule, byte for byte, as src/identity/headers.rs + src/identity/wire.rs. The
// audience `next`, the method and the URL bind the headers to this request:
// headers captured elsewhere (another route, method, or the rust backend) fail.
// Anything the signer would not produce is refused: `t=` other than plain
// digits, upper-case signature hex, a value that is not the canonical encoding
// (a space, so also `", "` of a repeated header; lower-case or needless escapes).
// A request that reaches Next without cutover in front cannot claim to be anyone.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { getServerSession } from 'next-auth';
import { authOptions } from './auth';
import { ApiError, forbidden, unauthorized } from './errors';

const MAX_SIGNATURE_AGE_SECS = 30;
const IDENTITY_HEADERS = [
  'x-cutover-user-id', 'x-cutover-user-email', 'x-cutover-tenant-id',
  'x-cutover-issuer', 'x-cutover-auth', 'x-cutover-identity-sig',
];
const bad = (reason: string) => new ApiError('unauthorized', reason);

/** Percent-encodes every byte outside visible ASCII, and `%` (upper-case hex). */
function encode(v: string): string {
  let out = '';
  for (const b of Buffer.from(v, 'utf8')) {
    out += b >= 0x21 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** The value `encode` turned into `v`, or null if `v` is not exactly such an encoding. */
function decode(v: string): string | null {
  if (!/^(?:[\x21-\x24\x26-\x7e]|%[0-9A-F]{2})*$/.test(v)) return null;
  const bytes: number[] = [];
  for (let i = 0; i < v.length; ) {
    if (v[i] === '%') { bytes.push(parseInt(v.slice(i + 1, i + 3), 16)); i += 3; }
    else { bytes.push(v.charCodeAt(i)); i += 1; }
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(Uint8Array.from(bytes));
  } catch {
    return null;
  }
  return encode(text) === v ? text : null;
}

/** One identity header's value, in the canonical encoding; repeated ones arrive joined by ", " and fail. */
function single(h: Headers, name: string): string | null {
  const v = h.get(name);
  if (v !== null && decode(v) === null) throw bad('malformed');
  return v;
}

/** The verified header identity, or null when there is none. Throws a 401 ApiError. */
function fromHeaders(req: Request): Identity | null {
  const h = req.headers;
  const sig = h.get('x-cutover-identity-sig');
  if (sig === null) {
    if (IDENTITY_HEADERS.some((n) => h.has(n))) throw bad('malformed');
    return null;
  }
  const key = process.env.CUTOVER_IDENTITY_KEY;
  if (!key) throw bad('malformed');
  const m = /^t=(0|[1-9][0-9]{0,11}),v2=([0-9a-f]{64})$/.exec(sig);
  if (!m) throw bad('malformed');
  const ts = Number(m[1]);
  if (Math.abs(Math.floor(Date.now() / 1000) - ts) > MAX_SIGNATURE_AGE_SECS) throw bad('stale_identity');
  const user = single(h, 'x-cutover-user-id');
  const auth = single(h, 'x-cutover-auth');
  if (user === null || auth === null) throw bad('malformed');
  const email = single(h, 'x-cutover-user-email') ?? '';
  const tenant = single(h, 'x-cutover-tenant-id') ?? '';
  const issuer = single(h, 'x-cutover-issuer') ?? '';
  // The target as src/identity/wire.rs canonicalizes it: the parsed path and
  // the query re-serialized by URLSearchParams (whatever escaping reached us).
  const url = new URL(req.url);
  const query = new URLSearchParams(url.search).toString();
  const target = url.pathname + (query ? `?${query}` : '');
  const signed = `v2\n${ts}\nnext\n${req.method}\n${target}\n${auth}\n${issuer}\n${user}\n${email}\n${tenant}`;
  const want = createHmac('sha256', key).update(signed).digest();
  if (!timingSafeEqual(want, Buffer.from(m[2], 'hex'))) throw bad('bad_signature');
  if (auth !== 'session' && auth !== 'chatbot' && auth !== 'service') throw bad('malformed');
  return {
    scheme: auth,
    userId: decode(user)!,
    email: email ? decode(email) : null,
    tenantId: tenant ? decode(tenant) : null,
    issuer: issuer ? decode(issuer) : null,
  };
}

export type Identity = {
  scheme: 'session' | 'chatbot' | 'service';
  userId: string;
  email: string | null;
  tenantId: string | null;
  /** The `[[auth.chatbot]]` name that vouched for a chatbot visitor; null otherwise. */
  issuer: string | null;
};

export async function identify(req: Request): Promise<Identity> {
  const verified = fromHeaders(req);
  if (verified) return verified;
  const session = await getServerSession(authOptions);
  const id = (session?.user as { id?: string } | undefined)?.id;
  if (!id) throw unauthorized();
  return { scheme: 'session', userId: id, email: session?.user?.email ?? null, tenantId: null, issuer: null };
}

export async function sessionUser(req: Request): Promise<string> {
  const id = await identify(req);
  if (id.scheme !== 'session') throw forbidden('wrong_identity_kind');
  return id.userId;
}

/** The caller of a worker route: a service token (cutover's [[auth.service]]); other kinds → 403. */
export async function serviceCaller(req: Request): Promise<string> {
  const id = await identify(req);
  if (id.scheme !== 'service') throw forbidden('wrong_identity_kind');
  return id.userId;
}

/** A chatbot visitor: owns conversations by (tenant, issuer, visitor id), like src/store/chatbot.rs. */
export type Visitor = { tenantId: string; issuer: string; visitorId: string };

/** The visitor of a chatbot identity with tenant and issuer; `null` for any other identity. */
export function asVisitor(id: Identity): Visitor | null {
  if (id.scheme !== 'chatbot' || !id.tenantId || !id.issuer) return null;
  return { tenantId: id.tenantId, issuer: id.issuer, visitorId: id.userId };
}

export async function chatbotVisitor(req: Request): Promise<Visitor> {
  const visitor = asVisitor(await identify(req));
  if (!visitor) throw forbidden('wrong_identity_kind');
  return visitor;
}

/** A shadow copy (x-cutover-shadow: 1) must not persist or broadcast. */
export function isDryRun(req: Request): boolean {
  return req.headers.get('x-cutover-shadow') === '1';
}
