// The WhatsApp part of tests/browser/migration.cjs: in a second tab of one
// person, /whatsapp adds a session and connects it; the Baileys worker
// stand-in (tests/whatsapp-worker/worker.mjs) links it (QR, then connected,
// live on the page) and delivers chats with media; the person opens them
// (images from the media route), replies, and disconnects the session.
'use strict';
const { execFile } = require('node:child_process');
const path = require('node:path');
const { WAIT } = require('./migration-person.cjs');

/** The Baileys worker stand-in linking `session` and delivering its chats. */
function runWorker(session, { worker, token, mediaRoot, baseUrl }) {
  const args = [worker, '--base', baseUrl, '--token', token, '--session', session, '--media-root', mediaRoot, '--messages', '24'];
  return new Promise((resolve, reject) => {
    execFile('node', args, { cwd: path.dirname(worker), maxBuffer: 16 << 20 }, (err, stdout) => {
      if (err) return reject(new Error(`worker.mjs: ${err.message}`));
      const summary = JSON.parse(stdout);
      if (summary.failures?.length) return reject(new Error(`worker.mjs failures: ${JSON.stringify(summary.failures)}`));
      resolve(summary);
    });
  });
}

/** The WhatsApp console in a second tab: a session linked live, its inbox with media, a reply. */
async function whatsapp(person, opts) {
  person.run.stage = 'whatsapp';
  const { check, say } = opts;
  const page = await person.context.newPage();
  person.hook(page);
  await page.goto('/whatsapp');
  await page.waitForSelector('[data-testid=whatsapp]', WAIT);
  await page.fill('[data-testid=wa-new-name]', 'Support line');
  await page.press('[data-testid=wa-new-name]', 'Enter');
  await page.waitForSelector('[data-testid=whatsapp][data-realtime=subscribed] [data-testid=wa-status]', WAIT);
  const session = await page.$eval('[data-testid=wa-session][aria-pressed=true]', (e) => e.dataset.sessionId);
  await page.click('[data-testid=wa-connect]');
  await page.waitForSelector('[data-testid=wa-status][data-status=CONNECTING]', WAIT);
  // The stand-in links at once (no one has to scan), so the QR is on screen only
  // briefly: an observer notes every time it is put on the page.
  await page.evaluate(() => {
    window.__qrShown = 0;
    new MutationObserver(() => {
      if (document.querySelector('[data-testid=wa-qr]')) window.__qrShown += 1;
    }).observe(document.body, { subtree: true, childList: true });
  });
  const summary = await runWorker(session, opts);
  check(await page.evaluate(() => window.__qrShown > 0), 'whatsapp: the QR code never showed while the worker linked the session');
  await page.waitForSelector('[data-testid=wa-status][data-status=connected]', WAIT);
  await page.waitForSelector('[data-testid=wa-contact]', WAIT);
  const contacts = await page.$$('[data-testid=wa-contact]');
  let images = 0;
  for (const contact of contacts) {
    await contact.click();
    await page.waitForSelector('[data-testid=wa-message]', WAIT);
    images += await page.$$eval('img.wa-media', (imgs) => imgs.length);
    if (images > 0) break;
  }
  check(images > 0, 'whatsapp: no chat showed an image');
  await page.waitForFunction(() => [...document.querySelectorAll('img.wa-media')].every((i) => i.complete && i.naturalWidth > 0), null, WAIT);
  await page.click('[data-testid=composer-input]');
  await page.keyboard.type('Thanks, we are on it');
  await page.keyboard.press('Enter');
  await page.waitForSelector('[data-testid=wa-queued]', WAIT);
  await page.screenshot({ path: path.join(opts.artifacts, `whatsapp-${person.label}.png`) });
  await page.click('[data-testid=wa-disconnect]');
  await page.waitForSelector('[data-testid=wa-status][data-status=disconnected]', WAIT); // the live connection.update
  await page.close();
  say({ whatsapp: session, worker_batches: summary.batches, contacts: contacts.length, images });
}

module.exports = { whatsapp };
