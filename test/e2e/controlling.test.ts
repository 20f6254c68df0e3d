// CONTRACT §7 end to end: a fifo webhook whose receiver fails the head twice still gets every
// event in publish order (through the real worker, its retries and limits); pausing and
// resuming; bulk retry and replay; and their bad input (400 naming the field, 404 for another
// workspace's webhook, nothing queued).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createWebhook, createWorkspace, listDeliveries, publish, sleep, startHerald, waitUntil, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

let h: TestHerald;
let r: Receiver;

before(async () => {
  h = await startHerald({ retryBaseMs: 100, retryFactor: 1 });
  r = await startReceiver();
});
after(async () => {
  await h?.stop();
  await r?.close();
});

const TOPIC = 'walletreward_create';
const ago = (ms: number) => new Date(Date.now() - ms).toISOString();

describe('ordered webhooks', () => {
  it('deliver in publish order, one at a time, though the receiver fails the head twice', async () => {
    const ws = await createWorkspace(h);
    const hook = await createWebhook(h, ws.id, { url: r.at('/fifo') });
    const patched = await h.api('PATCH', `/api/v1/workspaces/${ws.id}/webhooks/${hook.id}`, { ordering: 'fifo' });
    assert.equal(patched.body.ordering, 'fifo');
    let headFailures = 0;
    let inFlight = 0;
    let overlap = false;
    r.respondWith(async (req) => {
      inFlight++;
      if (inFlight > 1) overlap = true;
      await sleep(5);
      inFlight--;
      const n = JSON.parse(req.body).n;
      if (n === 1 && headFailures < 2) {
        headFailures++;
        return { status: 500 };
      }
      return { status: 200 };
    });
    for (let i = 1; i <= 4; i++) await publish(h, ws.id, TOPIC, { n: i });
    await h.api('POST', `/api/v1/workspaces/${ws.id}/events/batch`, { events: [5, 6, 7].map((n) => ({ topic: TOPIC, data: { n } })) });
    const got = await r.waitFor(9, { path: '/fifo', timeoutMs: 20_000 });
    r.respondWith(null);
    assert.deepEqual(got.map((q) => JSON.parse(q.body).n), [1, 1, 1, 2, 3, 4, 5, 6, 7]);
    assert.equal(overlap, false, 'two requests of a fifo webhook at once');
  });
});

describe('pausing', () => {
  it('queues while paused, shows the deliveries waiting, and sends them on resume', async () => {
    const ws = await createWorkspace(h);
    const hook = await createWebhook(h, ws.id, { url: r.at('/paused') });
    assert.equal(hook.paused, false);
    assert.equal((await h.api('PATCH', `/api/v1/workspaces/${ws.id}/webhooks/${hook.id}`, { paused: true })).body.paused, true);
    await publish(h, ws.id, TOPIC, { n: 1 });
    await publish(h, ws.id, TOPIC, { n: 2 });
    await sleep(300);
    assert.equal(r.received('/paused').length, 0);
    const waiting = await listDeliveries(h, ws.id, { webhook_id: hook.id });
    assert.deepEqual(waiting.map((d) => [d.status, d.next_attempt_at]), [['pending', null], ['pending', null]]);
    await h.api('PATCH', `/api/v1/workspaces/${ws.id}/webhooks/${hook.id}`, { paused: false });
    await r.waitFor(2, { path: '/paused', timeoutMs: 10_000 });
  });
});

describe('bulk retry and replay', () => {
  it('retries a window of failed deliveries and replays the events published while webhooks were off', async () => {
    const ws = await createWorkspace(h, { enabled: false });
    await publish(h, ws.id, TOPIC, { n: 1 });
    await publish(h, ws.id, 'order_create', { n: 2 });
    await h.api('PATCH', `/api/v1/workspaces/${ws.id}`, { webhooks_enabled: true });
    await createWebhook(h, ws.id, { url: r.at('/bulk') });
    const replayed = await h.api('POST', `/api/v1/workspaces/${ws.id}/events/replay`, { since: ago(60_000), topic: TOPIC });
    assert.equal(replayed.status, 202);
    assert.deepEqual(replayed.body, { events: 1, deliveries: 1 });
    await r.waitFor(1, { path: '/bulk', timeoutMs: 10_000 });
    await waitUntil(async () => (await listDeliveries(h, ws.id, { status: 'succeeded' })).length === 1);
    const retried = await h.api('POST', `/api/v1/workspaces/${ws.id}/deliveries/retry`, { since: ago(60_000), status: 'succeeded' });
    assert.deepEqual([retried.status, retried.body], [202, { requeued: 1 }]);
    await r.waitFor(2, { path: '/bulk', timeoutMs: 10_000 });
  });

  it('refuses bad input with a 400 naming the field (404 for another workspace\'s webhook) and queues nothing', async () => {
    const ws = await createWorkspace(h);
    const other = await createWorkspace(h);
    const foreign = await createWebhook(h, other.id, { url: r.at('/foreign') });
    const hook = await createWebhook(h, ws.id, { url: r.at('/bad') });
    const cases: [string, unknown, number, string | null][] = [
      ['deliveries/retry', {}, 400, 'since'],
      ['deliveries/retry', { since: 'yesterday' }, 400, 'since'],
      ['deliveries/retry', { since: ago(1000), until: 'soon' }, 400, 'until'],
      ['deliveries/retry', { since: ago(0), until: ago(60_000) }, 400, 'since'],
      ['deliveries/retry', { since: ago(1000), status: 'pending' }, 400, 'status'],
      ['deliveries/retry', { since: ago(1000), status: 'lost' }, 400, 'status'],
      ['deliveries/retry', { since: ago(1000), colour: 'red' }, 400, null],
      ['deliveries/retry', { since: ago(1000), webhook_id: foreign.id }, 404, null],
      ['events/replay', { since: 12 }, 400, 'since'],
      ['events/replay', { since: ago(0), until: ago(60_000) }, 400, 'since'],
      ['events/replay', { since: ago(1000), until: '2025-13-45T99:00:00Z' }, 400, 'until'],
    ];
    for (const [path, body, status, field] of cases) {
      const res = await h.api('POST', `/api/v1/workspaces/${ws.id}/${path}`, body);
      assert.equal(res.status, status, `${path} ${JSON.stringify(body)}: ${res.text}`);
      if (field) assert.ok(res.body.errors?.some((e: any) => e.path.replace(/^body\.?/, '') === field), `${path} ${JSON.stringify(body)}: ${res.text}`);
    }
    for (const body of [{ ordering: 'lifo' }, { ordering: null }, { paused: 'yes' }]) {
      const res = await h.api('PATCH', `/api/v1/workspaces/${ws.id}/webhooks/${hook.id}`, body);
      assert.equal(res.status, 400, res.text);
      assert.ok(res.body.errors.some((e: any) => e.path.replace(/^body\.?/, '') === Object.keys(body)[0]), res.text);
    }
    const created = await h.api('POST', `/api/v1/workspaces/${ws.id}/webhooks`, { topic: TOPIC, url: r.at('/bad'), ordering: 'random' });
    assert.equal(created.status, 400);
    assert.equal((await h.api('GET', `/api/v1/workspaces/${ws.id}/webhooks`)).body.data.length, 1);
    assert.equal((await listDeliveries(h, ws.id)).length, 0);
  });
});
