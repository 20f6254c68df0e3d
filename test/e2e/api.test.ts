// The resources of contract section 3 end to end: workspaces, keys, topics, webhooks,
// events (replay) and deliveries (filters, paging, cancellation on webhook delete).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  createKey, createWebhook, createWorkspace, getDelivery, listDeliveries, publish, setupWebhook, startHerald,
  waitForDelivery, waitUntil, type TestHerald,
} from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

let h: TestHerald;
const receivers: Receiver[] = [];
async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

before(async () => {
  // A high circuit threshold: failing receivers here are about statuses, not the circuit breaker.
  h = await startHerald({ maxRetries: 1, retryBaseMs: 200, retryFactor: 2, deliveryTimeoutMs: 5000, circuitThreshold: 1000 });
});
after(async () => {
  await h?.stop();
  for (const r of receivers) await r.close();
});

/** The object has (at least) the contract's fields. */
function hasFields(obj: Record<string, unknown>, fields: string[]) {
  for (const f of fields) assert.ok(f in obj, `missing field ${f} in ${JSON.stringify(obj)}`);
}

const BUILTIN_TOPICS = [
  'lead_create', 'lead_update', 'coupon_create', 'coupon_update', 'order_create', 'order_update',
  'walletreward_create', 'wallettrasaction_update', 'review_create', 'review_update', 'viptier_create',
  'reviewrequest_create', 'incompletereferralrequest_create', 'unusedcouponrequest_create',
  'unusedwalletcoinrequest_create', 'coinexpirynotify_create', 'refereenotify_create', 'referrernotify_create',
];

describe('workspaces and keys', () => {
  it('creates, reads, lists, updates and deletes a workspace', async () => {
    const created = await h.api('POST', '/api/v1/workspaces', { name: 'Acme Coffee', uri: 'https://acme.example', id: 'acme-coffee' });
    assert.equal(created.status, 201);
    hasFields(created.body, ['created_at', 'id', 'name', 'updated_at', 'uri', 'webhooks_enabled']);
    assert.equal(created.body.id, 'acme-coffee');
    assert.equal(created.body.webhooks_enabled, false);
    assert.ok(created.body.created_at.endsWith('Z'));

    const generated = await h.api('POST', '/api/v1/workspaces', { name: 'No Id' });
    assert.equal(generated.status, 201);
    assert.match(generated.body.id, /^ws_/);
    assert.equal(generated.body.uri, null);

    const got = await h.api('GET', '/api/v1/workspaces/acme-coffee');
    assert.deepEqual(got.body, created.body);

    const patched = await h.api('PATCH', '/api/v1/workspaces/acme-coffee', { name: 'Acme Roasters', uri: null, webhooks_enabled: true });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.name, 'Acme Roasters');
    assert.equal(patched.body.uri, null);
    assert.equal(patched.body.webhooks_enabled, true);

    const list = await h.api('GET', '/api/v1/workspaces');
    assert.equal(list.status, 200);
    const ids = list.body.data.map((w: any) => w.id);
    assert.ok(ids.indexOf(generated.body.id) < ids.indexOf('acme-coffee'), 'newest first');

    const key = await createKey(h, 'acme-coffee');
    const del = await h.api('DELETE', '/api/v1/workspaces/acme-coffee');
    assert.equal(del.status, 204);
    assert.equal((await h.api('GET', '/api/v1/workspaces/acme-coffee')).status, 404);
    assert.equal((await h.api('DELETE', '/api/v1/workspaces/acme-coffee')).status, 404);
    assert.equal((await h.api('GET', '/api/v1/workspaces/acme-coffee', undefined, key.key)).status, 401, 'its keys went with it');
  });

  it('creates keys (shown once), lists them without the key, revokes them', async () => {
    const ws = await createWorkspace(h);
    const res = await h.api('POST', `/api/v1/workspaces/${ws.id}/keys`, { name: 'checkout service' });
    assert.equal(res.status, 201);
    hasFields(res.body, ['created_at', 'id', 'key', 'name']);
    assert.match(res.body.id, /^key_/);
    assert.equal(res.body.name, 'checkout service');
    const noName = await h.api('POST', `/api/v1/workspaces/${ws.id}/keys`);
    assert.equal(noName.status, 201);
    assert.equal(noName.body.name, null);

    const list = await h.api('GET', `/api/v1/workspaces/${ws.id}/keys`);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.data.map((k: any) => k.id), [noName.body.id, res.body.id]);
    assert.ok(!list.text.includes(res.body.key) && !list.text.includes(noName.body.key), 'keys are never listed');
    for (const k of list.body.data) {
      hasFields(k, ['created_at', 'id', 'name']);
      assert.equal('key' in k, false);
    }

    assert.equal((await h.api('GET', `/api/v1/workspaces/${ws.id}`, undefined, res.body.key)).status, 200);
    assert.equal((await h.api('DELETE', `/api/v1/workspaces/${ws.id}/keys/${res.body.id}`)).status, 204);
    assert.equal((await h.api('DELETE', `/api/v1/workspaces/${ws.id}/keys/${res.body.id}`)).status, 404);
    assert.equal((await h.api('GET', `/api/v1/workspaces/${ws.id}`, undefined, res.body.key)).status, 401);
    const after = await h.api('GET', `/api/v1/workspaces/${ws.id}/keys`);
    assert.deepEqual(after.body.data.map((k: any) => k.id), [noName.body.id]);
  });
});

describe('topics', () => {
  it('ships the 18 Nector topics with label, description and sample', async () => {
    const res = await h.api('GET', '/api/v1/topics');
    assert.equal(res.status, 200);
    const byName = new Map<string, any>(res.body.data.map((t: any) => [t.name, t]));
    for (const name of BUILTIN_TOPICS) {
      const t = byName.get(name);
      assert.ok(t, `topic ${name} is missing`);
      hasFields(t, ['description', 'label', 'name', 'sample']);
      assert.equal(typeof t.label, 'string');
      assert.ok(t.label.length > 0);
      assert.equal(typeof t.description, 'string');
      assert.ok(t.sample && typeof t.sample === 'object' && !Array.isArray(t.sample), `${name} has a sample object`);
      assert.ok(Object.keys(t.sample).length > 0, `${name}'s sample is not empty`);
    }
    assert.equal(byName.get('coupon_create').label, 'Coupon Is Created');
    assert.equal(byName.get('walletreward_create').label, 'Wallet Coins Rewarded');
  });

  it('POST /api/v1/topics (admin) adds a topic that webhooks and events can then use', async () => {
    const before = (await h.api('GET', '/api/v1/topics')).body.data.length;
    const res = await h.api('POST', '/api/v1/topics', { name: 'giftcard.issued:v1', label: 'Gift card issued', sample: { code: 'GIFT-1', amount: 25 } });
    assert.equal(res.status, 201);
    assert.deepEqual(res.body, { name: 'giftcard.issued:v1', label: 'Gift card issued', description: '', sample: { code: 'GIFT-1', amount: 25 }, schema: null });
    const list = (await h.api('GET', '/api/v1/topics')).body.data;
    assert.equal(list.length, before + 1);
    assert.ok(list.some((t: any) => t.name === 'giftcard.issued:v1'));

    const r = await receiver();
    const { ws, webhook } = await setupWebhook(h, r.at('/gift'), { topic: 'giftcard.issued:v1' });
    await publish(h, ws, 'giftcard.issued:v1', { code: 'G-2' });
    const [req] = await r.waitFor(1);
    assert.equal(req!.headers['x-nector-topic'], 'giftcard.issued:v1');
    const test = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}/test`);
    assert.equal(test.status, 200);
    assert.equal(JSON.parse(r.requests[1]!.body).code, 'GIFT-1', 'the test send uses the new topic\'s sample');

    // Adding it again updates it.
    const again = await h.api('POST', '/api/v1/topics', { name: 'giftcard.issued:v1', label: 'Gift card issued (v1)' });
    assert.ok(again.status === 200 || again.status === 201);
    assert.equal((await h.api('GET', '/api/v1/topics')).body.data.length, before + 1);
  });
});

describe('webhooks', () => {
  it('never echoes the secret on create, read or list; GET …/secret gives it', async () => {
    const ws = await createWorkspace(h);
    const secret = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    const created = await h.api('POST', `/api/v1/workspaces/${ws.id}/webhooks`, {
      topic: 'order_create', url: 'http://127.0.0.1:9/orders', secret, description: 'orders to the ERP',
    });
    assert.equal(created.status, 201);
    for (const field of [
      'created_at', 'description', 'disabled_reason', 'enabled', 'filter', 'headers', 'id', 'prefix', 'topic', 'updated_at', 'url', 'workspace_id',
    ]) assert.ok(field in created.body, `the webhook has ${field}`);
    assert.match(created.body.id, /^wh_/);
    assert.equal(created.body.workspace_id, ws.id);
    assert.equal(created.body.prefix, '');
    assert.equal(created.body.filter, null);
    assert.deepEqual(created.body.headers, {});
    assert.equal(created.body.enabled, true);
    assert.equal(created.body.disabled_reason, null);
    const plainSecret = Buffer.alloc(32, 7).toString('base64');
    for (const text of [
      created.text,
      (await h.api('GET', `/api/v1/workspaces/${ws.id}/webhooks`)).text,
      (await h.api('GET', `/api/v1/workspaces/${ws.id}/webhooks/${created.body.id}`)).text,
    ]) {
      assert.ok(!text.includes(plainSecret), 'the secret appears in an answer');
      assert.ok(!text.includes('"secret"'));
    }
    const got = await h.api('GET', `/api/v1/workspaces/${ws.id}/webhooks/${created.body.id}/secret`);
    assert.deepEqual(got.body, { secret });
  });

  it('lists webhooks, filtered by topic, newest first', async () => {
    const ws = await createWorkspace(h);
    const a = await createWebhook(h, ws.id, { url: 'http://127.0.0.1:9/a', topic: 'order_create' });
    const b = await createWebhook(h, ws.id, { url: 'http://127.0.0.1:9/b', topic: 'lead_create' });
    const c = await createWebhook(h, ws.id, { url: 'http://127.0.0.1:9/c', topic: 'order_create' });
    const all = await h.api('GET', `/api/v1/workspaces/${ws.id}/webhooks`);
    assert.deepEqual(all.body.data.map((w: any) => w.id), [c.id, b.id, a.id]);
    assert.equal(all.body.next_cursor, null);
    const orders = await h.api('GET', `/api/v1/workspaces/${ws.id}/webhooks?topic=order_create`);
    assert.deepEqual(orders.body.data.map((w: any) => w.id), [c.id, a.id]);
    const page1 = await h.api('GET', `/api/v1/workspaces/${ws.id}/webhooks?limit=2`);
    assert.equal(page1.body.data.length, 2);
    const page2 = await h.api('GET', `/api/v1/workspaces/${ws.id}/webhooks?limit=2&cursor=${page1.body.next_cursor}`);
    assert.deepEqual(page2.body.data.map((w: any) => w.id), [a.id]);
    assert.equal(page2.body.next_cursor, null);
  });

  it('PATCH changes what is delivered, and how', async () => {
    const r = await receiver();
    const { ws, webhook } = await setupWebhook(h, r.at('/v1'), { secret: 'first-secret' });
    const patched = await h.api('PATCH', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}`, {
      url: r.at('/v2'), prefix: 'acme.', headers: { 'x-api-key': 'k-1' }, description: 'v2', secret: 'second-secret',
      filter: { amount: { $gt: 10 } },
    });
    assert.equal(patched.status, 200);
    assert.equal(patched.body.url, r.at('/v2'));
    assert.equal(patched.body.prefix, 'acme.');
    assert.deepEqual(patched.body.headers, { 'x-api-key': 'k-1' });
    assert.equal(patched.body.description, 'v2');
    assert.deepEqual(patched.body.filter, { amount: { $gt: 10 } });
    assert.ok(Date.parse(patched.body.updated_at) >= Date.parse(webhook.updated_at));
    assert.equal('secret' in patched.body, false);
    assert.deepEqual((await h.api('GET', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}`)).body, patched.body);

    assert.equal((await publish(h, ws, 'walletreward_create', { amount: 5 })).deliveries, 0, 'filtered out');
    assert.equal((await publish(h, ws, 'walletreward_create', { amount: 50 })).deliveries, 1);
    const [req] = await r.waitFor(1);
    assert.equal(req!.path, '/v2');
    assert.equal(req!.headers['x-nector-topic'], 'acme.walletreward_create');
    assert.equal(req!.headers['x-api-key'], 'k-1');
    assert.equal(req!.headers['x-nector-webhook-secret'], createHash('sha256').update('second-secret').digest('hex'));

    // Switched off: no deliveries; on again: delivered; an empty filter matches everything.
    const off = await h.api('PATCH', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}`, { enabled: false });
    assert.equal(off.body.enabled, false);
    assert.equal((await publish(h, ws, 'walletreward_create', { amount: 99 })).deliveries, 0);
    const on = await h.api('PATCH', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}`, { enabled: true, filter: {} });
    assert.equal(on.body.enabled, true);
    assert.equal(on.body.disabled_reason, null);
    assert.equal(on.body.filter, null);
    assert.equal((await publish(h, ws, 'walletreward_create', { amount: 1 })).deliveries, 1);
    await r.waitFor(2);
    await h.idle();
    assert.equal(r.requests.length, 2);

    // Moving it to another topic.
    const moved = await h.api('PATCH', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}`, { topic: 'lead_create' });
    assert.equal(moved.body.topic, 'lead_create');
    assert.equal((await publish(h, ws, 'walletreward_create', { amount: 1 })).deliveries, 0);
    assert.equal((await publish(h, ws, 'lead_create', { amount: 1 })).deliveries, 1);

    const missing = await h.api('PATCH', `/api/v1/workspaces/${ws}/webhooks/wh_missing`, { enabled: true });
    assert.equal(missing.status, 404);
  });

  it('DELETE cancels its pending deliveries, including one in flight, and sends nothing more', async () => {
    const r = await receiver();
    // Events 1 and 2 wait for a retry a minute away; event 3's attempt is in flight when the webhook goes.
    r.respondWith((req) => (JSON.parse(req.body).n === 3
      ? { status: 500, delayMs: 1500 }
      : { status: 503, headers: { 'retry-after': '60' } }));
    const { ws, webhook } = await setupWebhook(h, r.at('/doomed'));
    const other = await createWebhook(h, ws, { url: r.at('/other'), topic: 'lead_create' });
    for (const n of [1, 2, 3]) await publish(h, ws, 'walletreward_create', { n });
    await publish(h, ws, 'lead_create', { n: 4 });
    await r.waitFor(3, { path: '/doomed' });
    await r.waitFor(1, { path: '/other' });
    await waitUntil(async () => {
      const ds = await listDeliveries(h, ws, { webhook_id: webhook.id });
      return ds.filter((d) => d.attempts === 1 && d.status === 'pending').length === 2;
    });

    const del = await h.api('DELETE', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}`);
    assert.equal(del.status, 204);
    assert.equal((await h.api('GET', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}`)).status, 404);
    assert.equal((await h.api('DELETE', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}`)).status, 404);
    const cancelled = await listDeliveries(h, ws, { webhook_id: webhook.id });
    assert.equal(cancelled.length, 3);
    for (const d of cancelled) {
      assert.equal(d.status, 'cancelled');
      assert.equal(d.next_attempt_at, null);
    }

    // The attempt that was in flight ends (500) after the delete: the delivery stays cancelled.
    await h.idle();
    const still = await listDeliveries(h, ws, { webhook_id: webhook.id });
    assert.deepEqual(still.map((d) => d.status), ['cancelled', 'cancelled', 'cancelled']);
    assert.equal(r.received('/doomed').length, 3);
    // Herald is still responsive and still delivers the other webhook's events.
    assert.equal((await publish(h, ws, 'walletreward_create', { n: 5 })).deliveries, 0);
    await publish(h, ws, 'lead_create', { n: 6 });
    await r.waitFor(2, { path: '/other', timeoutMs: 5000 });
    const others = await listDeliveries(h, ws, { webhook_id: other.id });
    assert.equal(others.length, 2);

    // A retry of a cancelled delivery whose webhook is gone cannot be attempted; it must not
    // be left pending for ever (nor stall Herald).
    const retry = await h.api('POST', `/api/v1/workspaces/${ws}/deliveries/${cancelled[0].id}/retry`);
    assert.ok(retry.status === 404 || retry.status === 409, `retry of an orphaned delivery answered ${retry.status}`);
    assert.equal((await getDelivery(h, ws, cancelled[0].id)).status, 'cancelled');
    await publish(h, ws, 'lead_create', { n: 7 });
    await r.waitFor(3, { path: '/other', timeoutMs: 5000 });
  });
});

describe('events', () => {
  it('lists events by topic, newest first, and reads one with its deliveries', async () => {
    const r = await receiver();
    const { ws, webhook } = await setupWebhook(h, r.at('/ev'));
    const a = await publish(h, ws, 'walletreward_create', { n: 1 });
    const b = await publish(h, ws, 'lead_create', { n: 2 });
    const c = await publish(h, ws, 'walletreward_create', { n: 3 });
    const all = await h.api('GET', `/api/v1/workspaces/${ws}/events`);
    assert.deepEqual(all.body.data.map((e: any) => e.id), [c.id, b.id, a.id]);
    hasFields(all.body.data[0], ['created_at', 'data', 'deliveries', 'id', 'topic', 'workspace_id']);
    assert.deepEqual(all.body.data[0].data, { n: 3 });
    const wallet = await h.api('GET', `/api/v1/workspaces/${ws}/events?topic=walletreward_create`);
    assert.deepEqual(wallet.body.data.map((e: any) => e.id), [c.id, a.id]);
    await r.waitFor(2);
    const one = await waitUntil(async () => {
      const res = await h.api('GET', `/api/v1/workspaces/${ws}/events/${a.id}`);
      return res.body.deliveries[0]?.status === 'succeeded' ? res : null;
    });
    assert.equal(one.body.deliveries.length, 1);
    assert.equal(one.body.deliveries[0].webhook_id, webhook.id);
    assert.equal(one.body.deliveries[0].event_id, a.id);
    assert.equal((await h.api('GET', `/api/v1/workspaces/${ws}/events/evt_missing`)).status, 404);
    assert.equal((await h.api('POST', `/api/v1/workspaces/${ws}/events/evt_missing/replay`)).status, 404);
  });

  it('replay fans out again to the webhooks that match now, as new deliveries', async () => {
    const r = await receiver();
    const { ws } = await setupWebhook(h, r.at('/first'));
    const ev = await publish(h, ws, 'walletreward_create', { amount: 70 });
    await r.waitFor(1, { path: '/first' });
    await createWebhook(h, ws, { url: r.at('/second') });
    await createWebhook(h, ws, { url: r.at('/filtered'), filter: { amount: { $gt: 100 } } });
    const res = await h.api('POST', `/api/v1/workspaces/${ws}/events/${ev.id}/replay`);
    assert.equal(res.status, 202);
    assert.deepEqual(res.body, { deliveries: 2 });
    await r.waitFor(2, { path: '/first' });
    await r.waitFor(1, { path: '/second' });
    const ids = r.requests.map((q) => q.headers['webhook-id']);
    assert.equal(new Set(ids).size, 3, 'each replayed delivery has its own id');
    assert.equal(r.received('/first')[1]!.body, r.received('/first')[0]!.body, 'the same body bytes');
    const detail = await h.api('GET', `/api/v1/workspaces/${ws}/events/${ev.id}`);
    assert.equal(detail.body.deliveries.length, 3);
    assert.equal(r.received('/filtered').length, 0);
  });
});

describe('deliveries', () => {
  it('lists by webhook_id, event_id and status; pages newest first with next_cursor', async () => {
    const r = await receiver();
    r.respondWith((req) => (req.path === '/bad' ? { status: 500 } : { status: 200 }));
    const ws = await createWorkspace(h);
    const good = await createWebhook(h, ws.id, { url: r.at('/good') });
    const bad = await createWebhook(h, ws.id, { url: r.at('/bad'), filter: { n: { $lt: 3 } } });
    const events = [];
    for (let n = 0; n < 7; n++) events.push(await publish(h, ws.id, 'walletreward_create', { n }));
    // 7 to /good, 3 to /bad (n = 0, 1, 2), which fail after 2 attempts.
    await r.waitFor(7, { path: '/good' });
    await r.waitFor(6, { path: '/bad' });
    const all = await waitUntil(async () => {
      const ds = await listDeliveries(h, ws.id);
      return ds.length === 10 && ds.every((d) => d.status !== 'pending') ? ds : null;
    });

    // Newest first.
    for (let i = 1; i < all.length; i++) assert.ok(all[i - 1].created_at >= all[i].created_at);
    const eventOrder = all.filter((d) => d.webhook_id === good.id).map((d) => d.event_id);
    assert.deepEqual(eventOrder, events.map((e) => e.id).reverse());

    // Filters.
    const byGood = await listDeliveries(h, ws.id, { webhook_id: good.id });
    assert.equal(byGood.length, 7);
    assert.ok(byGood.every((d) => d.webhook_id === good.id && d.status === 'succeeded'));
    const failed = await listDeliveries(h, ws.id, { status: 'failed' });
    assert.equal(failed.length, 3);
    assert.ok(failed.every((d) => d.webhook_id === bad.id && d.attempts === 2 && d.last_status_code === 500));
    const succeeded = await listDeliveries(h, ws.id, { status: 'succeeded' });
    assert.equal(succeeded.length, 7);
    const both = await listDeliveries(h, ws.id, { webhook_id: bad.id, status: 'succeeded' });
    assert.equal(both.length, 0);
    const forEvent = await listDeliveries(h, ws.id, { event_id: events[0].id });
    assert.deepEqual(forEvent.map((d) => d.webhook_id).sort(), [good.id, bad.id].sort());
    assert.equal((await listDeliveries(h, ws.id, { status: 'cancelled' })).length, 0);

    // Paging: limit 3 chains over every delivery exactly once, in the same order.
    const pages: any[][] = [];
    let cursor: string | null = null;
    do {
      const res: any = await h.api('GET', `/api/v1/workspaces/${ws.id}/deliveries?limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200);
      pages.push(res.body.data);
      cursor = res.body.next_cursor;
      assert.ok(pages.length <= 4, 'too many pages');
    } while (cursor !== null);
    assert.deepEqual(pages.map((p) => p.length), [3, 3, 3, 1]);
    assert.deepEqual(pages.flat().map((d) => d.id), all.map((d) => d.id));
    // Paging with a filter.
    const p1 = await h.api('GET', `/api/v1/workspaces/${ws.id}/deliveries?status=failed&limit=2`);
    assert.equal(p1.body.data.length, 2);
    const p2 = await h.api('GET', `/api/v1/workspaces/${ws.id}/deliveries?status=failed&limit=2&cursor=${p1.body.next_cursor}`);
    assert.equal(p2.body.data.length, 1);
    assert.equal(p2.body.next_cursor, null);
    assert.deepEqual([...p1.body.data, ...p2.body.data].map((d: any) => d.id), failed.map((d) => d.id));
    // Default page size is 50: everything here fits.
    const dflt = await h.api('GET', `/api/v1/workspaces/${ws.id}/deliveries`);
    assert.equal(dflt.body.data.length, 10);
    assert.equal(dflt.body.next_cursor, null);

    // One delivery in detail.
    const d = await getDelivery(h, ws.id, failed[0].id);
    hasFields(d, [
      'attempts', 'created_at', 'event_id', 'id', 'last_error', 'last_status_code', 'next_attempt_at', 'status', 'topic', 'updated_at', 'url', 'webhook_id',
    ]);
    assert.equal(d.url, r.at('/bad'));
    assert.equal(d.topic, 'walletreward_create');
    hasFields(d.attempts[0], ['duration_ms', 'error', 'number', 'request_headers', 'response_body', 'started_at', 'status_code']);
    assert.equal((await h.api('GET', `/api/v1/workspaces/${ws.id}/deliveries/dlv_missing`)).status, 404);
  });

  it('cuts a long response body at 4 KiB', async () => {
    const r = await receiver();
    r.setDefault({ status: 200, body: 'x'.repeat(20_000) });
    const { ws } = await setupWebhook(h, r.at('/big'));
    await publish(h, ws, 'walletreward_create', { n: 1 });
    await r.waitFor(1);
    const d = await waitForDelivery(h, ws, String(r.requests[0]!.headers['webhook-id']), (x) => x.status === 'succeeded');
    assert.equal(d.attempts[0].response_body.length, 4096);
  });
});
