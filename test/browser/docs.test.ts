// The API reference at /docs in a real browser, under its Content-Security-Policy: swagger-ui
// renders the document with no CSP violation or console error, and a configUrl in the query
// neither loops nor loads anything from elsewhere. Skipped without Chromium (failing under CI=true).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startHerald, type TestHerald } from '../helpers/herald.js';

const CHROMIUM = process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium';
const skip = !existsSync(CHROMIUM) && process.env.CI !== 'true' ? `Chromium is not installed at ${CHROMIUM}; skipping` : false;

describe('/docs in Chromium', { skip, timeout: 60_000 }, () => {
  let h: TestHerald;
  let browser: Browser;
  before(async () => {
    h = await startHerald();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
  });
  after(async () => {
    await browser?.close();
    await h?.stop();
  });

  /** A page that records console errors, page errors and CSP violations. */
  async function watchedPage(): Promise<{ page: Page; problems: string[]; foreign: string[] }> {
    const page = await browser.newPage();
    const problems: string[] = [];
    const foreign: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => !r.url().startsWith(h.url) && !r.url().startsWith('data:') && foreign.push(r.url()));
    await page.exposeFunction('reportViolation', (v: string) => problems.push(`CSP: ${v}`));
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        (window as unknown as { reportViolation(v: string): void }).reportViolation(`${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    return { page, problems, foreign };
  }

  it('renders the API reference without CSP violations or console errors', async () => {
    const { page, problems, foreign } = await watchedPage();
    const res = await page.goto(`${h.url}/docs/`);
    assert.ok(res?.headers()['content-security-policy'], 'the page has a CSP');
    await page.locator('.swagger-ui .info .title', { hasText: 'Herald API' }).waitFor();
    await page.locator('.opblock-summary-path', { hasText: '/api/v1/workspaces/{ws}/events' }).first().waitFor();
    assert.deepEqual(problems, []);
    assert.deepEqual(foreign, []);
    await page.close();
  });

  it('a configUrl in the query ends on /docs/ and loads nothing from elsewhere', async () => {
    const { page, problems, foreign } = await watchedPage();
    await page.goto(`${h.url}/docs/static/index.html?configUrl=https://evil.example/swagger-config.json`);
    assert.equal(new URL(page.url()).pathname, '/docs/');
    await page.locator('.swagger-ui .info .title', { hasText: 'Herald API' }).waitFor();
    await page.goto(`${h.url}/docs/?configUrl=https://evil.example/swagger-config.json&url=https://evil.example/openapi.json`);
    assert.equal(new URL(page.url()).search, '');
    await page.locator('.swagger-ui .info .title', { hasText: 'Herald API' }).waitFor();
    assert.deepEqual(foreign, []);
    assert.deepEqual(problems, []);
    await page.close();
  });
});
