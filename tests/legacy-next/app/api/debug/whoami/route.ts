// Debug route for the auth end-to-end test (issue 3): who this request is,
// as NextAuth's getServerSession sees it (the app's own cookie check) and as
// cutover says in the verified x-cutover-* headers. Not part of the contract.
import { NextResponse } from 'next/server';
import { getServerSession } from 'next-auth';
import { authOptions } from '@/lib/auth';

export const dynamic = 'force-dynamic';

export async function GET(req: Request) {
  const session = await getServerSession(authOptions);
  const sessionUserId = (session?.user as { id?: string } | undefined)?.id ?? null;
  return NextResponse.json({
    sessionUserId,
    sessionEmail: session?.user?.email ?? null,
    headerUserId: req.headers.get('x-cutover-user-id'),
    headerAuth: req.headers.get('x-cutover-auth'),
  });
}
