// The dashboard in a real browser: Debian's Chromium driven by playwright-core, against a real
// Herald (in-process, its own SQLite database) and a real local receiver. Walks through what the
// seed's help article describes — sign in, switch Status on, create a webhook with a filter in
// the popup, see deliveries and their attempts, edit, retry, recover, delete — and saves
// screenshots of the page to docs/. Any browser console error fails the test.
// (Chromium, the build and the receiver: see harness.ts.)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { createHerald, type Herald } from '../../src/herald.js';
import { loadConfig } from '../../src/config.js';
import Fastify from 'fastify';
import { dashboardRoutes } from '../../src/api/routes/dashboard.js';
import { apiCaller, ensureDashboardBuilt, eventually, launchChromium, screenshot, shows, skipReason, startReceiver, watchConsole, type Received } from './harness.js';

const ADMIN_KEY = 'test-admin-key';
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

// ---------------------------------------------------------------------------------------------

describe('dashboard in Chromium', { skip: skipReason, timeout: 180_000 }, () => {
  let herald: Herald;
  let base: string;
  let dataDir: string;
  let profileDir: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let context: BrowserContext;
  let page: Page;
  let workspaceId = '';
  let webhookId = '';

  const api = apiCaller(() => base, ADMIN_KEY);

  async function publish(topic: string, data: Record<string, unknown>) {
    const res = await api('POST', `/api/v1/workspaces/${workspaceId}/events`, { topic, data });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    return res.body as { id: string; deliveries: number };
  }

  const shot = (name: string, fullPage = false) => screenshot(page, name, fullPage);

  const text = shows;
  let browserConsole: ReturnType<typeof watchConsole>;
  const allowing = <T>(patterns: RegExp[], fn: () => Promise<T>) => browserConsole.allowing(patterns, fn);

  /** The first request the receiver got on `path`; throws (cheaply: no assert.ok source parsing) until then. */
  function received(path: string): Received {
    const r = receiver.received.find((x) => x.path === path);
    if (!r) throw new Error(`nothing received on ${path} yet`);
    return r;
  }

  function assertNoConsoleErrors() {
    browserConsole.assertNone();
  }

  before(async () => {
    ensureDashboardBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'herald-dashboard-'));
    profileDir = mkdtempSync(join(tmpdir(), 'herald-chromium-'));
    receiver = await startReceiver();
    herald = await createHerald(
      loadConfig({}, {}, {
        port: 0, host: '127.0.0.1', dataDir, adminKey: ADMIN_KEY, allowPrivateTargets: true,
        retryBaseMs: 200, retryFactor: 2, maxRetries: 2, logLevel: 'silent',
      }),
    );
    base = (await herald.start())!;
    ({ context, page } = await launchChromium(profileDir));
    browserConsole = watchConsole(page);
  });

  after(async () => {
    await context?.close().catch(() => {});
    await herald?.stop().catch(() => {});
    await receiver?.close().catch(() => {});
    for (const dir of [dataDir, profileDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('signs in with the admin key, creates a workspace and opens it', async () => {
    await page.goto(base + '/');
    await page.getByRole('heading', { name: 'Sign in to your webhooks' }).waitFor();
    await shot('dashboard-sign-in.png');

    // A wrong key is refused on the page (the 401 is expected in the console).
    await allowing([/status of 401/], async () => {
      await page.getByLabel('API key').fill('not-a-key');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await text(page.getByRole('alert'), 'That API key is not valid');
    });

    await page.getByLabel('API key').fill(ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Workspaces' }).waitFor();
    await page.getByText('No workspaces yet').waitFor();
    await page.getByLabel('Business name').fill('Acme Coffee');
    await page.getByLabel('Business URL').fill('https://acme.example');
    await page.getByRole('button', { name: 'Create workspace' }).click();
    await page.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();

    const list = await api('GET', '/api/v1/workspaces');
    const ws = list.body.data.find((w: any) => w.name === 'Acme Coffee');
    assert.ok(ws, 'the workspace was created');
    workspaceId = ws.id;

    // The key is in this tab's session storage, never in the address.
    assert.equal(await page.evaluate(() => sessionStorage.getItem('herald.key')), ADMIN_KEY);
    assert.ok(!page.url().includes(ADMIN_KEY), 'the key is not in the URL');

    // A reload keeps the session and the workspace.
    await page.reload();
    await page.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
    await page.getByText('Acme Coffee').first().waitFor();
    assertNoConsoleErrors();
  });

  it('switches Status on; while it is off the page says nothing is sent', async () => {
    const status = page.getByRole('switch', { name: 'Status' });
    assert.equal(await status.getAttribute('aria-checked'), 'false');
    await page.getByText('nothing is being sent').first().waitFor();
    await shot('dashboard-status-off.png');

    // Published while off: stored, not delivered.
    assert.equal((await publish('walletreward_create', { amount: 5 })).deliveries, 0);

    // By keyboard, as a switch is worked.
    await status.focus();
    await page.keyboard.press('Space');
    await eventually('Status on', async () => assert.equal(await status.getAttribute('aria-checked'), 'true'));
    await page.getByText('Webhooks are being sent.').waitFor();
    assert.equal((await api('GET', `/api/v1/workspaces/${workspaceId}`)).body.webhooks_enabled, true);
    assertNoConsoleErrors();
  });

  it('creates a webhook with a filter through the popup, showing API errors beside their field', async () => {
    await page.getByRole('tab', { name: 'Send Webhooks' }).click();
    await page.getByText('No webhooks yet').waitFor();
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Create webhook' });
    await dialog.waitFor();

    // The two most used events come first, each with when it is sent.
    await dialog.getByText('Sent whenever wallet coins are rewarded to a customer.').waitFor();
    await dialog.getByText('Sent whenever a coupon is created', { exact: false }).first().waitFor();
    const options = await dialog.getByLabel('Event').locator('option').allInnerTexts();
    assert.deepEqual(options.slice(1, 3), ['Wallet Coins Rewarded', 'Coupon Is Created']);
    assert.ok(options.length >= 19, `every topic is offered (${options.length - 1})`);

    await dialog.getByLabel('Event').selectOption({ label: 'Wallet Coins Rewarded' });
    await dialog.getByLabel('Webhook Uri').fill(`${receiver.url}/hook-a`);
    await dialog.getByText('x-nector-webhook-secret').first().waitFor();
    await dialog.getByRole('button', { name: 'Generate one' }).click();
    assert.match(await dialog.getByLabel('Webhook Secret').inputValue(), /^whsec_[A-Za-z0-9+/]{43}=$/);
    await dialog.getByLabel('Webhook Secret').fill('acme-secret');
    await dialog.getByLabel('Topic Prefix').fill('bad prefix!');

    // A filter: amount is at least 100. The field is suggested from the topic's sample.
    await dialog.getByRole('button', { name: '+ Add condition' }).click();
    const fieldOptions = await dialog.locator('datalist option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
    assert.ok(fieldOptions.includes('amount') && fieldOptions.includes('metadetail.country'), 'fields from the sample are suggested');
    await dialog.getByLabel('Field 1').fill('amount');
    await dialog.getByLabel('Operator 1').selectOption({ label: 'is at least' });
    await dialog.getByLabel('Value 1').fill('100');
    await text(dialog.getByRole('region', { name: 'Would it be sent?' }), 'Sample event: would be sent');
    await dialog.getByLabel('Value 1').fill('1000');
    await text(dialog.getByRole('region', { name: 'Would it be sent?' }), 'Sample event: would not be sent');
    await dialog.getByLabel('Value 1').fill('100');
    await text(dialog.getByRole('region', { name: 'Would it be sent?' }), 'Sample event: would be sent');
    // Only the event published while Status was off (amount 5) is recent, and it does not match.
    await text(dialog.getByRole('region', { name: 'Would it be sent?' }), 'Recent events: 0 of the last 1 would be sent');

    // The same filter as raw JSON.
    await dialog.getByRole('button', { name: 'JSON' }).click();
    assert.deepEqual(JSON.parse(await dialog.getByLabel('Filter as JSON').inputValue()), { amount: { $gte: 100 } });
    await dialog.getByRole('button', { name: 'Conditions' }).click();

    // The API refuses the prefix; its message appears beside "Topic Prefix".
    await allowing([/status of 400/], async () => {
      await dialog.getByRole('button', { name: 'Create', exact: true }).click();
      await eventually('the prefix error', async () => assert.equal(await dialog.getByLabel('Topic Prefix').getAttribute('aria-invalid'), 'true'));
    });
    const describedBy = (await dialog.getByLabel('Topic Prefix').getAttribute('aria-describedby'))!.split(' ')[0]!;
    assert.match(await page.locator(`[id="${describedBy}"]`).innerText(), /at most 64 characters/);
    assert.equal((await api('GET', `/api/v1/workspaces/${workspaceId}/webhooks`)).body.data.length, 0, 'nothing was saved');

    await dialog.getByLabel('Topic Prefix').fill('shop1_');
    await dialog.getByText('shop1_walletreward_create').waitFor();
    // Tall enough to show the whole popup, from the two most used events to the "would match".
    await page.setViewportSize({ width: 1280, height: 1640 });
    await dialog.locator('.dialog-body').evaluate((e) => e.scrollTo(0, 0));
    await shot('dashboard-create.png');
    await page.setViewportSize({ width: 1280, height: 860 });
    await dialog.getByRole('button', { name: 'Create', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });

    const row = page.getByRole('row').filter({ hasText: '/hook-a' });
    await text(row, 'Wallet Coins Rewarded');
    await text(row, 'shop1_');
    await text(row, 'amount ≥ 100');
    const saved = (await api('GET', `/api/v1/workspaces/${workspaceId}/webhooks`)).body.data;
    assert.equal(saved.length, 1);
    webhookId = saved[0].id;
    assert.deepEqual(saved[0].filter, { amount: { $gte: 100 } });
    assert.equal(saved[0].prefix, 'shop1_');
    assert.equal((await api('GET', `/api/v1/workspaces/${workspaceId}/webhooks/${webhookId}/secret`)).body.secret, 'acme-secret');
    assertNoConsoleErrors();
  });

  it('shows the matching events in the Delivery Log with their attempts', async () => {
    assert.equal((await publish('walletreward_create', { customer_id: 'c-1', amount: 250 })).deliveries, 1);
    assert.equal((await publish('walletreward_create', { customer_id: 'c-2', amount: 50 })).deliveries, 0);
    assert.equal((await publish('coupon_create', { value: 'NECT-1', amount: 900 })).deliveries, 0);
    const got = await eventually('the receiver to get the webhook', () => received('/hook-a'));
    assert.equal(got.headers['x-nector-topic'], 'shop1_walletreward_create');
    assert.equal(got.headers['x-nector-webhook-secret'], sha256('acme-secret'));
    assert.equal(got.body.amount, 250);
    assert.equal(got.body.business_name, 'Acme Coffee');

    await page.getByRole('tab', { name: 'Delivery Log' }).click();
    const rows = page.getByRole('table', { name: 'Deliveries' }).locator('tbody tr');
    await eventually('one succeeded delivery', async () => {
      assert.equal(await rows.count(), 1);
      assert.match(await rows.first().innerText(), /Succeeded/);
    });
    await text(rows.first(), 'HTTP 200');
    await shot('dashboard-delivery-log.png');

    await rows.first().click();
    const dialog = page.getByRole('dialog', { name: 'Delivery' });
    await dialog.waitFor();
    await text(dialog, 'Attempt 1');
    await text(dialog, 'HTTP 200');
    await text(dialog, 'x-nector-topic');
    await text(dialog, 'shop1_walletreward_create');
    await text(dialog.getByLabel('Response body of attempt 1'), '"ok":true');
    // The bytes the receiver got, business fields included.
    await text(dialog.getByLabel('Request body'), got.raw);
    await shot('dashboard-delivery.png');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });

    // Filter by status: nothing has failed.
    await page.getByRole('combobox', { name: 'Status' }).selectOption({ label: 'Failed' });
    await page.getByText('No deliveries with status failed yet').waitFor();
    await page.getByRole('combobox', { name: 'Status' }).selectOption({ label: 'Any status' });
    await eventually('the delivery again', async () => assert.equal(await rows.count(), 1));
    assertNoConsoleErrors();
  });

  it('edits the URI, the prefix and the filter', async () => {
    // The tabs work by keyboard too: Left arrow from Delivery Log goes to Send Webhooks.
    await page.getByRole('tab', { name: 'Delivery Log' }).focus();
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.getByRole('tab', { name: 'Send Webhooks' }).getAttribute('aria-selected'), 'true');

    await page.getByRole('row').filter({ hasText: '/hook-a' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit webhook' });
    await dialog.waitFor();
    assert.equal(await dialog.getByLabel('Webhook Uri').inputValue(), `${receiver.url}/hook-a`);
    assert.equal(await dialog.getByLabel('Topic Prefix').inputValue(), 'shop1_');
    assert.equal(await dialog.getByLabel('Event').inputValue(), 'walletreward_create');
    assert.equal(await dialog.getByLabel('Field 1').inputValue(), 'amount');
    assert.equal(await dialog.getByLabel('Value 1').inputValue(), '100');
    const preview = dialog.getByRole('region', { name: 'Would it be sent?' });
    await text(preview, 'Recent events: 1 of the last 3 would be sent');

    await dialog.getByLabel('Webhook Uri').fill(`${receiver.url}/hook-b`);
    await dialog.getByLabel('Topic Prefix').fill('shop2_');
    await dialog.getByLabel('Value 1').fill('10');
    await text(preview, 'Recent events: 2 of the last 3 would be sent');
    // A second condition, combined with "any".
    await dialog.getByRole('button', { name: '+ Add condition' }).click();
    await dialog.getByLabel('Field 2').fill('metadetail.country');
    await dialog.getByLabel('Value 2').fill('usa');
    await dialog.getByLabel('Send when').selectOption({ label: 'any of these holds' });
    await dialog.getByRole('button', { name: 'JSON' }).click();
    assert.deepEqual(JSON.parse(await dialog.getByLabel('Filter as JSON').inputValue()), {
      $or: [{ amount: { $gte: 10 } }, { 'metadetail.country': 'usa' }],
    });
    await dialog.getByRole('button', { name: 'Update' }).click();
    await dialog.waitFor({ state: 'detached' });

    const row = page.getByRole('row').filter({ hasText: '/hook-b' });
    await text(row, 'shop2_');
    await text(row, 'amount ≥ 10 or metadetail.country = usa');
    const saved = (await api('GET', `/api/v1/workspaces/${workspaceId}/webhooks/${webhookId}`)).body;
    assert.equal(saved.url, `${receiver.url}/hook-b`);
    assert.equal(saved.prefix, 'shop2_');
    assert.deepEqual(saved.filter, { $or: [{ amount: { $gte: 10 } }, { 'metadetail.country': 'usa' }] });

    assert.equal((await publish('walletreward_create', { customer_id: 'c-3', amount: 50 })).deliveries, 1);
    const got = await eventually('hook-b', () => received('/hook-b'));
    assert.equal(got.headers['x-nector-topic'], 'shop2_walletreward_create');
    assertNoConsoleErrors();
  });

  it('retries a delivery: one more attempt, same delivery id', async () => {
    await page.getByRole('tab', { name: 'Delivery Log' }).click();
    const rows = page.getByRole('table', { name: 'Deliveries' }).locator('tbody tr');
    await eventually('two deliveries', async () => assert.equal(await rows.count(), 2));
    await text(rows.first(), 'Succeeded');
    await rows.first().click();
    const dialog = page.getByRole('dialog', { name: 'Delivery' });
    await text(dialog, 'Attempt 1');
    const before = receiver.received.filter((x) => x.path === '/hook-b').length;
    await dialog.getByRole('button', { name: 'Retry' }).click();
    await text(dialog, 'Attempts (2)');
    await text(dialog, 'Attempt 2');
    const hits = receiver.received.filter((x) => x.path === '/hook-b');
    assert.equal(hits.length, before + 1);
    assert.equal(hits[hits.length - 1]!.headers['x-nector-delivery-id'], hits[hits.length - 2]!.headers['x-nector-delivery-id']);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assertNoConsoleErrors();
  });

  it('sends a test, and recovers failed deliveries since a time', async () => {
    // A second webhook whose receiver fails until it is told not to.
    const created = await api('POST', `/api/v1/workspaces/${workspaceId}/webhooks`, { topic: 'coupon_create', url: `${receiver.url}/fail`, secret: 's2' });
    assert.equal(created.status, 201);
    const failing = created.body.id as string;
    await publish('coupon_create', { value: 'NECT-2' });
    await eventually('the delivery to fail for good', async () => {
      const d = await api('GET', `/api/v1/workspaces/${workspaceId}/deliveries?webhook_id=${failing}`);
      assert.equal(d.body.data[0]?.status, 'failed');
    });

    await page.getByRole('tab', { name: 'Send Webhooks' }).click();
    const row = page.getByRole('row').filter({ hasText: '/fail' });
    await text(row, 'Failed');
    await text(row, 'HTTP 500');

    // "Send test" on the first webhook: one request with the topic's sample, now.
    await page.getByRole('row').filter({ hasText: '/hook-b' }).getByRole('button', { name: 'Send test' }).click();
    await page.getByText(/Test sent: 200/).waitFor();
    const test = receiver.received[receiver.received.length - 1]!;
    assert.equal(test.path, '/hook-b');
    assert.equal(test.body.title, 'Order Reward', 'the sample of Wallet Coins Rewarded');
    await shot('dashboard-webhooks.png');

    // The failing webhook's deliveries, then "Recover" once the receiver is back.
    await row.getByRole('button', { name: 'Deliveries' }).click();
    assert.equal(await page.getByRole('tab', { name: 'Delivery Log' }).getAttribute('aria-selected'), 'true');
    const tools = page.getByRole('group', { name: /Tools for Coupon Is Created/ });
    await tools.waitFor();
    const rows = page.getByRole('table', { name: 'Deliveries' }).locator('tbody tr');
    await eventually('one failed delivery', async () => {
      assert.equal(await rows.count(), 1);
      assert.match(await rows.first().innerText(), /Failed/);
    });
    await rows.first().click();
    const dialog = page.getByRole('dialog', { name: 'Delivery' });
    await text(dialog, 'Attempts (3)');
    await text(dialog, 'receiver is down');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });

    receiver.state.failing = false;
    await tools.getByRole('button', { name: 'Recover' }).click();
    await text(tools, '1 failed delivery is being sent again.');
    await eventually('the recovered delivery to succeed', async () => assert.match(await rows.first().innerText(), /Succeeded/));

    // Health: its one delivery reached the receiver, on the fourth request.
    await page.getByRole('tab', { name: 'Health' }).click();
    const health = page.getByRole('article', { name: /Health of Coupon Is Created/ });
    await text(health, '1 of 1 event reached your receiver');
    await text(health, '0 of 1 answered at once; 4 requests in all');
    await health.getByRole('img', { name: /Requests per hour/ }).waitFor();
    await health.getByRole('img', { name: /Answer time per hour/ }).waitFor();
    await text(page.getByRole('article', { name: /Health of Wallet Coins Rewarded/ }), '100%');
    await shot('dashboard-health.png');
    assertNoConsoleErrors();
  });

  it('deletes a webhook after a second confirmation', async () => {
    await page.getByRole('tab', { name: 'Send Webhooks' }).click();
    await page.getByRole('row').filter({ hasText: '/fail' }).click();
    const dialog = page.getByRole('dialog', { name: 'Edit webhook' });
    await dialog.getByRole('button', { name: 'Delete' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Delete this webhook?' });
    await confirm.waitFor();
    // Cancel keeps it.
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    await confirm.waitFor({ state: 'detached' });
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await confirm.getByRole('button', { name: 'Delete' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.getByText('Webhook deleted').waitFor();
    await eventually('the row to go', async () => assert.equal(await page.getByRole('row').filter({ hasText: '/fail' }).count(), 0));
    const list = (await api('GET', `/api/v1/workspaces/${workspaceId}/webhooks`)).body.data;
    assert.deepEqual(list.map((w: any) => w.id), [webhookId]);
    assertNoConsoleErrors();
  });

  it('pages through the Delivery Log, newest first', async () => {
    const events = Array.from({ length: 26 }, (_, i) => ({ topic: 'walletreward_create', data: { customer_id: `bulk-${i}`, amount: 500 + i } }));
    const batch = await api('POST', `/api/v1/workspaces/${workspaceId}/events/batch`, { events });
    assert.equal(batch.status, 202);
    await page.getByRole('tab', { name: 'Delivery Log' }).click();
    // The webhook chosen before was deleted: the log shows every webhook again.
    assert.equal(await page.getByRole('combobox', { name: 'Webhook' }).inputValue(), '');
    const rows = page.getByRole('table', { name: 'Deliveries' }).locator('tbody tr');
    const ids = async () => rows.locator('td:first-child .sub').allInnerTexts();
    await eventually('a full first page', async () => assert.equal(await rows.count(), 25));
    const first = await ids();
    const all = (await api('GET', `/api/v1/workspaces/${workspaceId}/deliveries?limit=500`)).body.data.map((d: any) => d.id);
    assert.deepEqual(first, all.slice(0, 25), 'newest first, as the API lists them');
    await page.getByRole('button', { name: /Older/ }).click();
    await page.getByText('Page 2').waitFor();
    await eventually('the second page', async () => assert.deepEqual(await ids(), all.slice(25, 50)));
    assert.equal(await page.getByRole('button', { name: /Older/ }).isDisabled(), true);
    await page.getByRole('button', { name: /Newer/ }).click();
    await page.getByText('Page 1').waitFor();
    await eventually('the first page again', async () => assert.deepEqual((await ids()).slice(-5), first.slice(-5)));
    assertNoConsoleErrors();
  });

  it("suggests the fields of the topic's schema in the filter builder", async () => {
    const schema = {
      type: 'object',
      properties: {
        rating: { type: 'integer', minimum: 1, maximum: 5, description: 'stars given' },
        product: { type: 'object', properties: { sku: { type: 'string' } } },
        photos: { type: 'array', items: { type: 'object', properties: { url: { type: 'string' } } } },
      },
    };
    assert.equal((await api('PATCH', '/api/v1/topics/review_create', { schema })).status, 200);
    try {
      await page.reload();
      await page.getByRole('tab', { name: 'Send Webhooks' }).click();
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Create webhook' });
      await dialog.getByLabel('Event').selectOption('review_create');
      await dialog.getByRole('button', { name: '+ Add condition' }).click();
      const suggested = await dialog.locator('datalist option').evaluateAll((os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent]));
      const paths = suggested.map(([p]) => p);
      for (const p of ['rating', 'product.sku', 'photos.url']) assert.ok(paths.includes(p), `${p} is suggested from the schema (${paths.join(', ')})`);
      assert.deepEqual(suggested.find(([p]) => p === 'rating'), ['rating', 'stars given'], 'with its description');
      assert.equal(paths.includes('product'), false, 'an object is not a field to compare');
      await dialog.getByLabel('Field 1').fill('rating');
      await dialog.getByLabel('Value 1').fill('5');
      await dialog.getByRole('button', { name: 'JSON' }).click();
      assert.deepEqual(JSON.parse(await dialog.getByLabel('Filter as JSON').inputValue()), { rating: 5 }, 'an integer field takes a number');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'detached' });
    } finally {
      await api('PATCH', '/api/v1/topics/review_create', { schema: null });
    }
    assertNoConsoleErrors();
  });

  it('works at phone width', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const fits = async (what: string) => {
      const { scroll, width, wide } = await page.evaluate(() => ({
        scroll: document.documentElement.scrollWidth,
        width: window.innerWidth,
        // The outermost elements that stick out, to say what to fix.
        wide: [...document.querySelectorAll('body *')]
          .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1 && !(e.parentElement && e.parentElement.getBoundingClientRect().right > window.innerWidth + 1))
          .slice(0, 5)
          .map((e) => `${e.tagName.toLowerCase()}.${e.className}`),
      }));
      assert.ok(scroll <= width, `${what}: the page is ${scroll}px wide in a ${width}px window (${wide.join(', ')})`);
    };
    await page.getByRole('tab', { name: 'Send Webhooks' }).click();
    await page.getByRole('row').filter({ hasText: '/hook-b' }).waitFor();
    await fits('Send Webhooks');
    await shot('dashboard-phone.png');
    await page.getByRole('tab', { name: 'Delivery Log' }).click();
    await page.getByRole('table', { name: 'Deliveries' }).waitFor();
    await fits('Delivery Log');
    await page.getByRole('tab', { name: 'Health' }).click();
    await page.getByRole('article').first().waitFor();
    await fits('Health');
    await page.getByRole('tab', { name: 'Send Webhooks' }).click();
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Create webhook' });
    await dialog.waitFor();
    const box = (await dialog.boundingBox())!;
    assert.ok(box.x >= 0 && box.x + box.width <= 390, 'the popup fits the screen');
    await dialog.getByRole('button', { name: '+ Add condition' }).click();
    await shot('dashboard-phone-create.png');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    await page.setViewportSize({ width: 1280, height: 860 });
    assertNoConsoleErrors();
  });

  it('a workspace key opens its own workspace, without the picker', async () => {
    const key = await api('POST', `/api/v1/workspaces/${workspaceId}/keys`, { name: 'dashboard test' });
    assert.equal(key.status, 201);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('API key').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('herald.key')), null);
    await page.getByLabel('API key').fill(key.body.key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
    await page.getByText('Acme Coffee').first().waitFor();
    assert.equal(await page.getByRole('button', { name: 'All workspaces' }).count(), 0);
    await page.getByRole('row').filter({ hasText: '/hook-b' }).waitFor();
    assert.ok(!page.url().includes(key.body.key), 'the key is not in the URL');

    // Revoked while signed in: the next call answers 401 and the page asks to sign in again.
    assert.equal((await api('DELETE', `/api/v1/workspaces/${workspaceId}/keys/${key.body.id}`)).status, 204);
    await allowing([/status of 401/], async () => {
      await page.getByRole('tab', { name: 'Delivery Log' }).click();
      await page.getByText('That API key no longer works. Sign in again.').waitFor();
    });
    await page.getByLabel('API key').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('herald.key')), null);
    assertNoConsoleErrors();
  });
});

describe('dashboard serving', { timeout: 60_000 }, () => {
  let herald: Herald;
  let base: string;
  let dataDir: string;

  before(async () => {
    ensureDashboardBuilt();
    dataDir = mkdtempSync(join(tmpdir(), 'herald-dashboard-serve-'));
    herald = await createHerald(loadConfig({}, {}, { port: 0, host: '127.0.0.1', dataDir, adminKey: ADMIN_KEY, logLevel: 'silent' }));
    base = (await herald.start())!;
  });

  after(async () => {
    await herald?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('serves the page at / and for app paths that ask for HTML', async () => {
    for (const path of ['/', '/workspaces/anything']) {
      const res = await fetch(base + path, { headers: { accept: 'text/html' } });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /text\/html/);
      assert.match(res.headers.get('content-security-policy')!, /default-src 'self'/);
      assert.match(await res.text(), /<div id="root">/);
    }
    const html = await (await fetch(base + '/')).text();
    const asset = /\/assets\/[^"]+\.js/.exec(html)![0];
    const js = await fetch(base + asset);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('cache-control')!, /immutable/);
    await js.arrayBuffer(); // read it: a response left unread keeps its connection (and Herald's stop) waiting
  });

  it('keeps problem+json 404s for the API and for missing files', async () => {
    const api = await fetch(base + '/api/v1/nothing-here', { headers: { accept: 'text/html', authorization: `Bearer ${ADMIN_KEY}` } });
    assert.equal(api.status, 404);
    assert.match(api.headers.get('content-type')!, /application\/problem\+json/);
    assert.equal((await api.json()).status, 404);
    const file = await fetch(base + '/assets/missing.js');
    assert.equal(file.status, 404);
    assert.match(file.headers.get('content-type')!, /application\/problem\+json/);
    assert.equal((await file.json()).status, 404);
  });

  it('GET /api/v1/me tells an admin key from a workspace key', async () => {
    const me = (key: string) => fetch(base + '/api/v1/me', { headers: { authorization: `Bearer ${key}` } });
    assert.deepEqual(await (await me(ADMIN_KEY)).json(), { kind: 'admin' });
    const auth = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' };
    await fetch(base + '/api/v1/workspaces', { method: 'POST', headers: auth, body: JSON.stringify({ name: 'Shop', id: 'shop' }) });
    const key = await (await fetch(base + '/api/v1/workspaces/shop/keys', { method: 'POST', headers: auth, body: '{}' })).json();
    assert.deepEqual(await (await me(key.key)).json(), { kind: 'workspace', workspace_id: 'shop' });
    const wrong = await me('wrong');
    assert.equal(wrong.status, 401);
    await wrong.arrayBuffer();
  });

  it('serves every file with nosniff and frame-ancestors none; the portal page keeps its own headers', async () => {
    const html = await (await fetch(base + '/portal')).text();
    const assets = [...html.matchAll(/\/assets\/[^"]+\.(?:js|css)/g)].map((m) => m[0]);
    assert.ok(assets.some((a) => a.endsWith('.js')), 'the page loads a script');
    for (const path of ['/favicon.svg', ...assets]) {
      const res = await fetch(base + path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, path);
      assert.equal(res.headers.get('x-frame-options'), 'DENY', path);
      await res.arrayBuffer();
    }
    const portal = await fetch(base + '/portal');
    assert.equal(portal.headers.get('x-frame-options'), null);
    assert.match(portal.headers.get('content-security-policy')!, /default-src 'self'/);
    await portal.arrayBuffer();
  });

  it('without a build, / says to run npm run build', async () => {
    const app = Fastify();
    await app.register(dashboardRoutes(join(tmpdir(), 'herald-no-such-build')));
    try {
      const res = await app.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } });
      assert.equal(res.statusCode, 200);
      assert.match(res.body, /npm run build/);
    } finally {
      await app.close();
    }
  });
});
