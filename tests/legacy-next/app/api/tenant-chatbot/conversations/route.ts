import { NextResponse } from 'next/server';
import { inTx, pool } from '@/lib/db';
import { forbidden, handle, invalid } from '@/lib/errors';
import { chatbotVisitor, isDryRun } from '@/lib/identity';
import { CONVERSATION_COLS, conversation } from '@/lib/rows';
import { optString, readJson } from '@/lib/validate';

export const dynamic = 'force-dynamic';

export const POST = handle(async (req: Request) => {
  const { tenantId, issuer, visitorId } = await chatbotVisitor(req);
  const body = await readJson(req);
  const visitorName = optString(body, 'visitorName');
  if (visitorName !== undefined && visitorName.length > 100) throw invalid('visitor_name_too_long');
  const { rows } = await pool.query(`SELECT "chatbotEnabled" FROM "Tenant" WHERE "id" = $1`, [tenantId]);
  if (rows[0]?.chatbotEnabled !== true) throw forbidden('chatbot_disabled');
  const row = await inTx(isDryRun(req), async (c) => {
    const ins = await c.query(
      `INSERT INTO "ChatbotSession" ("tenantId", "visitorId", "visitorName", "issuer")
       VALUES ($1, $2, $3, $4) RETURNING ${CONVERSATION_COLS}`,
      [tenantId, visitorId, visitorName ?? null, issuer],
    );
    return conversation(ins.rows[0]);
  });
  return NextResponse.json({ conversation: row }, { status: 201 });
});
