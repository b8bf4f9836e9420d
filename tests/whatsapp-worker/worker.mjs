#!/usr/bin/env node
// A stand-in for the app's Baileys WhatsApp worker. It never opens a socket
// to WhatsApp: it plays what a Baileys socket would emit (built with the real
// package's proto types) to the WhatsApp worker API, with a service token, as
// the real worker does after the migration. See README.md and
// contracts/whatsapp.md ("Routes (worker, service token)").
//
//   node worker.mjs --base URL --token TOKEN --session SESSION_ID --media-root DIR
//        [--messages 300] [--mode replay|outbox|soak] [--duration-ms N]
//        [--worker-id w1] [--batch-size 25] [--seed 1]
//
// Prints one JSON summary on stdout; logs go to stderr. Exit 0 even when
// requests failed (they are in `failures`); 2 on bad flags, 1 on a crash.
import { parseArgs } from "node:util";
import { createHash } from "node:crypto";
import { Rng } from "./rng.mjs";
import { WorkerApi, sleep } from "./http.mjs";
import { MEDIA_KINDS, storeMedia } from "./media.mjs";
import {
  DisconnectReason,
  makeContacts,
  makeEcho,
  makeMessages,
  makeQr,
  makeReceipts,
  makeWorld,
} from "./baileys-data.mjs";

const TS_BASE = 1764500000; // message i of the run is at TS_BASE + i * 37 s
const TS_STEP = 37;
const EVENTS = "/api/whatsapp/worker/events";
const MAX_CLAIMS = 10_000; // bounds a drain against a server that never empties

const log = (...args) => console.error("[wa-worker]", ...args);

// ------------------------------------------------------------------- flags

function usage(message) {
  console.error(`worker.mjs: ${message}
usage: node worker.mjs --base URL --token TOKEN --session SESSION_ID --media-root DIR
         [--messages 300] [--mode replay|outbox|soak] [--duration-ms N]
         [--worker-id w1] [--batch-size 25] [--seed 1]`);
  process.exit(2);
}

function intFlag(values, name, fallback, min) {
  const raw = values[name];
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min) usage(`--${name} must be an integer >= ${min}`);
  return Number(raw);
}

function parseFlags(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        base: { type: "string" },
        token: { type: "string" },
        session: { type: "string" },
        "media-root": { type: "string" },
        messages: { type: "string" },
        mode: { type: "string" },
        "duration-ms": { type: "string" },
        "worker-id": { type: "string" },
        "batch-size": { type: "string" },
        seed: { type: "string" },
      },
    }));
  } catch (err) {
    usage(err.message);
  }
  for (const name of ["base", "token", "session", "media-root"]) {
    if (!values[name]) usage(`--${name} is required`);
  }
  const mode = values.mode ?? "replay";
  if (!["replay", "outbox", "soak"].includes(mode)) usage("--mode must be replay, outbox or soak");
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(values.session)) usage("--session must match ^[A-Za-z0-9_-]{1,64}$");
  return {
    base: values.base,
    token: values.token,
    session: values.session,
    mediaRoot: values["media-root"],
    mode,
    messages: intFlag(values, "messages", 300, 0),
    durationMs: intFlag(values, "duration-ms", 10_000, 0),
    workerId: values["worker-id"] ?? "w1",
    batchSize: intFlag(values, "batch-size", 25, 1),
    seed: values.seed ?? "1",
  };
}

// ------------------------------------------------------------------ worker

function chunks(list, size) {
  const out = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

class Worker {
  constructor(opts, api) {
    this.opts = opts;
    this.api = api;
    this.root = new Rng(`cutover-whatsapp-worker:${opts.seed}`);
    // The seed alone decides the data (not the session id), so two sessions
    // fed with the same flags differ only in sessionId, batchId and media names.
    this.world = makeWorld(this.root.fork("world"));
    this.seq = 0; // batch counter, part of the batchId
    this.clock = 0; // message counter: timestamps
    this.stats = { batches: 0, messagesSent: 0, mediaFiles: 0, receipts: 0, outboxSent: 0, rounds: 0 };
    this.sessionListed = null;
    this.replays = [];
    this.claims = 0;
  }

  nextTimestamp() {
    return TS_BASE + TS_STEP * this.clock++;
  }

  /** POST /events with one batch. The body string is built once, so every
   *  retry (and a later replay) sends the same bytes.
   *  batchId = `${session}:${seq}:${first 12 hex of SHA-256 of the events}`:
   *  the hash keeps a later run on the same session (other flags, another
   *  mode) from colliding with this one's batches, while the very same batch
   *  (same run, or an identical rerun) keeps its id. */
  async postBatch(label, events, { sessionId = this.opts.session, batchId } = {}) {
    const eventsJson = JSON.stringify(events);
    const digest = createHash("sha256").update(eventsJson).digest("hex").slice(0, 12);
    const id = batchId ?? `${this.opts.session}:${++this.seq}:${digest}`;
    const body = JSON.stringify({ sessionId, batchId: id, events });
    const res = await this.api.call(label, "POST", EVENTS, body);
    this.stats.batches++;
    return { body, res };
  }

  connectionUpdate(label, data) {
    return this.postBatch(label, [{ type: "connection.update", data }]);
  }

  // Step 1: the worker polls its session list and holds a socket for each.
  async listSessions() {
    const res = await this.api.call("sessions", "GET", "/api/whatsapp/worker/sessions");
    const sessions = res.json?.sessions;
    this.sessionListed = Array.isArray(sessions) && sessions.some((s) => s.sessionId === this.opts.session);
    log(`session ${this.opts.session} listed: ${this.sessionListed}`);
  }

  /** Steps 2-7 once; round r has its own messages (new ids and content). */
  async round(r) {
    const p = r === 0 ? "" : `r${r}.`;
    const rng = this.root.fork(`round:${r}`);

    // 2. A fresh socket: Baileys emits a QR until the phone scans it, then
    //    `open`. (The worker adds the phone number from sock.user.id.)
    await this.connectionUpdate(`${p}connection.qr`, { qr: makeQr(rng) });
    await this.connectionUpdate(`${p}connection.open`, { connection: "open", phoneNumber: this.world.me.phone });

    // 3. Messages, in `messages.upsert` batches; media files are stored
    //    first, as the real worker downloads and decrypts before it posts.
    const firstClock = this.clock;
    const messages = makeMessages({
      rng: rng.fork("messages"),
      world: this.world,
      count: this.opts.messages,
      clock: (i) => TS_BASE + TS_STEP * (firstClock + i),
    });
    this.clock += messages.length;
    let firstBatch = null;
    for (const [k, batch] of chunks(messages, this.opts.batchSize).entries()) {
      // Most batches are live messages ('notify'); every 4th is 'append'
      // (messages synced from the phone, which do not count as unread).
      const type = k % 4 === 3 ? "append" : "notify";
      const posted = await this.postBatch(`${p}messages#${k + 1}`, [
        { type: "messages.upsert", data: this.upsertData(type, batch) },
      ]);
      this.stats.messagesSent += batch.length;
      firstBatch ??= posted;
    }

    // 4. The address book.
    await this.postBatch(`${p}contacts`, [{ type: "contacts.upsert", data: makeContacts(this.world) }]);

    // 5. Receipts for our own messages.
    const receipts = makeReceipts(rng.fork("receipts"), messages);
    for (const [k, batch] of chunks(receipts, this.opts.batchSize).entries()) {
      await this.postBatch(`${p}receipts#${k + 1}`, [{ type: "messages.update", data: batch }]);
      this.stats.receipts += batch.length;
    }

    // 6. WhatsApp asks for a restart (stream error 515); Baileys closes and
    //    the worker reconnects. lastDisconnect.error.output.statusCode is
    //    flattened into statusCode.
    await this.connectionUpdate(`${p}connection.close`, {
      connection: "close",
      lastDisconnect: { statusCode: DisconnectReason.restartRequired },
    });
    await this.connectionUpdate(`${p}connection.connecting`, { connection: "connecting" });
    await this.connectionUpdate(`${p}connection.reopen`, { connection: "open", phoneNumber: this.world.me.phone });

    // 7. A batch whose answer was lost is sent again: same batchId, same body.
    if (firstBatch) {
      const res = await this.api.call(`${p}replay`, "POST", EVENTS, firstBatch.body);
      this.stats.batches++;
      this.replays.push(res.json?.duplicate === true);
    }
    this.stats.rounds++;
  }

  /** `messages.upsert` data; stores each media file and names it in `media`. */
  upsertData(type, batch) {
    const data = { type, messages: batch.map((m) => m.json) };
    const media = {};
    for (const m of batch) {
      if (!m.media) continue;
      const id = m.json.key.id;
      const objectName = `${this.opts.session}/${id}.${MEDIA_KINDS[m.media.kind].ext}`;
      storeMedia(this.opts.mediaRoot, objectName, m.media.bytes);
      this.stats.mediaFiles++;
      media[id] = objectName;
    }
    if (Object.keys(media).length) data.media = media;
    return data;
  }

  // Step 8: claim queued sends, "send" each, report the result.
  /** One claim; returns the number of items handled, or -1 on a failed claim. */
  async claimOnce() {
    const n = ++this.claims;
    const body = JSON.stringify({ workerId: this.opts.workerId, limit: 10, leaseSeconds: 30 });
    const res = await this.api.call(`outbox.claim#${n}`, "POST", "/api/whatsapp/worker/outbox/claim", body);
    if (!res.ok || !Array.isArray(res.json?.items)) return -1;
    for (const item of res.json.items) await this.send(item);
    return res.json.items.length;
  }

  /** What the real worker does for one outbox item: sock.sendMessage(toJid,
   *  {text: content}, {messageId: waMessageId}); Baileys echoes the message as
   *  `messages.upsert` type 'append'; then the worker reports the result. */
  async send(item) {
    const echo = makeEcho(item, this.world, this.nextTimestamp());
    // One batch id per WhatsApp message: a re-claimed item (lease expired)
    // re-posts the same echo and gets `duplicate: true`.
    let batchId = `${item.sessionId}:echo:${item.waMessageId}`;
    if (batchId.length > 100) batchId = createHash("sha256").update(batchId).digest("hex");
    await this.postBatch(
      `outbox.echo ${item.waMessageId}`,
      [{ type: "messages.upsert", data: { type: "append", messages: [echo] } }],
      { sessionId: item.sessionId, batchId },
    );
    this.stats.messagesSent++;
    const body = JSON.stringify({ workerId: this.opts.workerId, ok: true, messageId: item.waMessageId });
    const path = `/api/whatsapp/worker/outbox/${encodeURIComponent(item.outboxId)}/result`;
    const res = await this.api.call(`outbox.result ${item.waMessageId}`, "POST", path, body);
    if (res.ok) this.stats.outboxSent++;
  }

  /** Claims until a claim returns no items (or fails). */
  async drainOutbox() {
    for (let n = 0; n < MAX_CLAIMS; n++) {
      if ((await this.claimOnce()) <= 0) return;
    }
  }

  /** Claims every 100 ms until the deadline. */
  async pollOutbox(deadline) {
    while (Date.now() < deadline) {
      const got = await this.claimOnce();
      if (got <= 0) await sleep(100);
    }
  }

  async run() {
    const { mode, durationMs } = this.opts;
    const deadline = Date.now() + durationMs;
    if (mode === "replay") {
      await this.listSessions();
      await this.round(0);
      await this.drainOutbox();
    } else if (mode === "outbox") {
      await this.pollOutbox(deadline);
    } else {
      for (let r = 0; r === 0 || Date.now() < deadline; r++) {
        await this.round(r);
        await this.drainOutbox();
      }
      await this.drainOutbox();
    }
  }

  summary() {
    const { api, stats, opts } = this;
    const out = {
      session: opts.session,
      batches: stats.batches,
      duplicates: api.duplicates,
      replayedDuplicate: this.replays.length > 0 && this.replays.every(Boolean),
      messagesSent: stats.messagesSent,
      receipts: stats.receipts,
      outboxSent: stats.outboxSent,
      failures: api.failures,
      mode: opts.mode,
      workerId: opts.workerId,
      sessionListed: this.sessionListed,
      rounds: stats.rounds,
      mediaFiles: stats.mediaFiles,
    };
    if (opts.mode === "replay") out.transcript = api.transcript;
    return out;
  }
}

// -------------------------------------------------------------------- main

async function main() {
  const opts = parseFlags(process.argv.slice(2));
  const api = new WorkerApi({ base: opts.base, token: opts.token, keepTranscript: opts.mode === "replay", log });
  const worker = new Worker(opts, api);
  log(`mode=${opts.mode} session=${opts.session} messages=${opts.messages} seed=${opts.seed}`);
  await worker.run();
  const summary = worker.summary();
  log(
    `done: ${summary.batches} batches, ${summary.messagesSent} messages, ${summary.receipts} receipts, ` +
      `${summary.outboxSent} sent, ${summary.duplicates} duplicates, ${summary.failures.length} failures`,
  );
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
