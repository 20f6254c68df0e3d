// The portal in a real browser, cross-site as platforms embed it: the platform's page on
// http://127.0.0.1:<port> frames Herald reached as http://localhost:<port> (two sites). The
// README's host page (docs/examples/portal-host.mjs) runs as it is and frames a manage session,
// through which a webhook is created and edited; the page keeps its session over a reload in
// the frame; a view session offers no write and the API refuses its writes; an origin not in
// HERALD_FRAME_ANCESTORS cannot frame it; used, expired and revoked links say so plainly; the
// host gets herald:resize. Screenshots of the embedded page (desktop and phone, light and dark).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { createHerald, type Herald } from '../../src/herald.js';
import { loadConfig } from '../../src/config.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { CHROMIUM, CHROMIUM_ARGS, DOCS, ROOT, ensureDashboardBuilt, eventually, haveChromium, skipReason } from './harness.js';

const ADMIN_KEY = 'portal-admin-key';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A host page of the test's own: frames `?src=` (a link), or a new session made with `?access=&dark=`, and records herald:resize. */
function hostPage(heraldOrigin: string, src: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Acme Loyalty</title></head>
<body style="margin:0;font-family:sans-serif;background:#e5e7eb"><div style="padding:12px 16px;background:#1f2937;color:#fff">Acme Loyalty dashboard</div>
<iframe id="webhooks" title="Webhooks" src="${src.replace(/"/g, '&quot;')}" style="display:block;width:100%;height:500px;border:0"></iframe>
<script>window.resizes = []; const f = document.getElementById('webhooks');
addEventListener('message', (e) => { if (e.origin !== ${JSON.stringify(heraldOrigin)} || e.data?.type !== 'herald:resize') return; resizes.push(e.data.height); f.style.height = e.data.height + 'px'; });</script>
</body></html>`;
}

describe('the portal in Chromium, framed by another site', { skip: skipReason, timeout: 240_000 }, () => {
  let herald: Herald;
  let heraldOrigin: string;
  let dataDir: string;
  let profileDir: string;
  let host: Server;
  let hostUrl: string;
  let stranger: Server;
  let strangerUrl: string;
  let example: ChildProcess | null = null;
  let exampleUrl: string;
  let context: BrowserContext;
  let page: Page;
  const consoleErrors: string[] = [];

  async function api(method: string, path: string, body?: unknown, key = ADMIN_KEY) {
    const res = await fetch(heraldOrigin + path, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  async function newLink(body: object = {}): Promise<{ id: string; url: string }> {
    const res = await api('POST', '/api/v1/workspaces/acme/portal-sessions', body);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body;
  }

  /** The host page framing `src`; the portal's frame once it has loaded. */
  async function embed(url: string, src: string): Promise<Frame> {
    await page.goto(`${url}/?src=${encodeURIComponent(src)}`);
    return eventually('the portal frame', () => {
      const frame = page.frames().find((f) => f.url().startsWith(`${heraldOrigin}/portal`));
      if (!frame) throw new Error(`frames: ${page.frames().map((f) => f.url()).join(', ')}`);
      return frame;
    });
  }

  async function shot(name: string) {
    mkdirSync(DOCS, { recursive: true });
    const frame = page.frames().find((f) => f.url().startsWith(`${heraldOrigin}/portal`))!;
    await frame.evaluate(() => document.querySelectorAll<HTMLElement>('.toasts').forEach((t) => (t.style.visibility = 'hidden')));
    await page.screenshot({ path: join(DOCS, name), fullPage: true, animations: 'disabled' });
  }

  before(async () => {
    if (!haveChromium) throw new Error(`CI=true and Chromium is missing at ${CHROMIUM}: the browser tests cannot run`);
    ensureDashboardBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'herald-portal-browser-'));
    profileDir = mkdtempSync(join(tmpdir(), 'herald-chromium-portal-'));
    const serveHost = (srcFor: (q: URLSearchParams) => Promise<string>) =>
      createServer((req, res) => {
        const q = new URL(req.url ?? '/', 'http://x').searchParams;
        srcFor(q).then((src) => res.writeHead(200, { 'content-type': 'text/html' }).end(hostPage(heraldOrigin, src)));
      });
    host = serveHost(async (q) => q.get('src') ?? '');
    stranger = serveHost(async (q) => q.get('src') ?? '');
    await new Promise<void>((r) => host.listen(0, '127.0.0.1', r));
    await new Promise<void>((r) => stranger.listen(0, '127.0.0.1', r));
    hostUrl = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
    strangerUrl = `http://127.0.0.1:${(stranger.address() as AddressInfo).port}`;
    const examplePort = await freePort();
    exampleUrl = `http://127.0.0.1:${examplePort}`;

    // Herald on its own site: localhost, not 127.0.0.1. The stranger is not allowed to frame it.
    const port = await freePort();
    heraldOrigin = `http://localhost:${port}`;
    herald = await createHerald(loadConfig({}, {}, {
      host: '127.0.0.1', port, dataDir, adminKey: ADMIN_KEY, allowPrivateTargets: true, logLevel: 'silent',
      publicUrl: heraldOrigin, frameAncestors: [hostUrl, exampleUrl],
    }));
    await herald.start();
    assert.equal((await api('POST', '/api/v1/workspaces', { id: 'acme', name: 'Acme Coffee', uri: 'https://acme.example' })).status, 201);

    // The README's host page, run as it is.
    example = spawn(process.execPath, [join(ROOT, 'docs', 'examples', 'portal-host.mjs')], {
      env: { ...process.env, HERALD_URL: heraldOrigin, HERALD_ADMIN_KEY: ADMIN_KEY, WORKSPACE_ID: 'acme', PORT: String(examplePort) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    example.stdout!.on('data', (c) => (out += c));
    example.stderr!.on('data', (c) => (out += c));
    await eventually('the example host page to listen', () => assert.match(out, /Your dashboard: http:\/\/127\.0\.0\.1:\d+\/webhooks/));

    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1, locale: 'en-US', timezoneId: 'UTC',
    });
    context.setDefaultTimeout(15_000);
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => consoleErrors.push(`page error: ${e.message}`));
  });

  after(async () => {
    await context?.close().catch(() => {});
    example?.kill();
    await herald?.stop().catch(() => {});
    await new Promise((r) => host?.close(r));
    await new Promise((r) => stranger?.close(r));
    for (const dir of [dataDir, profileDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("the README's host page frames a manage session; a webhook is created and edited through it; the host gets herald:resize", async () => {
    await page.goto(`${exampleUrl}/webhooks`);
    const frame = await eventually('the portal frame', () => page.frames().find((f) => f.url().startsWith(`${heraldOrigin}/portal`)) ?? Promise.reject(new Error('no frame')));
    await frame.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
    await frame.getByText('Acme Coffee').first().waitFor();
    assert.equal(new URL(frame.url()).hash, '', 'the token is out of the address');
    assert.equal(await frame.evaluate(() => history.length <= 2 && !location.href.includes('#')), true);
    // No Herald chrome: no sign-in, sign-out or workspace picker.
    assert.equal(await frame.getByRole('button', { name: 'Sign out' }).count(), 0);
    assert.equal(await frame.getByRole('button', { name: 'All workspaces' }).count(), 0);
    // The theme's colour is the page's primary colour.
    assert.equal(await frame.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--primary').trim()), '#0f766e');

    // Third-party storage in this browser, as measured (the page does not rely on it).
    const storage = await frame.evaluate(() => {
      try {
        sessionStorage.setItem('probe', '1');
        return 'available';
      } catch (e) {
        return (e as Error).name;
      }
    });
    console.log(`# sessionStorage in the cross-site frame: ${storage}`);

    await frame.getByRole('button', { name: 'Create', exact: true }).click();
    const dialog = frame.getByRole('dialog', { name: 'Create webhook' });
    await dialog.getByLabel('Event').selectOption({ label: 'Wallet Coins Rewarded' });
    await dialog.getByLabel('Webhook Uri').fill('https://hooks.acme.example/rewards');
    await dialog.getByRole('button', { name: 'Create', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
    const hooks = await eventually('the webhook to be stored', async () => {
      const list = (await api('GET', '/api/v1/workspaces/acme/webhooks')).body.data;
      assert.equal(list.length, 1);
      return list;
    });
    assert.equal(hooks[0].url, 'https://hooks.acme.example/rewards');

    await frame.getByRole('row').filter({ hasText: 'hooks.acme.example/rewards' }).click();
    const edit = frame.getByRole('dialog', { name: 'Edit webhook' });
    await edit.getByLabel('Webhook Uri').fill('https://hooks.acme.example/coins');
    await edit.getByRole('button', { name: 'Update' }).click();
    await edit.waitFor({ state: 'detached' });
    await eventually('the edit to be stored', async () => {
      assert.equal((await api('GET', `/api/v1/workspaces/acme/webhooks/${hooks[0].id}`)).body.url, 'https://hooks.acme.example/coins');
    });

    const resizes = await eventually('herald:resize at the host', async () => {
      const r = await page.evaluate(() => (window as any).resizes as number[] | undefined);
      // (The README's page does not record them; its frame's height is what they set.)
      const height = await page.locator('#webhooks').evaluate((f) => f.getBoundingClientRect().height);
      const content = await frame.evaluate(() => Math.ceil(document.documentElement.getBoundingClientRect().height));
      assert.equal(r, undefined);
      assert.ok(Math.abs(height - content) <= 1, `the frame is ${height}px, its page ${content}px`);
      return height;
    });
    assert.ok(resizes > 300);
  });

  it('keeps the session over a reload in the frame (partitioned cookie); light desktop and phone screenshots', async () => {
    const link = await newLink({ theme: { name: 'Acme Loyalty', primary_color: '#0f766e' } });
    const frame = await embed(hostUrl, link.url);
    await frame.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
    const resizes = await eventually('herald:resize messages', async () => {
      const r = (await page.evaluate(() => (window as any).resizes)) as number[];
      assert.ok(r.length > 0);
      return r;
    });
    assert.ok(resizes.every((h) => Number.isInteger(h) && h > 0), resizes.join(','));
    await frame.getByText('hooks.acme.example/coins').waitFor();
    await shot('portal-desktop-light.png');

    await frame.evaluate(() => location.reload());
    const again = await eventually('the frame after the reload', () => page.frames().find((f) => f.url().startsWith(`${heraldOrigin}/portal`))!);
    await again.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
    await again.getByText('hooks.acme.example/coins').waitFor();

    await page.setViewportSize({ width: 390, height: 844 });
    await again.getByText('hooks.acme.example/coins').waitFor();
    await eventually('the frame to fit the phone', async () => {
      const height = await page.locator('#webhooks').evaluate((f) => f.getBoundingClientRect().height);
      const content = await again.evaluate(() => Math.ceil(document.documentElement.getBoundingClientRect().height));
      assert.ok(Math.abs(height - content) <= 1, `${height} vs ${content}`);
    });
    await shot('portal-phone-light.png');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('two portal pages in one browser (two tabs, two workspaces) each get their own session back after a reload', async () => {
    assert.equal((await api('POST', '/api/v1/workspaces', { id: 'brew', name: 'Brew Bar', uri: 'https://brew.example' })).status, 201);
    assert.equal((await api('POST', '/api/v1/workspaces/brew/webhooks', { topic: 'review_create', url: 'https://hooks.brew.example/reviews' })).status, 201);
    const acme = await newLink();
    const acmeFrame = await embed(hostUrl, acme.url);
    await acmeFrame.getByText('hooks.acme.example/coins').waitFor();
    // The second tab, on the same host site (so the same cookie partition), opened last.
    const brew = await api('POST', '/api/v1/workspaces/brew/portal-sessions', {});
    assert.equal(brew.status, 201);
    const tab = await context.newPage();
    try {
      await tab.goto(`${hostUrl}/?src=${encodeURIComponent(brew.body.url)}`);
      const brewFrame = await eventually('the second tab\'s portal frame', () => tab.frames().find((f) => f.url().startsWith(`${heraldOrigin}/portal`))!);
      await brewFrame.getByText('hooks.brew.example/reviews').waitFor();
      assert.match(brewFrame.url(), new RegExp(`[?&]session=${brew.body.id}(&|$)`), 'the address names the session, not the token');
      assert.ok(!brewFrame.url().includes('#'), brewFrame.url());

      // The first tab reloads: its own workspace again, not the one opened last.
      await acmeFrame.evaluate(() => location.reload());
      const acmeAgain = await eventually('the first tab after its reload', () => page.frames().find((f) => f.url().startsWith(`${heraldOrigin}/portal`))!);
      await acmeAgain.getByText('hooks.acme.example/coins').waitFor();
      assert.equal(await acmeAgain.getByText('hooks.brew.example/reviews').count(), 0);
      await brewFrame.evaluate(() => location.reload());
      const brewAgain = await eventually('the second tab after its reload', () => tab.frames().find((f) => f.url().startsWith(`${heraldOrigin}/portal`))!);
      await brewAgain.getByText('hooks.brew.example/reviews').waitFor();
      assert.equal(await brewAgain.getByText('hooks.acme.example/coins').count(), 0);
    } finally {
      await tab.close();
    }
  });

  it('a view session shows nothing that writes, and the API refuses its writes with 403', async () => {
    const link = await newLink({ access: 'view', theme: { name: 'Acme Loyalty', primary_color: '#7c3aed', dark: true } });
    const frame = await embed(hostUrl, link.url);
    await frame.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
    await frame.getByText('hooks.acme.example/coins').waitFor();
    await frame.getByText('View only').waitFor();
    for (const name of ['Create', 'Update', 'Delete', 'Send test', 'Retry', 'Recover']) {
      assert.equal(await frame.getByRole('button', { name, exact: true }).count(), 0, `no ${name}`);
    }
    assert.equal(await frame.getByRole('switch').count(), 0, 'no status switch');
    // A row opens nothing (no Update, no secret reveal).
    await frame.getByRole('row').filter({ hasText: 'hooks.acme.example/coins' }).click();
    assert.equal(await frame.getByRole('dialog').count(), 0);
    assert.equal(await frame.getByText('Show the current secret').count(), 0);
    assert.equal(await frame.evaluate(() => document.documentElement.classList.contains('theme-dark')), true);
    await shot('portal-desktop-dark.png');

    // The session that this frame holds (from its cookie) writing through the API: 403, view-only.
    const answers = await frame.evaluate(async () => {
      const session = new URLSearchParams(location.search).get('session');
      const resumed = await fetch('/api/v1/portal/resume', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session }) });
      const { credential, workspace_id } = await resumed.json();
      const auth = { authorization: `Bearer ${credential}`, 'content-type': 'application/json' };
      const patch = await fetch(`/api/v1/workspaces/${workspace_id}`, { method: 'PATCH', headers: auth, body: JSON.stringify({ webhooks_enabled: true }) });
      const create = await fetch(`/api/v1/workspaces/${workspace_id}/webhooks`, { method: 'POST', headers: auth, body: JSON.stringify({ topic: 'lead_create', url: 'https://x.example/' }) });
      const read = await fetch(`/api/v1/workspaces/${workspace_id}/webhooks`, { headers: auth });
      return { patch: [patch.status, (await patch.json()).detail], create: create.status, read: read.status };
    });
    assert.equal(answers.patch[0], 403);
    assert.match(String(answers.patch[1]), /view-only/);
    assert.equal(answers.create, 403);
    assert.equal(answers.read, 200);

    await page.setViewportSize({ width: 390, height: 844 });
    await frame.getByText('hooks.acme.example/coins').waitFor();
    await page.waitForTimeout(300);
    await shot('portal-phone-dark.png');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('an origin not in HERALD_FRAME_ANCESTORS cannot frame it', async () => {
    const link = await newLink();
    consoleErrors.length = 0;
    await page.goto(`${strangerUrl}/?src=${encodeURIComponent(link.url)}`);
    await eventually('the refusal in the console', () => assert.ok(consoleErrors.some((e) => /frame-ancestors/.test(e)), consoleErrors.join('\n')));
    const frame = page.frames().find((f) => f !== page.mainFrame())!;
    assert.ok(!frame.url().startsWith(heraldOrigin) || (await frame.locator('h1').count()) === 0, `the frame did not load: ${frame.url()}`);
    // The link was not opened either: it still works where it is allowed.
    const allowed = await embed(hostUrl, link.url);
    await allowed.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
  });

  it('used, expired and revoked links do not sign in, and say so in plain words', async () => {
    const used = await newLink();
    assert.equal((await api('POST', '/api/v1/portal/exchange', { token: new URL(used.url).hash.slice(1) }, '')).status, 200);
    const expired = await newLink();
    (herald.store as SqliteStore).db.prepare('UPDATE portal_sessions SET expires_at = ? WHERE id = ?').run(Date.now() - 1000, expired.id);
    const revoked = await newLink();
    assert.equal((await api('DELETE', `/api/v1/workspaces/acme/portal-sessions/${revoked.id}`)).status, 204);
    // A fresh browser profile: no cookie from earlier sessions to fall back on.
    await context.clearCookies();
    for (const [link, words] of [[used, 'already been used'], [expired, 'has expired'], [revoked, 'has been turned off']] as const) {
      const frame = await embed(hostUrl, link.url);
      const alert = frame.getByRole('alert');
      await alert.getByText('This page cannot be opened').waitFor();
      await alert.getByText(words).waitFor();
      await alert.getByText('open the Webhooks page again').waitFor();
      assert.equal(await frame.getByRole('heading', { name: 'Webhooks', exact: true }).count(), 0);
    }
    await shot('portal-link-refused.png');
    // A session revoked while the page is open: the next call says so.
    const live = await newLink();
    const frame = await embed(hostUrl, live.url);
    await frame.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
    assert.equal((await api('DELETE', '/api/v1/workspaces/acme/portal-sessions')).status, 204);
    await frame.getByRole('tab', { name: 'Delivery Log' }).click();
    await frame.getByRole('alert').getByText('Your session has ended').waitFor();
  });
});
