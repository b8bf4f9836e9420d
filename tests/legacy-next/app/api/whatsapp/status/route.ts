// Current connection status of a session (and its QR while one is pending).
import { NextResponse } from 'next/server';
import { sessionUser } from '@/lib/identity';
import { visibleSession } from '@/lib/whatsapp/access';
import { waHandle } from '@/lib/whatsapp/errors';
import { queryParam, required } from '@/lib/whatsapp/request';
import { socketStatus } from '@/lib/whatsapp/rows';

export const dynamic = 'force-dynamic';

export const GET = waHandle(async (req: Request) => {
  const userId = await sessionUser(req);
  const session = await visibleSession(userId, required(queryParam(req, 'sessionId'), 'sessionId'));
  const qr = (session.metadata as { qr?: unknown } | null)?.qr;
  return NextResponse.json({
    status: session.status,
    ...(session.status === 'QR_REQUIRED' && typeof qr === 'string' ? { qr } : {}),
    socketStatus: socketStatus(session.status),
  });
});
