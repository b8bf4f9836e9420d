// The frontend notices nothing (issue 16): two users chat in the legacy Next
// app's real pages (tests/legacy-next: /login, /chat, /chat/[threadId]) in
// two headless Chromium contexts at cutover's address, and a chat-widget
// visitor writes on /widget, while this script walks the given routes through
// next → shadow → canary 50 % → rust → next by writing their flag files (temp
// file + rename, as an editor does) and waiting for /-/config on the admin
// port to show the new flags. Each stage: both users leave the thread and come
// back by client-side navigation (threads list, realtime config and channel
// auth again), page through the history by scrolling up, type (the other sees
// "… is typing"), send (the other sees each message live, and the sender sees
// "Seen"), send at the same time, and schedule and cancel a message. Then
// Alice opens /whatsapp in a second tab: adds a session and connects it; the
// Baileys worker stand-in links it (QR, then connected, live on the page) and
// delivers chats with media; she opens them (images shown from the media
// route), replies, and disconnects the session.
//
// At the end it checks: every message each user sent is on the other's screen
// exactly once, in the order sent; no page error or console error; no failed
// request or HTTP error except the one wrong-password login it makes on
// purpose (a navigation's RSC fetch that the app router cancels after a 2xx
// answer is logged as cancelled, not failed); no page reloaded (window.__loadId set once, no second document
// load); each stage's API answers came from the flagged backend (canary: one
// backend per user and route). Artifacts in ARTIFACTS: per stage and user a
// screenshot, console-<user>.log, network-<user>.jsonl (method, path, status,
// x-cutover-route / -backend, stage), summary.json, overview.png.
//
// env: BASE_URL, ADMIN_URL, FLAGS_DIR, ROUTES (comma-separated flag ids),
//      THREAD_ID, USERS (JSON [{id, name, email, password}, two of them]),
//      WIDGET (JSON {tenant, token}, optional), ARTIFACTS, CHROMIUM,
//      WORKER (tests/whatsapp-worker/worker.mjs), WORKER_TOKEN, MEDIA_ROOT.
// Parts: migration-person.cjs (one person's page, actions and logs),
// migration-whatsapp.cjs (the /whatsapp tab with the worker stand-in).
// Prints one JSON line per step; exits 0 when every check held, else 1 with
// the failed checks on stderr.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require(path.join(__dirname, 'node_modules/playwright-core'));
const { Person, WAIT } = require('./migration-person.cjs');
const { whatsapp } = require('./migration-whatsapp.cjs');

const env = (name, fallback) => {
  const v = process.env[name] ?? fallback;
  if (v === undefined) throw new Error(`${name} is not set (see the header of tests/browser/migration.cjs)`);
  return v;
};
const BASE_URL = env('BASE_URL');
const ADMIN_URL = env('ADMIN_URL');
const FLAGS_DIR = env('FLAGS_DIR');
const ROUTES = env('ROUTES').split(',').filter(Boolean);
const THREAD_ID = env('THREAD_ID');
const USERS = JSON.parse(env('USERS'));
const WIDGET = process.env.WIDGET ? JSON.parse(process.env.WIDGET) : null;
const ARTIFACTS = env('ARTIFACTS');
const CHROMIUM = env('CHROMIUM', '/usr/bin/chromium');
const WORKER = env('WORKER');
const WORKER_TOKEN = env('WORKER_TOKEN');
const MEDIA_ROOT = env('MEDIA_ROOT');

const STAGES = [
  { name: 'next', flag: 'backend = "next"\n', shows: 'next', serves: 'next' },
  { name: 'shadow', flag: 'backend = "next"\nshadow = { percent = 100 }\n', shows: 'next, shadow 100%', serves: 'next' },
  { name: 'canary-50', flag: 'canary = { percent = 50, sticky_by = "user" }\n', shows: 'canary 50% rust by user', serves: 'sticky' },
  { name: 'rust', flag: 'backend = "rust"\n', shows: 'rust', serves: 'rust' },
  { name: 'next-again', flag: 'backend = "next"\n', shows: 'next', serves: 'next' },
];

const say = (v) => process.stdout.write(JSON.stringify(v) + '\n');
const problems = [];
const check = (ok, what) => {
  if (!ok) problems.push(what);
  return ok;
};
// Shared with the people: the stage their requests are labelled with.
const run = { stage: 'login', baseUrl: BASE_URL, artifacts: ARTIFACTS, threadId: THREAD_ID, check };

/** Flag files for every route, then wait until cutover serves them. */
async function flip(s) {
  run.stage = 'transition';
  for (const id of ROUTES) {
    const tmp = path.join(FLAGS_DIR, `.${id}.swp`);
    fs.writeFileSync(tmp, `# browser migration stage ${s.name}\n${s.flag}`);
    fs.renameSync(tmp, path.join(FLAGS_DIR, `${id}.toml`));
  }
  const deadline = Date.now() + 10_000;
  for (;;) {
    const cfg = await (await fetch(`${ADMIN_URL}/-/config`)).json();
    const pending = ROUTES.filter((id) => cfg.routes.find((r) => r.id === id)?.flag !== s.shows);
    if (pending.length === 0) {
      run.stage = s.name;
      return cfg.generation;
    }
    if (Date.now() > deadline) throw new Error(`flags not applied within 10 s: ${pending.join(', ')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The widget visitor: one message per stage, shown once. */
async function widgetStage(visitor, s) {
  const text = `${s.name}: widget visitor asks`;
  await visitor.page.click('[data-testid=composer-input]');
  await visitor.page.keyboard.type(text);
  await visitor.page.keyboard.press('Enter');
  visitor.sent.push(text);
  await visitor.sees(text);
}

/**
 * The SSE visitor: a message written to its conversation by another device
 * (a plain fetch, whose answer the page never sees) shows on its screen only
 * through the conversation's SSE stream, once, whichever side serves it.
 */
async function sseStage(viewer, s) {
  const text = `${s.name}: arrives over SSE`;
  const status = await viewer.page.evaluate(async ({ tenant, token, text }) => {
    const id = sessionStorage.getItem(`chat-widget:${tenant}:conversation`);
    const r = await fetch(`/api/tenant-chatbot/conversations/${encodeURIComponent(id)}/messages`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ body: text, clientMessageId: crypto.randomUUID() }),
    });
    return r.status;
  }, { tenant: WIDGET.tenant, token: WIDGET.token, text });
  check(status >= 200 && status < 300, `${s.name}: the SSE visitor's conversation took no write: ${status}`);
  viewer.sent.push(text);
  await viewer.sees(text);
}

async function stageTraffic(i, s, [a, b], visitor, viewer) {
  await Promise.all([a.leaveAndReturn(), b.leaveAndReturn()]);
  const history = await Promise.all([a.readHistory(), b.readHistory()]);
  check(history.every((n) => n >= 45), `${s.name}: history not fully paged: ${history}`);
  for (const [from, to] of [[a, b], [b, a]]) {
    for (let n = 1; n <= 2; n++) {
      const text = `${s.name}: ${from.spec.name} says ${n}`;
      const typing = n === 1 ? to.seesTyping(from.spec.name) : null;
      await from.send(text, n === 1);
      if (typing) await typing;
      await to.sees(text);
    }
    await from.seesSeen(from.sent[from.sent.length - 1]);
  }
  // Both at once, each in order.
  const burst = (p) => (async () => {
    for (let n = 1; n <= 3; n++) await p.send(`${s.name}: ${p.spec.name} at once ${n}`, false);
  })();
  await Promise.all([burst(a), burst(b)]);
  await Promise.all([a.sees(b.sent[b.sent.length - 1]), b.sees(a.sent[a.sent.length - 1])]);
  await a.scheduleAndCancel(`${s.name}: reminder from ${a.spec.name}`);
  if (visitor) await widgetStage(visitor, s);
  if (viewer) await sseStage(viewer, s);
  await Promise.all([a.shot(i, s.name), b.shot(i, s.name), visitor?.shot(i, s.name), viewer?.shot(i, s.name)]);
}

/** Each stage's flipped-route answers came from the flagged backend. */
function checkBackends(people) {
  const summary = {};
  for (const p of people) {
    for (const r of p.network) {
      if (!r.route || !ROUTES.includes(r.route)) continue;
      const key = `${r.stage}/${p.label}/${r.route}`;
      summary[key] = summary[key] ?? {};
      summary[key][r.backend] = (summary[key][r.backend] ?? 0) + 1;
    }
  }
  for (const s of STAGES) {
    const rows = Object.entries(summary).filter(([k]) => k.startsWith(`${s.name}/`));
    check(rows.length > 0, `${s.name}: no request to a flipped route`);
    for (const [key, by] of rows) {
      const sides = Object.keys(by);
      if (s.serves === 'sticky') check(sides.length === 1, `${key}: canary not sticky per user: ${JSON.stringify(by)}`);
      else check(sides.length === 1 && sides[0] === s.serves, `${key}: answered by ${JSON.stringify(by)}, flag says ${s.serves}`);
    }
  }
  return summary;
}

/** One stage's two screens side by side, with who answered, for the README. */
async function overview(browser, i, name, backends) {
  const answered = {};
  for (const [key, by] of Object.entries(backends)) {
    if (!key.startsWith(`${name}/`)) continue;
    for (const [side, n] of Object.entries(by)) answered[side] = (answered[side] ?? 0) + n;
  }
  const counts = Object.entries(answered).map(([side, n]) => `${n} by ${side}`).join(', ');
  const img = (label) => `data:image/png;base64,${fs.readFileSync(path.join(ARTIFACTS, `${i}-${name}-${label}.png`)).toString('base64')}`;
  const page = await browser.newPage({ viewport: { width: 1240, height: 500 } });
  await page.setContent(`<body style="margin:0;font:14px system-ui;background:#1d2330;color:#fff">
    <p style="margin:8px 12px">${ROUTES.length} routes flagged <b>${name}</b>; the pages' API calls on them answered ${counts} — same pages, no reload</p>
    <div style="display:flex;gap:8px;padding:0 8px">${USERS.map((u, k) => `<figure style="margin:0"><img style="width:604px" src="${img(['alice', 'bob'][k])}"><figcaption>${u.name}</figcaption></figure>`).join('')}</div></body>`);
  await page.screenshot({ path: path.join(ARTIFACTS, 'overview.png') });
  await page.close();
}

async function main() {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const people = [new Person(browser, USERS[0], 'alice', run), new Person(browser, USERS[1], 'bob', run)];
  let visitor = null;
  let viewer = null;
  try {
    for (const p of people) await p.open();
    await people[0].login(true);
    await people[1].login(false);
    say({ logged_in: people.map((p) => p.spec.email) });
    if (WIDGET) {
      visitor = new Person(browser, { name: 'Visitor' }, 'visitor', run);
      await visitor.open();
      await visitor.page.goto(`/widget?tenant=${encodeURIComponent(WIDGET.tenant)}#token=${WIDGET.token}`);
      await visitor.page.waitForSelector('[data-testid=widget][data-realtime=subscribed]', WAIT);
      visitor.loadId = await visitor.page.evaluate(() => (window.__loadId = 'widget'));
      visitor.loads = 0;
      viewer = new Person(browser, { name: 'SSE visitor' }, 'sse-visitor', run);
      await viewer.open();
      await viewer.page.goto(`/widget?tenant=${encodeURIComponent(WIDGET.tenant)}&transport=sse#token=${WIDGET.token}`);
      await viewer.page.waitForSelector('[data-testid=widget][data-transport=sse][data-realtime=subscribed]', WAIT);
      viewer.loadId = await viewer.page.evaluate(() => (window.__loadId = 'sse-widget'));
      viewer.loads = 0;
    }
    for (const [i, s] of STAGES.entries()) {
      const generation = await flip(s);
      say({ stage: s.name, generation });
      await stageTraffic(i + 1, s, people, visitor, viewer);
      say({ stage_done: s.name, sent: people.map((p) => p.sent.length) });
    }
    await whatsapp(people[0], { worker: WORKER, token: WORKER_TOKEN, mediaRoot: MEDIA_ROOT, baseUrl: BASE_URL, artifacts: ARTIFACTS, check, say });
    run.stage = 'checks';
    const [a, b] = people;
    for (const [from, to] of [[a, b], [b, a]]) {
      const onOther = await to.shown(from.sent);
      check(JSON.stringify(onOther) === JSON.stringify(from.sent),
        `${from.label}'s ${from.sent.length} messages on ${to.label}'s screen: ${JSON.stringify(onOther)}`);
      const onOwn = await from.shown(from.sent);
      check(JSON.stringify(onOwn) === JSON.stringify(from.sent), `${from.label}'s messages on their own screen: ${JSON.stringify(onOwn)}`);
    }
    if (visitor) {
      const shown = await visitor.shown(visitor.sent);
      check(JSON.stringify(shown) === JSON.stringify(visitor.sent), `widget messages: ${JSON.stringify(shown)}`);
    }
    if (viewer) {
      const shown = await viewer.shown(viewer.sent);
      check(JSON.stringify(shown) === JSON.stringify(viewer.sent), `messages over SSE: ${JSON.stringify(shown)}`);
    }
    const all = [...people, visitor, viewer].filter(Boolean);
    for (const p of all) {
      const id = await p.page.evaluate(() => window.__loadId);
      check(id === p.loadId && p.loads === 0, `${p.label}'s page reloaded (loadId ${id} vs ${p.loadId}, ${p.loads} document loads)`);
      check(p.errors.length === 0, `${p.label}: ${p.errors.join('; ')}`);
      check(p.failed.length === 0, `${p.label}: failed requests: ${p.failed.join('; ')}`);
    }
    const backends = checkBackends(all);
    await overview(browser, 4, 'rust', backends);
    fs.writeFileSync(path.join(ARTIFACTS, 'summary.json'), JSON.stringify({
      stages: STAGES.map((s) => s.name), routes: ROUTES, sent: Object.fromEntries(all.map((p) => [p.label, p.sent])),
      backends, problems,
    }, null, 2));
  } finally {
    for (const p of [...people, visitor, viewer].filter(Boolean)) p.save();
    await browser.close();
  }
  if (problems.length > 0) {
    console.error(`browser migration: ${problems.length} check(s) failed (artifacts in ${ARTIFACTS}):\n- ${problems.join('\n- ')}`);
    process.exit(1);
  }
  say({ ok: true, artifacts: ARTIFACTS });
}

main().catch((e) => {
  console.error(`browser migration failed in stage ${run.stage}: ${e.stack ?? e} (artifacts in ${ARTIFACTS})`);
  process.exit(1);
});
