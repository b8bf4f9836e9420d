// Who is calling: the identity cutover verified (x-cutover-* headers) when
// present, else the NextAuth session. Mirrors crate::identity::Identity.
import { getServerSession } from 'next-auth';
import { authOptions } from './auth';
import { forbidden, unauthorized } from './errors';

export type Identity = {
  scheme: 'session' | 'chatbot' | 'service';
  userId: string;
  email: string | null;
  tenantId: string | null;
};

export async function identify(req: Request): Promise<Identity> {
  const h = req.headers;
  const userId = h.get('x-cutover-user-id');
  if (userId) {
    const auth = h.get('x-cutover-auth');
    const scheme = auth === 'chatbot' || auth === 'service' ? auth : 'session';
    return { scheme, userId, email: h.get('x-cutover-user-email'), tenantId: h.get('x-cutover-tenant-id') };
  }
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

export async function chatbotVisitor(req: Request): Promise<{ tenantId: string; visitorId: string }> {
  const id = await identify(req);
  if (id.scheme !== 'chatbot' || !id.tenantId) throw forbidden('wrong_identity_kind');
  return { tenantId: id.tenantId, visitorId: id.userId };
}

/** A shadow copy (x-cutover-shadow: 1) must not persist or broadcast. */
export function isDryRun(req: Request): boolean {
  return req.headers.get('x-cutover-shadow') === '1';
}
