// Message statistics of a session over 24h / 7d / 30d / 90d (legacy shape).
import { NextResponse } from 'next/server';
import { pool } from '@/lib/db';
import { sessionUser } from '@/lib/identity';
import { visibleSession } from '@/lib/whatsapp/access';
import { waHandle } from '@/lib/whatsapp/errors';
import { queryParam, required } from '@/lib/whatsapp/request';

export const dynamic = 'force-dynamic';

const HOUR = 60 * 60 * 1000;
const RANGES: Record<string, number> = { '24h': 24 * HOUR, '7d': 7 * 24 * HOUR, '30d': 30 * 24 * HOUR, '90d': 90 * 24 * HOUR };

const percent = (part: number, total: number) => (total === 0 ? 0 : Math.round((part / total) * 100));

export const GET = waHandle(async (req: Request) => {
  const userId = await sessionUser(req);
  const session = await visibleSession(userId, required(queryParam(req, 'sessionId'), 'sessionId'));
  const asked = queryParam(req, 'timeRange');
  const timeRange = asked !== undefined && Object.prototype.hasOwnProperty.call(RANGES, asked) ? asked : '7d';
  const endDate = new Date();
  const startDate = new Date(endDate.getTime() - RANGES[timeRange]);

  const { rows } = await pool.query(
    `SELECT count(*)::int AS "total",
            (count(*) FILTER (WHERE "fromMe"))::int AS "sent",
            (count(*) FILTER (WHERE NOT "fromMe"))::int AS "received",
            (count(*) FILTER (WHERE "fromMe" AND "senderId" = 'whatsapp-system'))::int AS "flowbot"
     FROM whatsapp_messages WHERE "sessionId" = $1 AND "timestamp" >= $2`,
    [session.sessionId, startDate],
  );
  const contacts = await pool.query(
    `SELECT count(*)::int AS "active" FROM whatsapp_contacts WHERE "sessionId" = $1 AND "lastMessageAt" >= $2`,
    [session.sessionId, startDate],
  );
  const { total, sent, received, flowbot } = rows[0];
  return NextResponse.json({
    success: true,
    totalMessages: total,
    sentMessages: sent,
    receivedMessages: received,
    sentPercentage: percent(sent, total),
    receivedPercentage: percent(received, total),
    activeContacts: contacts.rows[0].active,
    flowbotMessages: flowbot,
    flowbotPercentage: percent(flowbot, total),
    avgResponseTime: null,
    timeRange,
    startDate,
    endDate,
  });
});
