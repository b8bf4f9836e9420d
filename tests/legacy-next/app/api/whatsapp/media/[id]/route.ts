// The media file of a message, streamed from WHATSAPP_MEDIA_ROOT (never read
// into memory), with ETag revalidation and single byte ranges.
import { promises as fs } from 'node:fs';
import { Readable } from 'node:stream';
import { pool } from '@/lib/db';
import { sessionUser } from '@/lib/identity';
import { WaError, waError, waHandle } from '@/lib/whatsapp/errors';
import { contentDisposition, contentType, etagMatches, openMedia, parseRange } from '@/lib/whatsapp/media';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

type Ctx = { params: Promise<{ id: string }> };

async function serve(req: Request, { params }: Ctx, withBody: boolean): Promise<Response> {
  const userId = await sessionUser(req);
  const root = process.env.WHATSAPP_MEDIA_ROOT;
  if (!root) throw new WaError(503, 'Media storage not configured');
  const { id } = await params;
  const { rows } = await pool.query(
    `SELECT m."id", m."mediaUrl", m."mediaMimeType", m."metadata" #> '{message,documentMessage,fileName}' AS "fileName"
     FROM whatsapp_messages m
     JOIN whatsapp_sessions s ON s."sessionId" = m."sessionId"
     WHERE m."id" = $1
       AND EXISTS (SELECT 1 FROM "Membership" ms WHERE ms."userId" = $2 AND ms."tenantId" = s."tenantId")`,
    [id, userId],
  );
  const row = rows[0] as { id: string; mediaUrl: string | null; mediaMimeType: string | null; fileName: unknown } | undefined;
  if (!row || !row.mediaUrl) throw new WaError(404, 'Message not found');

  const rootReal = await fs.realpath(root);
  const file = await openMedia(rootReal, row.mediaUrl);
  if (!file) throw new WaError(404, 'Media not found');

  const { handle, size } = file;
  const etag = `"${row.id}-${size}"`;
  const headers = new Headers({
    'Content-Type': contentType(row.mediaMimeType),
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'private, max-age=3600',
    ETag: etag,
    'Content-Disposition': contentDisposition(typeof row.fileName === 'string' ? row.fileName : null),
  });

  if (etagMatches(req.headers.get('if-none-match'), etag)) {
    await handle.close();
    return new Response(null, { status: 304, headers });
  }
  const range = parseRange(req.headers.get('range'), req.headers.get('if-range'), etag, size);
  if (range.kind === 'unsatisfiable') {
    await handle.close();
    const res = waError(416, 'Range not satisfiable');
    res.headers.set('Content-Range', `bytes */${size}`);
    return res;
  }
  let status = 200;
  let start = 0;
  let end = size - 1;
  if (range.kind === 'partial') {
    status = 206;
    ({ start, end } = range);
    headers.set('Content-Range', `bytes ${start}-${end}/${size}`);
  }
  headers.set('Content-Length', String(end - start + 1));
  if (!withBody || end < start) {
    await handle.close();
    return new Response(withBody ? new Uint8Array(0) : null, { status, headers });
  }
  // The stream owns the file handle from here and closes it at the end, on
  // error, or when the client goes away (the web stream is cancelled).
  const stream = handle.createReadStream({ start, end });
  return new Response(Readable.toWeb(stream) as unknown as ReadableStream<Uint8Array>, { status, headers });
}

export const GET = waHandle((req: Request, ctx: Ctx) => serve(req, ctx, true));
export const HEAD = waHandle((req: Request, ctx: Ctx) => serve(req, ctx, false));
