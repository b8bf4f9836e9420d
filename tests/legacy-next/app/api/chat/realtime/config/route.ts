// The legacy config envelope: {success, config} (the client reads only those).
import { NextResponse } from 'next/server';
import { handle } from '@/lib/errors';
import { identify } from '@/lib/identity';
import { DISABLED_MESSAGE, realtimeConfig } from '@/lib/realtime';

export const dynamic = 'force-dynamic';

export const GET = handle(async (req: Request) => {
  await identify(req);
  let config;
  try {
    config = await realtimeConfig(Date.now());
  } catch (e) {
    console.error('realtime config failed', e);
    return NextResponse.json(
      { success: false, message: 'Failed to fetch realtime configuration', config: null },
      { status: 500 },
    );
  }
  if (!config) return NextResponse.json({ success: false, hasConfig: false, message: DISABLED_MESSAGE, config: null });
  return NextResponse.json({ success: true, config });
});
