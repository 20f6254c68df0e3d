// The Webhooks page as a business owner meets it (issue 12): what was sent, what failed and when
// it is tried again, whether events arrived, which field to fix, plain words, the first screen of
// a phone, and a reload that keeps the tab. In Chromium, against a real Herald and receiver; any
// browser console error fails the test. Screenshots of each tab, desktop and phone, go to DOCS.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { createHerald, type Herald } from '../../src/herald.js';
import { loadConfig } from '../../src/config.js';
import { ensureDashboardBuilt, eventually, launchChromium, screenshot, shows, skipReason, startReceiver, watchConsole } from './harness.js';

const ADMIN_KEY = 'page-admin-key';
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

/** A Herald of its own, with a workspace whose Status is on and a key for it. */
async function startHerald(dataDir: string, allowPrivateTargets: boolean) {
  const herald = await createHerald(
    loadConfig({}, {}, {
      port: 0, host: '127.0.0.1', dataDir, adminKey: ADMIN_KEY, allowPrivateTargets,
      // Two minutes before the first retry: long enough to read "next try in 2 min".
      retryBaseMs: 120_000, retryFactor: 2, maxRetries: 2, logLevel: 'silent',
    }),
  );
  const base = (await herald.start())!;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(base + '/api/v1' + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
  assert.equal((await api('POST', '/workspaces', { id: 'acme', name: 'Acme Coffee', uri: 'https://acme.example' })).status, 201);
  assert.equal((await api('PATCH', '/workspaces/acme', { webhooks_enabled: true })).status, 200);
  const key = (await api('POST', '/workspaces/acme/keys', { name: 'page test' })).body.key as string;
  return { herald, base, api, key };
}

describe('the Webhooks page, as a business owner meets it', { skip: skipReason, timeout: 240_000 }, () => {
  let herald: Awaited<ReturnType<typeof startHerald>>;
  let strict: Awaited<ReturnType<typeof startHerald>>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let context: BrowserContext;
  let page: Page;
  const dirs: string[] = [];
  let webhookId = '';
  let browserConsole: ReturnType<typeof watchConsole>;

  const tmp = (prefix: string) => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };

  const text = shows;
  const allowing = <T>(patterns: RegExp[], fn: () => Promise<T>) => browserConsole.allowing(patterns, fn);

  async function signIn(base: string, key: string) {
    await page.goto(base + '/');
    await page.getByLabel('API key').fill(key);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
  }

  const tab = (name: string) => page.getByRole('tab', { name });
  const logRows = () => page.getByRole('table', { name: 'Deliveries' }).locator('tbody tr');
  /** "10:42": the next try's time as the page shows it (the browser runs in UTC). */
  const hhmm = (iso: string) => new Date(iso).toISOString().slice(11, 16);

  const assertNoConsoleErrors = () => browserConsole.assertNone();

  before(async () => {
    ensureDashboardBuilt();
    receiver = await startReceiver();
    herald = await startHerald(tmp('herald-page-'), true);
    ({ context, page } = await launchChromium(tmp('herald-page-chromium-')));
    await page.setViewportSize(DESKTOP);
    browserConsole = watchConsole(page);
    const created = await herald.api('POST', '/workspaces/acme/webhooks', { topic: 'walletreward_create', url: `${receiver.url}/fail-until-fixed`, secret: 's' });
    assert.equal(created.status, 201);
    webhookId = created.body.id;
    for (const amount of [120, 250, 380]) {
      assert.equal((await herald.api('POST', '/workspaces/acme/events', { topic: 'walletreward_create', data: { customer_id: `c-${amount}`, amount } })).status, 202);
    }
    await signIn(herald.base, herald.key);
  });

  after(async () => {
    await context?.close().catch(() => {});
    await herald?.herald.stop().catch(() => {});
    await strict?.herald.stop().catch(() => {});
    await receiver?.close().catch(() => {});
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('says that an attempt failed and when the next try is, not just "Pending"', async () => {
    const deliveries = await eventually('three failed first attempts', async () => {
      const list = (await herald.api('GET', `/workspaces/acme/deliveries?webhook_id=${webhookId}`)).body.data;
      assert.equal(list.length, 3);
      for (const d of list) assert.equal(d.last_status_code, 500);
      return list as { id: string; next_attempt_at: string; status: string }[];
    });
    assert.ok(deliveries.every((d) => d.status === 'pending'), 'they wait for a retry');
    await tab('Delivery Log').click();
    const first = logRows().first();
    await text(first, 'Retrying');
    assert.doesNotMatch(await first.innerText(), /Pending/);
    await text(first, `Failed (HTTP 500) — next try in 2 min, at ${hhmm(deliveries[0]!.next_attempt_at)}`);

    await first.click();
    const dialog = page.getByRole('dialog', { name: 'Delivery' });
    await text(dialog, `Failed (HTTP 500) — next try in 2 min, at ${hhmm(deliveries[0]!.next_attempt_at)}`);
    await text(dialog, 'Attempt 1');
    await text(dialog, 'Failed (HTTP 500)');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    // The Send Webhooks tab says the same of the webhook's last delivery.
    await tab('Send Webhooks').click();
    await text(page.getByRole('row').filter({ hasText: '/fail-until-fixed' }), 'Failed (HTTP 500) — next try in 2 min');
    assertNoConsoleErrors();
  });

  it("shows the request body byte for byte as the receiver got it, business fields included", async () => {
    await tab('Delivery Log').click();
    await logRows().last().click();
    const dialog = page.getByRole('dialog', { name: 'Delivery' });
    const detail = (await herald.api('GET', `/workspaces/acme/deliveries/${(await herald.api('GET', `/workspaces/acme/deliveries?webhook_id=${webhookId}`)).body.data[2].id}`)).body;
    const got = receiver.received.find((r) => r.headers['x-nector-delivery-id'] === detail.id)!;
    assert.ok(got, 'the receiver got it');
    assert.equal(detail.request_body, got.raw, 'the API gives the bytes that were sent');
    const body = dialog.getByLabel('Request body');
    await text(body, got.raw);
    assert.equal((await body.innerText()).trim(), got.raw);
    assert.match(got.raw, /"business_name":"Acme Coffee"/);
    // Laid out for reading, on request.
    await dialog.getByRole('button', { name: 'Formatted' }).click();
    await text(body, '"business_uri": "https://acme.example"');
    await screenshot(page, 'dashboard-delivery-retrying.png');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assertNoConsoleErrors();
  });

  it('counts deliveries that reached the receiver for health, and first tries apart', async () => {
    receiver.state.failing = false;
    const ids = (await herald.api('GET', `/workspaces/acme/deliveries?webhook_id=${webhookId}`)).body.data.map((d: any) => d.id);
    for (const id of ids) assert.equal((await herald.api('POST', `/workspaces/acme/deliveries/${id}/retry`)).status, 202);
    await eventually('all three delivered on their second attempt', async () => {
      const list = (await herald.api('GET', `/workspaces/acme/deliveries?webhook_id=${webhookId}`)).body.data;
      assert.deepEqual(list.map((d: any) => [d.status, d.attempts]), [['succeeded', 2], ['succeeded', 2], ['succeeded', 2]]);
    });
    await tab('Health').click();
    const card = page.getByRole('article', { name: /Health of Wallet Coins Rewarded/ });
    await text(card, '3 of 3 events reached your receiver');
    // Every event arrived: 100 % and green, though half of the requests failed.
    const delivered = card.locator('.stats > div').first().locator('.stat');
    assert.equal(await delivered.innerText(), '100%');
    assert.match((await delivered.getAttribute('class'))!, /\bgood\b/);
    await text(card, /First-try success/i);
    await text(card, '0 of 3 answered at once; 6 requests in all');
    assertNoConsoleErrors();
  });

  it('tries a filter on recent events as the receiver gets them, business fields included', async () => {
    await tab('Send Webhooks').click();
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Create webhook' });
    await dialog.getByLabel('Event').selectOption({ label: 'Wallet Coins Rewarded' });
    await dialog.getByRole('button', { name: '+ Add condition' }).click();
    await dialog.getByLabel('Field 1').fill('business_name');
    await dialog.getByLabel('Value 1').fill('Acme Coffee');
    const preview = dialog.getByRole('region', { name: 'Would it be sent?' });
    await text(preview, 'Sample event: would be sent');
    await text(preview, 'Recent events: 3 of the last 3 would be sent');
    await text(preview, 'business_name "Acme Coffee"');
    await dialog.getByLabel('Value 1').fill('Another Shop');
    await text(preview, 'Recent events: 0 of the last 3 would be sent');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assertNoConsoleErrors();
  });

  it('after a refused Create, focuses and shows the first field to fix, in plain words', async () => {
    // The API refuses the webhook, and "Would it be sent?" the filter: both 400s are expected.
    await allowing([/status of 400/], async () => {
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      const dialog = page.getByRole('dialog', { name: 'Create webhook' });
      await dialog.getByLabel('Event').selectOption({ label: 'Wallet Coins Rewarded' });
      await dialog.getByLabel('Webhook Uri').fill('ftp://example.com/hook');
      await dialog.getByLabel('Topic Prefix').fill('bad prefix!');
      await dialog.getByRole('button', { name: 'JSON' }).click();
      await dialog.getByLabel('Filter as JSON').fill('{"amount": {"$in": 5}}');
      // The user is at the bottom of the form when pressing Create, as after filling it in.
      const body = dialog.locator('.dialog-body');
      await body.evaluate((e) => e.scrollTo(0, e.scrollHeight));
      await dialog.getByRole('button', { name: 'Create', exact: true }).click();
      await eventually('the errors', async () => assert.equal(await dialog.getByLabel('Webhook Uri').getAttribute('aria-invalid'), 'true'));
      await eventually('focus on the first invalid field', async () => {
        assert.equal(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.value), 'ftp://example.com/hook');
      });
      const visible = await page.evaluate(() => {
        const input = document.activeElement!.getBoundingClientRect();
        const scroller = document.querySelector('dialog[open] .dialog-body')!.getBoundingClientRect();
        return input.top >= scroller.top && input.bottom <= scroller.bottom;
      });
      assert.ok(visible, 'the first invalid field is scrolled into view');
      // Each message beside its field, by the field's label, without the API's names.
      await text(dialog.getByRole('alert'), 'Some fields need attention: Webhook Uri, Topic Prefix and Filters.');
      await text(dialog, 'The address must start with https:// (or http://).');
      await text(dialog, 'Use at most 64 characters: letters, digits and _ . : -');
      await text(dialog, 'amount, “is one of”: must be an array');
      const messages = (await dialog.locator('.field-error, .form-error, [role="alert"]').allInnerTexts()).join('\n');
      assert.doesNotMatch(messages, /filter\.amount|\$in|scheme|prefix|url/, 'the API field names stay behind "Technical detail"');
      await dialog.getByText('Technical detail of the errors').click();
      await text(dialog, 'filter.amount.$in: must be an array');
      await screenshot(page, 'dashboard-create-errors.png');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'detached' });
    });
    assertNoConsoleErrors();
  });

  it('speaks plainly: no p50/p95, 2xx, HMAC or loopback outside the technical detail; one name, "Webhook Uri"', async () => {
    const jargon = /\bp50\b|\bp95\b|\b2xx\b|HMAC|loopback|\bURL\b/;
    for (const name of ['Send Webhooks', 'Delivery Log', 'Health']) {
      await tab(name).click();
      await page.getByRole('tabpanel').waitFor();
      await eventually(`${name} to load`, async () => assert.doesNotMatch(await page.getByRole('tabpanel').innerText(), /Loading/));
      const shown = await page.locator('main').innerText();
      assert.doesNotMatch(shown, jargon, `${name} shows: ${jargon.exec(shown)?.[0]}`);
    }
    await tab('Send Webhooks').click();
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const dialog = page.getByRole('dialog', { name: 'Create webhook' });
    await dialog.getByLabel('Event').selectOption({ label: 'Wallet Coins Rewarded' });
    assert.doesNotMatch(await dialog.innerText(), jargon);
    for (const label of ['Webhook Uri', 'Webhook Secret']) await dialog.getByLabel(label).waitFor();
    await dialog.getByRole('button', { name: 'Create', exact: true }).waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // A Herald that refuses private addresses: the refusal in plain words, "loopback" behind the disclosure.
    strict = await startHerald(tmp('herald-page-strict-'), false);
    await signIn(strict.base, strict.key);
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const refusing = page.getByRole('dialog', { name: 'Create webhook' });
    await refusing.getByLabel('Event').selectOption({ label: 'Wallet Coins Rewarded' });
    await refusing.getByLabel('Webhook Uri').fill('http://localhost:9/hook');
    await allowing([/status of 400/], async () => {
      await refusing.getByRole('button', { name: 'Create', exact: true }).click();
      await text(refusing, 'This address points to this computer or to a private network');
    });
    assert.doesNotMatch(await refusing.innerText(), /loopback|HERALD_ALLOW/);
    await refusing.getByText('Technical detail of the errors').click();
    await text(refusing, 'loopback');
    await refusing.getByRole('button', { name: 'Cancel' }).click();
    await refusing.waitFor({ state: 'detached' });
    // Back to the first Herald, still signed in there (this tab's session storage).
    await page.goto(herald.base + '/');
    await page.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
    assertNoConsoleErrors();
  });

  it('keeps the tab in the address across a reload, and shows no pager without another page', async () => {
    await tab('Health').click();
    assert.match(page.url(), /[?&]tab=health\b/);
    await page.reload();
    await page.getByRole('heading', { name: 'Health' }).waitFor();
    assert.equal(await tab('Health').getAttribute('aria-selected'), 'true');

    await tab('Delivery Log').click();
    await eventually('three rows', async () => assert.equal(await logRows().count(), 3));
    assert.equal(await page.getByRole('navigation', { name: 'Delivery pages' }).count(), 0, 'one page: no pager');
    await page.getByRole('combobox', { name: 'Status' }).selectOption({ label: 'Failed' });
    await page.getByText('No deliveries with status failed yet').waitFor();
    assert.equal(await page.getByRole('navigation', { name: 'Delivery pages' }).count(), 0, 'empty: no pager');
    await page.getByRole('combobox', { name: 'Status' }).selectOption({ label: 'Any status' });
    await page.reload();
    assert.equal(await tab('Delivery Log').getAttribute('aria-selected'), 'true');
    assertNoConsoleErrors();
  });

  it('on a phone, the first screen shows the content: several Delivery Log rows', async () => {
    // More deliveries, so that the log can fill a screen.
    for (let i = 0; i < 5; i++) {
      await herald.api('POST', '/workspaces/acme/events', { topic: 'walletreward_create', data: { customer_id: `p-${i}`, amount: 10 + i } });
    }
    await eventually('eight deliveries', async () => assert.equal((await herald.api('GET', '/workspaces/acme/deliveries')).body.data.length, 8));
    for (const [size, suffix] of [[PHONE, 'phone'], [DESKTOP, 'desktop']] as const) {
      await page.setViewportSize(size);
      for (const [name, file] of [['Send Webhooks', 'webhooks'], ['Delivery Log', 'log'], ['Health', 'health']] as const) {
        await tab(name).click();
        await eventually(`${name} to load`, async () => assert.doesNotMatch(await page.getByRole('tabpanel').innerText(), /Loading/));
        await page.evaluate(() => window.scrollTo(0, 0));
        const top = await page.getByRole('tabpanel').evaluate((e) => e.getBoundingClientRect().top);
        // On a phone well above the middle of the screen; on a desktop, in its upper half.
        const most = size === PHONE ? 0.4 : 0.5;
        assert.ok(top < size.height * most, `${suffix}, ${name}: the content starts at ${Math.round(top)}px of ${size.height}`);
        if (name === 'Delivery Log') {
          await eventually('eight rows', async () => assert.equal(await logRows().count(), 8));
          const seen = await logRows().evaluateAll((rows) => rows.filter((r) => r.getBoundingClientRect().bottom <= window.innerHeight).length);
          assert.ok(seen >= 3, `${suffix}: ${seen} whole rows of the Delivery Log on the first screen`);
        }
        await screenshot(page, `dashboard-${suffix}-${file}.png`);
      }
    }
    assertNoConsoleErrors();
  });
});
