// Tester override in a real browser (issue 16): headless Chromium contexts at
// cutover's address load a page that fetches a route flagged `next`.
//   tester:   opens the /-/override?token=… link (which sets the cookie), then
//             the page: its API call must come back `x-cutover-backend: rust`;
//   other:    no cookie: next;
//   expired / tampered: the cookie set with context.addCookies: next (the
//             flag), and the page still works (200, no error).
// The backends behind cutover are stand-ins (this is about cutover's decision,
// not the app); see tests/e2e/override_browser.rs.
//
// env: BASE_URL, API_PATH, TOKEN, EXPIRED, TAMPERED, COOKIE, ARTIFACTS, CHROMIUM.
// Prints one JSON object: per context the API call's status, backend header
// and whether the page saw any error; exits 1 on a script error.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { chromium } = require(path.join(__dirname, 'node_modules/playwright-core'));

const env = (name) => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is not set (see the header of tests/browser/override.cjs)`);
  return v;
};
const BASE_URL = env('BASE_URL');
const API_PATH = env('API_PATH');
const COOKIE = env('COOKIE');
const ARTIFACTS = env('ARTIFACTS');

async function visit(browser, name, setup) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  const api = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('response', (r) => {
    if (new URL(r.url()).pathname === API_PATH) {
      api.push({ status: r.status(), backend: r.headers()['x-cutover-backend'] ?? null });
    }
  });
  const landing = await setup(context, page);
  await page.goto(BASE_URL + '/', { waitUntil: 'load' });
  await page.waitForSelector('#backend[data-done]', { timeout: 10_000 });
  const shown = await page.textContent('#backend');
  const cookies = (await context.cookies()).map((c) => ({ name: c.name, httpOnly: c.httpOnly }));
  await page.screenshot({ path: path.join(ARTIFACTS, `override-${name}.png`) });
  await context.close();
  return { api, shown, errors, landing, cookies };
}

const cookie = (value) => ({ name: COOKIE, value, url: BASE_URL, httpOnly: true, sameSite: 'Lax' });

(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  try {
    const out = {};
    out.tester = await visit(browser, 'tester', async (_context, page) => {
      const r = await page.goto(`${BASE_URL}/-/override?token=${encodeURIComponent(env('TOKEN'))}`);
      return { status: r.status(), text: await page.textContent('body') };
    });
    out.other = await visit(browser, 'other', async () => null);
    out.expired = await visit(browser, 'expired', async (context) => {
      await context.addCookies([cookie(env('EXPIRED'))]);
      return null;
    });
    out.tampered = await visit(browser, 'tampered', async (context) => {
      await context.addCookies([cookie(env('TAMPERED'))]);
      return null;
    });
    fs.writeFileSync(path.join(ARTIFACTS, 'override.json'), JSON.stringify(out, null, 2));
    console.log(JSON.stringify(out));
  } finally {
    await browser.close();
  }
})().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
