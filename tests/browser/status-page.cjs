// The status page in headless Chromium, driven step by step by
// tests/e2e/status_page.rs over stdin/stdout (one JSON object per line each
// way). It opens ADMIN_URL/-/ui once (JavaScript on: the page refetches
// itself) and keeps it open while the Rust test makes things happen through
// cutover; after each event the test asks it to wait for the page to show it.
//
// Requests (stdin)                                 Replies (stdout)
//   {"op":"expect","route","field","text","within"} {"ok",ms | error,cell}
//       the cell td[data-field=field] of tr[data-route=route] contains text
//   {"op":"nojs"}      a second context with JavaScript disabled loads the
//                      page: {"ok",rows,text}
//   {"op":"narrow","width","path"?}  a context that wide (under 480 px a
//                      phone; screenshot to path):
//                      {"ok",scrollWidth,innerWidth,theadDisplay}
//   {"op":"screenshot","path"}  the main page, full height: {"ok"}
//   {"op":"errors"}    console errors and page errors so far (a CSP
//                      violation shows up here): {"ok",errors}
//   {"op":"close"}
// First line out: {"ready":true} once the table is on screen.
//
// env: ADMIN_URL, CHROMIUM (default /usr/bin/chromium). Exits by itself
// after 120 s so a stuck test never hangs.
'use strict';
const path = require('node:path');
const readline = require('node:readline');
const { chromium } = require(path.join(__dirname, 'node_modules/playwright-core'));

const ADMIN_URL = process.env.ADMIN_URL;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const say = (v) => process.stdout.write(JSON.stringify(v) + '\n');
setTimeout(() => {
  process.stderr.write('status-page.cjs: 120 s passed, giving up\n');
  process.exit(2);
}, 120_000).unref();

async function main() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  const errors = [];
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 480 } });
  const page = await ctx.newPage();
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(`${ADMIN_URL}/-/ui`);
  await page.waitForSelector('tr[data-route]');
  say({ ready: true });

  const ops = {
    async expect({ route, field, text, within }) {
      const sel = `tr[data-route="${route}"] td[data-field="${field}"]`;
      const started = Date.now();
      try {
        await page.waitForFunction(
          ([sel, text]) => (document.querySelector(sel)?.textContent ?? '').includes(text),
          [sel, text],
          { timeout: within, polling: 50 },
        );
        return { ok: true, ms: Date.now() - started };
      } catch (e) {
        const cell = await page.locator(sel).textContent().catch(() => null);
        return { ok: false, error: `not shown within ${within} ms`, cell };
      }
    },
    async nojs() {
      const c = await browser.newContext({ javaScriptEnabled: false });
      const p = await c.newPage();
      await p.goto(`${ADMIN_URL}/-/ui`);
      const rows = await p.locator('tr[data-route]').count();
      const text = await p.locator('table').innerText();
      await c.close();
      return { ok: true, rows, text };
    },
    async narrow({ path: file, width }) {
      const phone = width < 480;
      const c = await browser.newContext({ viewport: { width, height: 740 }, isMobile: phone, hasTouch: phone });
      const p = await c.newPage();
      await p.goto(`${ADMIN_URL}/-/ui`);
      await p.waitForSelector('tr[data-route]');
      const r = await p.evaluate(() => ({
        scrollWidth: document.documentElement.scrollWidth,
        innerWidth: window.innerWidth,
        theadDisplay: getComputedStyle(document.querySelector('thead')).display,
      }));
      if (file) await p.screenshot({ path: file, fullPage: true });
      await c.close();
      return { ok: true, ...r };
    },
    async screenshot({ path: file }) {
      await page.screenshot({ path: file, fullPage: true });
      return { ok: true };
    },
    async errors() {
      return { ok: true, errors };
    },
  };

  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const req = JSON.parse(line);
    if (req.op === 'close') break;
    const op = ops[req.op];
    say(op ? await op(req).catch((e) => ({ ok: false, error: String(e) })) : { ok: false, error: `unknown op ${req.op}` });
  }
  await browser.close();
}

main().catch((e) => {
  process.stderr.write(`status-page.cjs: ${e.stack || e}\n`);
  say({ ok: false, error: String(e) });
  process.exit(1);
});
