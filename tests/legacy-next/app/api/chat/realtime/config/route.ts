import { NextResponse } from 'next/server';
import { ApiError, handle } from '@/lib/errors';
import { identify } from '@/lib/identity';
import { realtimeConfig } from '@/lib/realtime';

export const dynamic = 'force-dynamic';

export const GET = handle(async (req: Request) => {
  await identify(req);
  const config = await realtimeConfig(Date.now());
  if (!config) throw new ApiError('unavailable', 'realtime_not_configured');
  return NextResponse.json(config);
});
