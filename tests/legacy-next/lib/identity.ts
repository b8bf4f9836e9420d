// Who is calling: the identity cutover verified (x-cutover-* headers) when
// present, else the NextAuth session. Mirrors crate::identity::Identity.
//
// The x-cutover-* headers are trusted only with a valid
// `x-cutover-identity-sig: t=<unix>,v1=<hex HMAC-SHA256>` over
// `v1\n<t>\n<auth>\n<user-id>\n<email>\n<tenant-id>` (header values as sent,
// absent = empty; values percent-encoded outside visible ASCII), keyed by
// CUTOVER_IDENTITY_KEY and at most 60 s old — the same rule as
// src/identity/headers.rs. A request that reaches Next without cutover in
// front cannot claim to be anyone.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { getServerSession } from 'next-auth';
import { authOptions } from './auth';
import { ApiError, forbidden, unauthorized } from './errors';

const MAX_SIGNATURE_AGE_SECS = 60;
const bad = (reason: string) => new ApiError('unauthorized', reason);

/** One header's value; repeated values (joined by ", ") are refused. */
function single(h: Headers, name: string): string | null {
  const v = h.get(name);
  if (v !== null && v.includes(', ')) throw bad('malformed');
  return v;
}

function decode(v: string): string {
  try {
    return decodeURIComponent(v);
  } catch {
    throw bad('malformed');
  }
}

/** The verified header identity, or null when there is none. Throws a 401 ApiError. */
function fromHeaders(h: Headers): Identity | null {
  const sig = single(h, 'x-cutover-identity-sig');
  const user = single(h, 'x-cutover-user-id');
  if (sig === null) {
    if (user !== null) throw bad('malformed');
    return null;
  }
  const key = process.env.CUTOVER_IDENTITY_KEY;
  if (!key) throw bad('malformed');
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(sig);
  if (!m) throw bad('malformed');
  const ts = Number(m[1]);
  if (Math.abs(Math.floor(Date.now() / 1000) - ts) > MAX_SIGNATURE_AGE_SECS) throw bad('stale_identity');
  const auth = single(h, 'x-cutover-auth');
  if (user === null || auth === null) throw bad('malformed');
  const email = single(h, 'x-cutover-user-email') ?? '';
  const tenant = single(h, 'x-cutover-tenant-id') ?? '';
  const want = createHmac('sha256', key).update(`v1\n${ts}\n${auth}\n${user}\n${email}\n${tenant}`).digest();
  if (!timingSafeEqual(want, Buffer.from(m[2], 'hex'))) throw bad('bad_signature');
  if (auth !== 'session' && auth !== 'chatbot' && auth !== 'service') throw bad('malformed');
  return {
    scheme: auth,
    userId: decode(user),
    email: email ? decode(email) : null,
    tenantId: tenant ? decode(tenant) : null,
  };
}

export type Identity = {
  scheme: 'session' | 'chatbot' | 'service';
  userId: string;
  email: string | null;
  tenantId: string | null;
};

export async function identify(req: Request): Promise<Identity> {
  const verified = fromHeaders(req.headers);
  if (verified) return verified;
  const session = await getServerSession(authOptions);
  const id = (session?.user as { id?: string } | undefined)?.id;
  if (!id) throw unauthorized();
  return { scheme: 'session', userId: id, email: session?.user?.email ?? null, tenantId: null };
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

export async function chatbotVisitor(req: Request): Promise<{ tenantId: string; visitorId: string }> {
  const id = await identify(req);
  if (id.scheme !== 'chatbot' || !id.tenantId) throw forbidden('wrong_identity_kind');
  return { tenantId: id.tenantId, visitorId: id.userId };
}

/** A shadow copy (x-cutover-shadow: 1) must not persist or broadcast. */
export function isDryRun(req: Request): boolean {
  return req.headers.get('x-cutover-shadow') === '1';
}
