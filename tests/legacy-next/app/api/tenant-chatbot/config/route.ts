import { NextResponse } from 'next/server';
import { pool } from '@/lib/db';
import { handle, notFound } from '@/lib/errors';
import { chatbotVisitor } from '@/lib/identity';

export const dynamic = 'force-dynamic';

export const GET = handle(async (req: Request) => {
  const { tenantId } = await chatbotVisitor(req);
  const { rows } = await pool.query(
    `SELECT "id", "name", "chatbotEnabled", "chatbotGreeting", "chatbotColor" FROM "Tenant" WHERE "id" = $1`,
    [tenantId],
  );
  const t = rows[0];
  if (!t) throw notFound('tenant_not_found');
  return NextResponse.json({
    tenantId: t.id, name: t.name, enabled: t.chatbotEnabled, greeting: t.chatbotGreeting, primaryColor: t.chatbotColor,
  });
});
