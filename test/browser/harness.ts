// What the browser tests share: Debian's Chromium driven by playwright-core, the dashboard's
// build, a local webhook receiver, and waiting for something to become true.
//
// Without Chromium the browser tests are skipped with a message, except when CI=true: then
// they fail. HERALD_CHROMIUM overrides the browser's path (default /usr/bin/chromium).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { createHerald } from '../../src/herald.js';
import { loadConfig, type Config } from '../../src/config.js';

export const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
// Screenshots go to docs/ when HERALD_SCREENSHOTS_DIR says so (to refresh the README's
// pictures), else to a temporary folder, so that a test run leaves the tree clean.
export const DOCS = resolve(process.env.HERALD_SCREENSHOTS_DIR ?? join(tmpdir(), 'herald-screenshots'));
export const CHROMIUM = process.env.HERALD_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export const haveChromium = existsSync(CHROMIUM);
const inCi = process.env.CI === 'true';
export const skipReason = !haveChromium && !inCi
  ? `Chromium is not installed at ${CHROMIUM} (apt-get install chromium, or set HERALD_CHROMIUM); skipping the browser tests`
  : false;
if (skipReason) console.log(`# ${skipReason}`);

/** Builds the dashboard when dashboard/dist is missing or older than its sources. */
export function ensureDashboardBuilt(): void {
  const built = join(ROOT, 'dashboard', 'dist', 'index.html');
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => {
      const p = join(dir, e.name);
      return Math.max(m, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
    }, 0);
  const sources = Math.max(
    newest(join(ROOT, 'dashboard', 'src')),
    newest(join(ROOT, 'dashboard', 'public')),
    // The page bundles the server's pure body building from here (see dashboard/src/workspaces/context.ts).
    newest(join(ROOT, 'src', 'domain')),
    statSync(join(ROOT, 'dashboard', 'index.html')).mtimeMs,
    statSync(join(ROOT, 'dashboard', 'vite.config.ts')).mtimeMs,
  );
  if (existsSync(built) && statSync(built).mtimeMs >= sources) return;
  const run = spawnSync('npm', ['run', 'build:dashboard', '--silent'], { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`npm run build:dashboard failed:\n${run.stdout}\n${run.stderr}`);
}

/** Chromium with its own profile, at desktop size, in English and UTC. */
export async function launchChromium(profileDir: string): Promise<{ context: BrowserContext; page: Page }> {
  if (!haveChromium) throw new Error(`CI=true and Chromium is missing at ${CHROMIUM}: the browser tests cannot run`);
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1280, height: 860 },
    deviceScaleFactor: 1,
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(15_000);
  return { context, page: context.pages()[0] ?? (await context.newPage()) };
}

/** A screenshot in DOCS, without the passing confirmations ("Webhook created") over the page. */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync(DOCS, { recursive: true });
  // Through the CSSOM: the page's Content-Security-Policy rightly refuses an injected <style>.
  const toasts = (hidden: boolean) =>
    page.evaluate((h) => document.querySelectorAll<HTMLElement>('.toasts').forEach((t) => (t.style.visibility = h ? 'hidden' : '')), hidden);
  await toasts(true);
  await page.screenshot({ path: join(DOCS, name), fullPage, animations: 'disabled' });
  await toasts(false);
}

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
  /** The body's bytes as they arrived. */
  raw: string;
}

/** A webhook receiver: 200 {"ok":true}, or 500 on /fail… while `failing` is on. */
export async function startReceiver() {
  const received: Received[] = [];
  const state = { failing: true };
  const server: Server = createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      let body: any = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        // kept as text
      }
      received.push({ path: req.url ?? '', headers: req.headers, body, raw });
      const fail = state.failing && (req.url ?? '').startsWith('/fail');
      res.writeHead(fail ? 500 : 200, { 'content-type': 'application/json' });
      res.end(fail ? '{"error":"receiver is down"}' : JSON.stringify({ ok: true, path: req.url }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received, state, close: () => new Promise<void>((r) => server.close(() => r())) };
}

export async function eventually<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 15_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      last = err;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}: ${last instanceof Error ? last.message : String(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the locator's text contains `contains` (or matches it). */
export async function shows(locator: Locator, contains: string | RegExp): Promise<void> {
  await eventually(`${locator} to show ${contains}`, async () => {
    const t = await locator.innerText();
    if (typeof contains === 'string' ? !t.includes(contains) : !contains.test(t)) throw new Error(`has "${t.slice(0, 400)}"`);
  });
}

/**
 * The page's console errors and uncaught exceptions, which fail a test, except those that a step
 * expects (`allowing`: a 4xx that the page shows beside a field).
 */
export function watchConsole(page: Page) {
  const errors: string[] = [];
  let expected: RegExp[] = [];
  page.on('console', (m) => {
    if (m.type() !== 'error' || expected.some((p) => p.test(m.text()))) return;
    errors.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  return {
    async allowing<T>(patterns: RegExp[], fn: () => Promise<T>): Promise<T> {
      expected = patterns;
      try {
        return await fn();
      } finally {
        expected = [];
      }
    },
    assertNone() {
      assert.deepEqual(errors, [], 'the browser console has errors');
    },
  };
}

/**
 * A Herald of its own (SQLite in a temporary folder, private targets allowed) serving the
 * dashboard, a receiver, and Chromium whose console is watched; `api` calls Herald with a key
 * (the admin key by default); `close` stops and removes all of it.
 */
export async function startDashboardHerald(adminKey: string, overrides: Partial<Config> = {}) {
  ensureDashboardBuilt();
  const dataDir = mkdtempSync(join(tmpdir(), 'herald-dashboard-'));
  const profileDir = mkdtempSync(join(tmpdir(), 'herald-chromium-'));
  const receiver = await startReceiver();
  const herald = await createHerald(
    loadConfig({}, {}, { port: 0, host: '127.0.0.1', dataDir, adminKey, allowPrivateTargets: true, logLevel: 'silent', ...overrides }),
  );
  const base = (await herald.start())!;
  const { context, page } = await launchChromium(profileDir);
  const browserConsole = watchConsole(page);
  const api = apiCaller(() => base, adminKey);
  async function close(): Promise<void> {
    await context.close().catch(() => {});
    await herald.stop().catch(() => {});
    await receiver.close().catch(() => {});
    for (const dir of [dataDir, profileDir]) rmSync(dir, { recursive: true, force: true });
  }
  return { herald, base, receiver, context, page, browserConsole, api, close };
}

/** Calls Herald at `base()` with a key (`adminKey` unless told), answering the status and the parsed body. */
export function apiCaller(base: () => string, adminKey: string) {
  return async (method: string, path: string, body?: unknown, key = adminKey): Promise<{ status: number; body: any }> => {
    const res = await fetch(base() + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
}
