// One person in tests/browser/migration.cjs: a browser context and its page,
// what they do in the legacy app's pages (log in, open the thread, leave and
// come back, scroll the history, type and send, see, schedule), and their
// logs: console, uncaught errors, failed requests and HTTP errors (but the one
// failure the scenario causes on purpose), and every same-origin response
// with its stage and x-cutover-route / x-cutover-backend. `run` is the
// script's shared state: {stage, baseUrl, artifacts, threadId, check}.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const WAIT = { timeout: 15_000 };

/** One browser context: a page, its logs, what it sent. */
class Person {
  constructor(browser, spec, label, run) {
    Object.assign(this, { browser, spec, label, run, sent: [], errors: [], failed: [], network: [], console: [], loads: 0 });
    this.allowed = null; // the one failure the scenario causes on purpose, while it is expected
  }

  async open() {
    this.context = await this.browser.newContext({ baseURL: this.run.baseUrl, viewport: { width: 900, height: 640 } });
    this.page = await this.context.newPage();
    this.page.on('domcontentloaded', () => (this.loads += 1));
    this.hook(this.page);
  }

  /** Logs of one of this person's tabs. */
  hook(page) {
    page.on('console', (m) => {
      this.console.push(`[${this.run.stage}] ${m.type()}: ${m.text()}`);
      if (m.type() !== 'error') return;
      if (this.allowed && m.text().includes(`status of ${this.allowed.status}`)) return;
      const where = m.location()?.url ?? '';
      // The browser's own favicon probe is not the app's request.
      if (m.text().startsWith('Failed to load resource') && new URL(where, this.run.baseUrl).pathname === '/favicon.ico') {
        this.console.push(`[${this.run.stage}] the browser's favicon probe: ${m.text()}`);
        return;
      }
      this.errors.push(`console error in ${this.run.stage}: ${m.text()} (${where.replace(/token=[^&#]*/g, 'token=REDACTED')})`);
    });
    page.on('pageerror', (e) => this.errors.push(`uncaught in ${this.run.stage}: ${e.message}`));
    page.on('request', (r) => (r._stage = this.run.stage));
    page.on('requestfailed', (r) => {
      const u = new URL(r.url());
      const what = `${r.method()} ${u.pathname}${u.search}: ${r.failure()?.errorText} (${r._stage})`;
      // The app router stops reading a navigation's RSC stream it no longer
      // needs: the server had answered (2xx/3xx), the page cancelled. Logged, not a failure.
      if (r.failure()?.errorText === 'net::ERR_ABORTED' && r._status < 400) this.console.push(`[${r._stage}] cancelled by the page after ${r._status}: ${what}`);
      else this.failed.push(what);
    });
    page.on('response', (r) => this.record(r));
  }

  record(res) {
    const req = res.request();
    const url = new URL(res.url());
    if (url.origin !== new URL(this.run.baseUrl).origin) return;
    const h = res.headers();
    req._status = res.status();
    const row = {
      stage: req._stage, method: req.method(), path: url.pathname, status: res.status(),
      route: h['x-cutover-route'] ?? null, backend: h['x-cutover-backend'] ?? null,
    };
    this.network.push(row);
    if (row.status < 400) return;
    const a = this.allowed;
    if (a && a.method === row.method && a.path === row.path && a.status === row.status) {
      this.allowed = { ...a, seen: true };
      return;
    }
    this.failed.push(`${row.method} ${row.path}: HTTP ${row.status} from ${row.backend ?? 'next'} (${row.stage})`);
  }

  async login(wrongPasswordFirst) {
    const { page, spec } = this;
    await page.goto('/login');
    await page.fill('[data-testid=login-email]', spec.email);
    if (wrongPasswordFirst) {
      this.allowed = { method: 'POST', path: '/api/auth/callback/credentials', status: 401 };
      await page.fill('[data-testid=login-password]', `${spec.password}-wrong`);
      await page.click('[data-testid=login-submit]');
      await page.waitForSelector('[data-testid=login-error]', WAIT);
      this.run.check(this.allowed.seen, `${this.label}: the wrong password was not refused with 401`);
      this.allowed = null;
    }
    await page.fill('[data-testid=login-password]', spec.password);
    await page.click('[data-testid=login-submit]');
    await page.waitForURL('**/chat', WAIT);
    await this.openThread();
    this.loadId = await page.evaluate(() => (window.__loadId = Math.random().toString(36).slice(2)));
    this.loads = 0;
  }

  async openThread() {
    await this.page.click(`[data-testid=thread-link][data-thread-id="${this.run.threadId}"]`);
    await this.page.waitForSelector('[data-testid=thread][data-realtime=subscribed]', WAIT);
    await this.page.waitForSelector('[data-testid=message]', WAIT);
  }

  /** To the threads list and back, by the app's own links (no reload). */
  async leaveAndReturn() {
    await this.page.click('nav.top a[href="/chat"]');
    await this.page.waitForSelector('[data-testid=threads]', WAIT);
    await this.openThread();
  }

  /** Scroll up until the first message of the thread is shown; how many are shown then. */
  async readHistory() {
    const count = () => this.page.$$eval('[data-testid=message]', (els) => els.length);
    for (let i = 0; i < 30; i++) {
      if (await this.page.$('[data-testid=history-start]')) break;
      const before = await count();
      await this.page.$eval('[data-testid=messages]', (el) => {
        el.scrollTop = 0;
        el.dispatchEvent(new Event('scroll'));
      });
      await this.page.waitForFunction(
        (n) => document.querySelectorAll('[data-testid=message]').length > n || document.querySelector('[data-testid=history-start]'),
        before, WAIT);
    }
    await this.page.$eval('[data-testid=messages]', (el) => (el.scrollTop = el.scrollHeight));
    return count();
  }

  /** Type (slowly on the first message, so the other sees it) and send; wait until it left "Sending…". */
  async send(text, slowly) {
    await this.page.click('[data-testid=composer-input]');
    await this.page.keyboard.type(text, { delay: slowly ? 40 : 0 });
    await this.page.keyboard.press('Enter');
    this.sent.push(text);
    await this.page.waitForFunction(() => !document.querySelector('[data-testid=pending-message]'), null, WAIT);
  }

  async sees(text) {
    await this.page.waitForFunction(
      (t) => [...document.querySelectorAll('[data-testid=message-body]')].some((e) => e.textContent === t), text, WAIT);
  }

  async seesTyping(name) {
    await this.page.waitForFunction((n) => {
      const el = document.querySelector('[data-testid=typing]');
      return el && !el.hidden && el.textContent.includes(n);
    }, name, WAIT);
  }

  async seesSeen(text) {
    await this.page.waitForFunction((t) => [...document.querySelectorAll('[data-testid=message]')].some(
      (m) => m.querySelector('[data-testid=message-body]')?.textContent === t && m.querySelector('[data-testid=receipt]')), text, WAIT);
  }

  async scheduleAndCancel(text) {
    const { page } = this;
    await page.fill('[data-testid=scheduled-body]', text);
    await page.click('[data-testid=scheduled-create]');
    const item = page.locator('[data-testid=scheduled-item]', { hasText: text });
    await item.waitFor(WAIT);
    await item.locator('[data-testid=scheduled-cancel]').click();
    await item.waitFor({ state: 'detached', ...WAIT });
  }

  /** The bodies on this screen that are among `texts`, in screen order. */
  async shown(texts) {
    const all = await this.page.$$eval('[data-testid=message-body]', (els) => els.map((e) => e.textContent));
    const wanted = new Set(texts);
    return all.filter((t) => wanted.has(t));
  }

  async shot(i, stageName) {
    await this.page.screenshot({ path: path.join(this.run.artifacts, `${i}-${stageName}-${this.label}.png`) });
  }

  save() {
    fs.writeFileSync(path.join(this.run.artifacts, `console-${this.label}.log`), this.console.join('\n') + '\n');
    fs.writeFileSync(path.join(this.run.artifacts, `network-${this.label}.jsonl`), this.network.map((r) => JSON.stringify(r)).join('\n') + '\n');
  }
}

module.exports = { Person, WAIT };
