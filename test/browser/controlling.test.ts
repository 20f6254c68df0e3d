// Controlling delivery on the page (CONTRACT §7) in Chromium: a paused webhook shown as paused
// with Pause/Resume (not in a view-only portal session), the Delivery Log saying why queued
// deliveries wait (paused, or a fifo webhook's earlier ones first), and the Status card offering
// to send the events that arrived while webhooks were off (bulk replay). Console errors fail.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, shows, skipReason, startDashboardHerald } from './harness.js';

const ADMIN_KEY = 'test-admin-key';
const TOPIC = 'walletreward_create';

describe('controlling delivery in Chromium', { skip: skipReason, timeout: 180_000 }, () => {
  let setup: Awaited<ReturnType<typeof startDashboardHerald>>;
  let pausedId = '';
  const api = (method: string, path: string, body?: unknown) => setup.api(method, path, body);
  const page = () => setup.page;

  const paths = () => setup.receiver.received.map((r) => r.path);
  const row = (path: string) => page().getByRole('table', { name: 'Webhooks' }).getByRole('row').filter({ hasText: path });

  before(async () => {
    // The fifo head that fails waits a minute for its retry: the ones behind it wait meanwhile.
    setup = await startDashboardHerald(ADMIN_KEY, { retryBaseMs: 60_000, retryFactor: 2, maxRetries: 2 });
    const { receiver } = setup;
    assert.equal((await api('POST', '/api/v1/workspaces', { id: 'acme', name: 'Acme Coffee' })).status, 201);
    const paused = await api('POST', '/api/v1/workspaces/acme/webhooks', { topic: TOPIC, url: `${receiver.url}/paused`, paused: true });
    assert.equal(paused.status, 201, JSON.stringify(paused.body));
    pausedId = paused.body.id;
    const fifo = await api('POST', '/api/v1/workspaces/acme/webhooks', { topic: TOPIC, url: `${receiver.url}/fail-fifo`, ordering: 'fifo' });
    assert.equal(fifo.status, 201, JSON.stringify(fifo.body));
    // Three events while webhooks are off (a new workspace starts off): kept, not delivered.
    for (const amount of [1, 2, 3]) {
      const res = await api('POST', '/api/v1/workspaces/acme/events', { topic: TOPIC, data: { amount } });
      assert.equal(res.body.deliveries, 0);
    }
  });

  after(() => setup?.close());

  it('after switching Status on, offers to send the events that arrived while it was off', async () => {
    await page().goto(setup.base + '/');
    await page().getByLabel('API key').fill(ADMIN_KEY);
    await page().getByRole('button', { name: 'Sign in' }).click();
    await page().getByRole('button', { name: /Acme Coffee/ }).first().click();
    await page().getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
    await page().getByRole('switch', { name: 'Status' }).click();
    const offer = page().getByText('3 events arrived while webhooks were off');
    await offer.waitFor();
    await page().getByRole('button', { name: 'Send them now' }).click();
    await page().getByText('3 events sent again: 6 deliveries queued.').waitFor();
    assert.equal(await offer.count(), 0, 'the offer goes once they are sent');
    // The fifo webhook gets the first only: it fails, and waits for its retry.
    await eventually('the fifo head attempted', () => assert.deepEqual(paths(), ['/fail-fifo']));
    setup.browserConsole.assertNone();
  });

  it('shows the paused webhook as paused, and why queued deliveries wait in the Delivery Log', async () => {
    await shows(row('/paused'), 'Paused');
    await shows(row('/fail-fifo'), 'Enabled');
    await page().getByRole('tab', { name: 'Delivery Log' }).click();
    const log = page().getByRole('table', { name: 'Deliveries' });
    await eventually('three paused, two behind the fifo head', async () => {
      const t = await log.innerText();
      assert.equal(t.split('Waiting — the webhook is paused').length - 1, 3, t);
      assert.equal(t.split('Waiting for the earlier ones').length - 1, 2, t);
    });
    setup.browserConsole.assertNone();
  });

  it('resumes and pauses a webhook from the list', async () => {
    await page().getByRole('tab', { name: 'Send Webhooks' }).click();
    await row('/paused').getByRole('button', { name: 'Resume' }).click();
    await shows(row('/paused'), 'Enabled');
    await eventually('the backlog sent on resume', () => assert.equal(paths().filter((p) => p === '/paused').length, 3));
    assert.equal((await api('GET', `/api/v1/workspaces/acme/webhooks/${pausedId}`)).body.paused, false);

    await row('/paused').getByRole('button', { name: 'Pause' }).click();
    await shows(row('/paused'), 'Paused');
    assert.equal((await api('GET', `/api/v1/workspaces/acme/webhooks/${pausedId}`)).body.paused, true);
    setup.browserConsole.assertNone();
  });

  it('a view-only portal session sees paused, but no Pause or Resume', async () => {
    const link = await api('POST', '/api/v1/workspaces/acme/portal-sessions', { access: 'view' });
    assert.equal(link.status, 201, JSON.stringify(link.body));
    await page().goto(link.body.url);
    await shows(row('/paused'), 'Paused');
    assert.equal(await page().getByRole('button', { name: /^(Pause|Resume)$/ }).count(), 0);
    setup.browserConsole.assertNone();
  });
});
