// Worker event batches (POST /api/whatsapp/worker/events): the Baileys events
// the worker forwards, validated as a whole before anything is applied, then
// applied in one transaction. See contracts/whatsapp.md.
import type { PoolClient } from 'pg';
import { badRequest } from './errors';
import type { WaEvent } from './events';
import { MESSAGE_COLS, message, receivedEvent, socketStatus } from './rows';

export const INVALID_BATCH = 'Invalid batch';

type Obj = Record<string, unknown>;

const invalid = () => badRequest(INVALID_BATCH);
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const present = (v: unknown) => v !== undefined && v !== null;

/** Optional field of a type; null/absent → undefined, another type → Invalid batch. */
function opt<T>(o: Obj, key: string, is: (v: unknown) => v is T): T | undefined {
  const v = o[key];
  if (!present(v)) return undefined;
  if (!is(v)) throw invalid();
  return v;
}
const isString = (v: unknown): v is string => typeof v === 'string';
const isInteger = (v: unknown): v is number => Number.isInteger(v);

/** Limits of one batch (it is one transaction). */
export const MAX_EVENTS = 500;
export const MAX_ITEMS = 1000;

/** An array of at most MAX_ITEMS, else Invalid batch. */
function items(v: unknown): unknown[] {
  if (!Array.isArray(v) || v.length > MAX_ITEMS) throw invalid();
  return v;
}

// ---- parsed shapes -------------------------------------------------------

type ConnectionUpdate = {
  type: 'connection.update';
  connection: 'open' | 'connecting' | 'close' | undefined;
  qr: string | undefined;
  statusCode: number | undefined;
  phoneNumber: string | undefined;
};

export type IncomingMessage = {
  messageId: string;
  remoteJid: string;
  fromMe: boolean;
  pushName: string | null;
  content: string | null;
  messageType: string;
  mediaUrl: string | null;
  mediaMimeType: string | null;
  mediaSize: number | null;
  quotedMessageId: string | null;
  timestamp: Date;
  raw: Obj;
};

type MessagesUpsert = { type: 'messages.upsert'; notify: boolean; messages: IncomingMessage[] };
type MessagesUpdate = { type: 'messages.update'; updates: { messageId: string; status: number }[] };
type ContactsUpsert = { type: 'contacts.upsert'; contacts: { jid: string; name: string | null }[] };

type BatchEvent = ConnectionUpdate | MessagesUpsert | MessagesUpdate | ContactsUpsert;

export type Batch = { batchId: string; events: BatchEvent[] };

// ---- parsing -------------------------------------------------------------

/** The batch of a request body, or 400 Invalid batch. */
export function parseBatch(body: Obj): Batch {
  const batchId = body.batchId;
  if (typeof batchId !== 'string' || batchId.length < 1 || batchId.length > 100) throw invalid();
  if (!Array.isArray(body.events) || body.events.length > MAX_EVENTS) throw invalid();
  return { batchId, events: body.events.map(parseEvent) };
}

function parseEvent(e: unknown): BatchEvent {
  if (!isObj(e)) throw invalid();
  const data = e.data;
  switch (e.type) {
    case 'connection.update':
      return parseConnection(data);
    case 'messages.upsert':
      return parseUpsert(data);
    case 'messages.update':
      return parseUpdates(data);
    case 'contacts.upsert':
      return parseContacts(data);
    default:
      throw invalid();
  }
}

const CONNECTION_STATES = ['open', 'connecting', 'close'] as const;
const isConnectionState = (v: unknown): v is ConnectionUpdate['connection'] =>
  typeof v === 'string' && (CONNECTION_STATES as readonly string[]).includes(v);

function parseConnection(data: unknown): ConnectionUpdate {
  if (!isObj(data)) throw invalid();
  const last = opt(data, 'lastDisconnect', isObj);
  return {
    type: 'connection.update',
    connection: opt(data, 'connection', isConnectionState),
    qr: opt(data, 'qr', isString),
    statusCode: last ? opt(last, 'statusCode', isInteger) : undefined,
    phoneNumber: opt(data, 'phoneNumber', isString),
  };
}

function parseUpsert(data: unknown): MessagesUpsert {
  if (!isObj(data)) throw invalid();
  if (data.type !== 'notify' && data.type !== 'append') throw invalid();
  const raw = items(data.messages);
  const media = opt(data, 'media', isObj) ?? {};
  if (!Object.values(media).every(isString)) throw invalid();
  const messages: IncomingMessage[] = [];
  for (const m of raw) {
    if (!isObj(m)) throw invalid();
    const mapped = mapMessage(m, media as Record<string, string>);
    if (mapped) messages.push(mapped);
  }
  return { type: 'messages.upsert', notify: data.type === 'notify', messages };
}

function parseUpdates(data: unknown): MessagesUpdate {
  const updates: MessagesUpdate['updates'] = [];
  for (const u of items(data)) {
    if (!isObj(u) || !isObj(u.key) || !isObj(u.update)) throw invalid();
    const id = opt(u.key, 'id', isString);
    if (id === undefined) throw invalid();
    const status = opt(u.update, 'status', isInteger);
    if (status !== undefined) updates.push({ messageId: id, status });
  }
  return { type: 'messages.update', updates };
}

function parseContacts(data: unknown): ContactsUpsert {
  return {
    type: 'contacts.upsert',
    contacts: items(data).map((c) => {
      if (!isObj(c) || typeof c.id !== 'string' || c.id === '') throw invalid();
      const name = opt(c, 'name', isString);
      const notify = opt(c, 'notify', isString);
      return { jid: c.id, name: name ?? notify ?? null };
    }),
  };
}

// ---- WAMessage JSON → row ------------------------------------------------

/** The first of these sub-messages that is an object decides the type (order matters). */
const TYPE_KEYS: [string, string][] = [
  ['imageMessage', 'IMAGE'],
  ['videoMessage', 'VIDEO'],
  ['audioMessage', 'AUDIO'],
  ['documentMessage', 'DOCUMENT'],
  ['documentWithCaptionMessage', 'DOCUMENT'],
  ['stickerMessage', 'STICKER'],
  ['locationMessage', 'LOCATION'],
  ['liveLocationMessage', 'LOCATION'],
  ['contactMessage', 'CONTACT'],
  ['contactsArrayMessage', 'CONTACT'],
  ['buttonsMessage', 'BUTTONS'],
  ['buttonsResponseMessage', 'BUTTONS'],
  ['templateMessage', 'BUTTONS'],
  ['listMessage', 'LIST'],
  ['listResponseMessage', 'LIST'],
];

const MEDIA_TYPES = new Set(['IMAGE', 'VIDEO', 'AUDIO', 'DOCUMENT', 'STICKER']);

/** Latest timestamp both sides format the same way (toISOString / RFC 3339 with a 4-digit year). */
const MAX_TIMESTAMP_SECS = 253402300799; // 9999-12-31T23:59:59Z
const INT4 = 2147483647;

const field = (o: unknown, key: string): unknown => (isObj(o) ? o[key] : undefined);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** An integer (protobuf long) in min..=max: a JSON integer or a decimal string (sign allowed); else undefined. */
function long(v: unknown, min: number, max: number): number | undefined {
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^[+-]?[0-9]+$/.test(v)) n = Number(v);
  else return undefined;
  return Number.isInteger(n) && n >= min && n <= max ? n + 0 : undefined;
}

/** Content: conversation, extended text, image or video caption (the first that is a string), else null. */
function contentOf(msg: unknown): string | null {
  const candidates = [
    field(msg, 'conversation'),
    field(field(msg, 'extendedTextMessage'), 'text'),
    field(field(msg, 'imageMessage'), 'caption'),
    field(field(msg, 'videoMessage'), 'caption'),
  ];
  for (const c of candidates) if (typeof c === 'string') return c;
  return null;
}

/**
 * The stored row of one WAMessage, or null when it is skipped: no key id or
 * remoteJid (non-empty strings), a status broadcast, or no usable
 * messageTimestamp (seconds, 1970 … 9999).
 */
export function mapMessage(m: Obj, media: Record<string, string>): IncomingMessage | null {
  const key = m.key;
  const id = field(key, 'id');
  const remoteJid = field(key, 'remoteJid');
  if (typeof id !== 'string' || id === '' || typeof remoteJid !== 'string' || remoteJid === '') return null;
  if (remoteJid === 'status@broadcast') return null;
  const secs = long(m.messageTimestamp, 0, MAX_TIMESTAMP_SECS);
  if (secs === undefined) return null;

  const msg = m.message;
  let messageType = 'TEXT';
  let sub: unknown;
  for (const [k, type] of TYPE_KEYS) {
    if (isObj(field(msg, k))) {
      messageType = type;
      sub = k === 'documentWithCaptionMessage' ? field(field(field(msg, k), 'message'), 'documentMessage') : field(msg, k);
      break;
    }
  }
  const isMedia = MEDIA_TYPES.has(messageType);
  const fileLength = isMedia ? long(field(sub, 'fileLength'), -INT4 - 1, INT4) : undefined;
  return {
    messageId: id,
    remoteJid,
    fromMe: field(key, 'fromMe') === true,
    pushName: str(m.pushName),
    content: contentOf(msg),
    messageType,
    mediaUrl: Object.prototype.hasOwnProperty.call(media, id) ? media[id] : null,
    mediaMimeType: isMedia ? str(field(sub, 'mimetype')) : null,
    mediaSize: fileLength ?? null,
    quotedMessageId: str(field(field(field(msg, 'extendedTextMessage'), 'contextInfo'), 'stanzaId')),
    timestamp: new Date(secs * 1000),
    raw: m,
  };
}

/** phoneNumber of a contact: the user part of a `@s.whatsapp.net` jid. */
export function phoneOf(jid: string): string | null {
  const suffix = '@s.whatsapp.net';
  return jid.endsWith(suffix) ? jid.slice(0, jid.length - suffix.length) : null;
}

// ---- applying ------------------------------------------------------------

export type Applied = { connection: number; messages: number; statuses: number; contacts: number };

type SessionState = { sessionId: string; status: string; metadata: unknown };

const currentQr = (metadata: unknown): string | undefined => {
  const qr = field(metadata, 'qr');
  return typeof qr === 'string' ? qr : undefined;
};

/** Apply a parsed batch inside the caller's transaction; the events to emit after commit, in order. */
export async function applyBatch(
  c: PoolClient,
  session: SessionState,
  batch: Batch,
): Promise<{ applied: Applied; events: WaEvent[] }> {
  const applied: Applied = { connection: 0, messages: 0, statuses: 0, contacts: 0 };
  const events: WaEvent[] = [];
  const state = { ...session };
  for (const e of batch.events) {
    switch (e.type) {
      case 'connection.update':
        applied.connection += await applyConnection(c, state, e, events);
        break;
      case 'messages.upsert':
        await applyUpsert(c, state.sessionId, e, events, applied);
        break;
      case 'messages.update':
        applied.statuses += await applyStatuses(c, state.sessionId, e, events);
        break;
      case 'contacts.upsert':
        applied.contacts += await applyContacts(c, state.sessionId, e, events);
        break;
    }
  }
  return { applied, events };
}

async function applyConnection(c: PoolClient, state: SessionState, e: ConnectionUpdate, events: WaEvent[]): Promise<number> {
  const sid = state.sessionId;
  if (e.qr !== undefined) {
    const newQr = currentQr(state.metadata) !== e.qr;
    const newStatus = state.status !== 'QR_REQUIRED';
    if (!newQr && !newStatus) return touch(c, sid);
    const { rows } = await c.query(
      `UPDATE whatsapp_sessions
       SET "status" = 'QR_REQUIRED', "metadata" = COALESCE("metadata", '{}'::jsonb) || jsonb_build_object('qr', $2::text),
           "lastSync" = now(), "updatedAt" = now()
       WHERE "sessionId" = $1 RETURNING "metadata"`,
      [sid, e.qr],
    );
    state.status = 'QR_REQUIRED';
    state.metadata = rows[0]?.metadata;
    if (newQr) events.push({ event: 'qr.code', data: { qr: e.qr } });
    if (newStatus) events.push({ event: 'connection.update', data: { status: 'qr_required' } });
    return 1;
  }
  if (e.connection === undefined) return touch(c, sid);
  const loggedOut = e.connection === 'close' && e.statusCode === 401;
  const target = e.connection === 'open' ? 'CONNECTED' : loggedOut ? 'DISCONNECTED' : 'CONNECTING';
  if (state.status === target) return touch(c, sid);
  let sql: string;
  let params: unknown[];
  if (target === 'CONNECTED') {
    sql = `UPDATE whatsapp_sessions
           SET "status" = 'CONNECTED', "lastConnected" = now(), "phoneNumber" = COALESCE($2, "phoneNumber"),
               "metadata" = "metadata" - 'qr', "lastSync" = now(), "updatedAt" = now()
           WHERE "sessionId" = $1 RETURNING "metadata"`;
    params = [sid, e.phoneNumber ?? null];
  } else {
    sql = `UPDATE whatsapp_sessions
           SET "status" = $2::"WhatsAppSessionStatus", "isActive" = CASE WHEN $3 THEN false ELSE "isActive" END,
               "metadata" = "metadata" - 'qr', "lastSync" = now(), "updatedAt" = now()
           WHERE "sessionId" = $1 RETURNING "metadata"`;
    params = [sid, target, loggedOut];
  }
  const { rows } = await c.query(sql, params);
  state.status = target;
  state.metadata = rows[0]?.metadata;
  events.push({ event: 'connection.update', data: { status: socketStatus(target) } });
  return 1;
}

/** A connection update that changes nothing still records that the worker is alive. */
async function touch(c: PoolClient, sessionId: string): Promise<number> {
  await c.query(`UPDATE whatsapp_sessions SET "lastSync" = now() WHERE "sessionId" = $1`, [sessionId]);
  return 0;
}

/** New messages (and the contacts they created, counted in `applied.contacts`). */
async function applyUpsert(
  c: PoolClient,
  sessionId: string,
  e: MessagesUpsert,
  events: WaEvent[],
  applied: Applied,
): Promise<void> {
  for (const m of e.messages) {
    const ins = await c.query(
      `INSERT INTO whatsapp_messages
         ("sessionId", "messageId", "remoteJid", "fromMe", "content", "messageType", "status",
          "mediaUrl", "mediaMimeType", "mediaSize", "quotedMessageId", "timestamp", "metadata", "senderId")
       VALUES ($1, $2, $3, $4, $5, $6::"WhatsAppMessageType", $7::"WhatsAppMessageStatus",
               $8, $9, $10, $11, $12, $13::jsonb, NULL)
       ON CONFLICT ("sessionId", "messageId") DO NOTHING
       RETURNING ${MESSAGE_COLS}`,
      [
        sessionId, m.messageId, m.remoteJid, m.fromMe, m.content, m.messageType, m.fromMe ? 'SENT' : 'DELIVERED',
        m.mediaUrl, m.mediaMimeType, m.mediaSize, m.quotedMessageId, m.timestamp, JSON.stringify(m.raw),
      ],
    );
    if (!ins.rows[0]) continue;
    applied.messages += 1;
    const row = message(ins.rows[0]);
    const contact = await c.query(
      `INSERT INTO whatsapp_contacts ("sessionId", "jid", "name", "phoneNumber", "isGroup", "lastMessageAt", "unreadCount")
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT ("sessionId", "jid") DO UPDATE SET
         "name" = COALESCE(whatsapp_contacts."name", EXCLUDED."name"),
         "lastMessageAt" = GREATEST(whatsapp_contacts."lastMessageAt", EXCLUDED."lastMessageAt"),
         "unreadCount" = whatsapp_contacts."unreadCount" + EXCLUDED."unreadCount",
         "updatedAt" = now()
       RETURNING (xmax = 0) AS "created", "jid", "name"`,
      [
        sessionId, m.remoteJid, m.fromMe ? null : m.pushName, phoneOf(m.remoteJid), m.remoteJid.endsWith('@g.us'),
        m.timestamp, !m.fromMe && e.notify ? 1 : 0,
      ],
    );
    const k = contact.rows[0];
    if (k.created) {
      applied.contacts += 1;
      events.push({ event: 'contact.created', data: { jid: k.jid, name: k.name } });
    }
    events.push({ event: 'message.received', data: receivedEvent(row) });
  }
}

/**
 * WhatsApp ack codes: 3 DELIVERY_ACK, 4 READ, 5 PLAYED. Statuses only move
 * forward along PENDING → SENT → DELIVERED → READ; FAILED is left alone.
 */
async function applyStatuses(c: PoolClient, sessionId: string, e: MessagesUpdate, events: WaEvent[]): Promise<number> {
  let changed = 0;
  for (const u of e.updates) {
    if (u.status === 3) {
      const { rows } = await c.query(
        `UPDATE whatsapp_messages SET "status" = 'DELIVERED', "deliveredAt" = now(), "updatedAt" = now()
         WHERE "sessionId" = $1 AND "messageId" = $2 AND "status" IN ('PENDING', 'SENT')
         RETURNING "messageId", "deliveredAt"`,
        [sessionId, u.messageId],
      );
      if (!rows[0]) continue;
      changed += 1;
      events.push({
        event: 'message.status',
        data: { messageId: rows[0].messageId, status: 'DELIVERED', deliveredAt: rows[0].deliveredAt.toISOString() },
      });
    } else if (u.status === 4 || u.status === 5) {
      const { rows } = await c.query(
        `UPDATE whatsapp_messages
         SET "status" = 'READ', "readAt" = now(), "deliveredAt" = COALESCE("deliveredAt", now()), "updatedAt" = now()
         WHERE "sessionId" = $1 AND "messageId" = $2 AND "status" IN ('PENDING', 'SENT', 'DELIVERED')
         RETURNING "messageId", "readAt"`,
        [sessionId, u.messageId],
      );
      if (!rows[0]) continue;
      changed += 1;
      events.push({
        event: 'message.status',
        data: { messageId: rows[0].messageId, status: 'READ', readAt: rows[0].readAt.toISOString() },
      });
    }
  }
  return changed;
}

async function applyContacts(c: PoolClient, sessionId: string, e: ContactsUpsert, events: WaEvent[]): Promise<number> {
  let changed = 0;
  for (const k of e.contacts) {
    // New: insert. Known: rename only to a different, non-null name.
    const { rows } = await c.query(
      `INSERT INTO whatsapp_contacts ("sessionId", "jid", "name", "phoneNumber", "isGroup")
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT ("sessionId", "jid") DO UPDATE SET "name" = EXCLUDED."name", "updatedAt" = now()
         WHERE EXCLUDED."name" IS NOT NULL AND whatsapp_contacts."name" IS DISTINCT FROM EXCLUDED."name"
       RETURNING (xmax = 0) AS "created", "jid", "name"`,
      [sessionId, k.jid, k.name, phoneOf(k.jid), k.jid.endsWith('@g.us')],
    );
    const row = rows[0];
    if (!row) continue;
    changed += 1;
    events.push({ event: row.created ? 'contact.created' : 'contact.updated', data: { jid: row.jid, name: row.name } });
  }
  return changed;
}
