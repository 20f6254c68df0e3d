// The typed client (src/client) against a real Herald: every method once, paginate() over
// several pages, and HeraldApiError carrying the problem for 4xx answers. A recording fetch
// proves that the client reaches every operation of the OpenAPI document.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HeraldApiError, HeraldClient, type Delivery, type Event } from '../../src/client/index.js';
import { startHerald, waitUntil, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { HTTP_METHODS, OpenApiValidator } from './support.js';

let h: TestHerald;
let receiver: Receiver;
const calls: { method: string; path: string; status: number }[] = [];

before(async () => {
  h = await startHerald({ maxRetries: 0 });
  receiver = await startReceiver();
  receiver.respondWith((req) => (req.path.startsWith('/fail') ? { status: 503 } : { status: 200 }));
});
after(async () => {
  await h?.stop();
  await receiver?.close();
});

/** A fetch that records what the client asked for and what Herald answered. */
const recordingFetch: typeof fetch = async (input, init) => {
  const res = await fetch(input, init);
  const url = new URL(String(input));
  calls.push({ method: init?.method ?? 'GET', path: url.pathname, status: res.status });
  return res;
};

async function rejects(promise: Promise<unknown>, status: number, pathOrDetail: RegExp): Promise<HeraldApiError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof HeraldApiError, `expected a HeraldApiError, got ${err}`);
    assert.equal(err.name, 'HeraldApiError');
    assert.equal(err.status, status);
    assert.ok(err.problem, 'the problem is attached');
    assert.equal(err.problem.status, status);
    assert.match(err.problem.type, /^urn:herald:problem:/);
    const named = (err.problem.errors ?? []).map((e) => e.path).join(' ') + ' ' + err.problem.detail;
    assert.match(named, pathOrDetail);
    assert.match(err.message, new RegExp(`^${status} `));
    return err;
  }
  assert.fail(`expected HTTP ${status}`);
}

describe('HeraldClient', () => {
  it('covers every API call, with typed answers', async () => {
    const admin = new HeraldClient({ baseUrl: h.url + '/', apiKey: h.adminKey, fetch: recordingFetch });

    // Workspaces.
    const ws = await admin.workspaces.create({ id: 'client-acme', name: 'Acme Coffee', uri: 'https://acme.example' });
    assert.equal(ws.id, 'client-acme');
    assert.equal(ws.webhooks_enabled, false);
    assert.ok((await admin.workspaces.list({ limit: 10 })).data.some((w) => w.id === ws.id));
    assert.equal((await admin.workspaces.get(ws.id)).name, 'Acme Coffee');
    assert.equal((await admin.workspaces.update(ws.id, { webhooks_enabled: true })).webhooks_enabled, true);

    // Keys: the workspace key is what the platform uses from here on.
    const created = await admin.keys.create(ws.id, { name: 'platform' });
    assert.match(created.key, /\S{20,}/);
    const client = new HeraldClient({ baseUrl: h.url, apiKey: created.key, fetch: recordingFetch });
    assert.deepEqual(await client.me(), { kind: 'workspace', workspace_id: ws.id });
    assert.deepEqual(await admin.me(), { kind: 'admin' });
    const spare = await client.keys.create(ws.id);
    assert.equal(spare.name, null);
    assert.deepEqual((await client.keys.list(ws.id)).data.map((k) => k.id).sort(), [created.id, spare.id].sort());
    assert.equal(await client.keys.revoke(ws.id, spare.id), null);

    // Topics and filters.
    const topics = await client.topics.list();
    assert.ok(topics.data.some((t) => t.name === 'walletreward_create'));
    assert.equal((await admin.topics.put({ name: 'client.topic', label: 'Client topic', sample: { a: 1 } })).label, 'Client topic');
    const schema = { type: 'object', properties: { a: { type: 'integer' } }, required: ['a'] };
    assert.deepEqual((await admin.topics.update('client.topic', { schema })).schema, schema);
    assert.deepEqual((await client.topics.get('client.topic')).schema, schema);
    assert.deepEqual(await client.filters.test({ amount: { $gte: 100 } }, { amount: 250 }), { matches: true });

    // Webhooks.
    const hook = await client.webhooks.create(ws.id, { topic: 'walletreward_create', url: receiver.at('/ok'), prefix: 'acme_' });
    assert.equal(hook.prefix, 'acme_');
    const failing = await client.webhooks.create(ws.id, { topic: 'coupon_create', url: receiver.at('/fail') });
    assert.equal((await client.webhooks.list(ws.id, { topic: 'coupon_create' })).data.length, 1);
    assert.equal((await client.webhooks.get(ws.id, hook.id)).url, receiver.at('/ok'));
    const { secret } = await client.webhooks.secret(ws.id, hook.id);
    assert.match(secret, /^whsec_/);
    const rotated = await client.webhooks.rotateSecret(ws.id, hook.id, { grace_seconds: 0 });
    assert.notEqual(rotated.secret, secret);
    assert.equal(rotated.previous_secret_expires_at, null);
    assert.equal((await client.webhooks.update(ws.id, hook.id, { description: 'all rewards' })).description, 'all rewards');
    assert.equal((await client.webhooks.update(ws.id, failing.id, { signing: 'ed25519' })).signing, 'ed25519');
    assert.match((await client.webhooks.publicKey(ws.id, failing.id)).public_key, /^whpk_[A-Za-z0-9+/]{43}=$/);
    const tested = await client.webhooks.test(ws.id, hook.id, { amount: 42 });
    assert.equal(tested.delivery.status, 'succeeded');
    assert.equal((await client.webhooks.test(ws.id, hook.id)).delivery.attempts.length, 1);

    // Events: seven of them, so that pages of three make three pages.
    const first = await client.events.publish(ws.id, { topic: 'walletreward_create', data: { customer_id: '4417', amount: 250 } }, 'idem-1');
    assert.equal(first.deliveries, 1);
    const again = await client.events.publish(ws.id, { topic: 'walletreward_create', data: { customer_id: '4417', amount: 250 } }, 'idem-1');
    assert.equal(again.id, first.id, 'the Idempotency-Key is sent');
    const batch = await client.events.publishBatch(ws.id, [
      ...[1, 2, 3, 4, 5].map((i) => ({ topic: 'walletreward_create', data: { customer_id: String(i), amount: i * 10 } })),
      { topic: 'coupon_create', data: { value: 'ACME-10' } },
    ]);
    assert.equal(batch.data.length, 6);
    assert.equal((await client.events.list(ws.id, { topic: 'coupon_create' })).data.length, 1);

    const ids = new Set<string>();
    const pages: number[] = [];
    for await (const d of client.paginate((q) => {
      pages.push(q.limit ?? 0);
      return client.deliveries.list(ws.id, { ...q, webhook_id: hook.id });
    }, 3)) {
      ids.add(d.id);
    }
    assert.equal(ids.size, 6 + 2, 'every delivery once (six events and two test sends)');
    assert.equal(pages.length, 3, 'three pages of at most three');
    const events: Event[] = [];
    for await (const e of client.paginate((q) => client.events.list(ws.id, q), 2)) events.push(e);
    // Seven published events and the two test sends' events (and, once the coupon's delivery
    // has failed, Herald's own delivery.failed event), each once, newest first.
    const mine = events.filter((e) => e.topic !== 'delivery.failed');
    assert.equal(mine.length, 9);
    assert.equal(new Set(events.map((e) => e.id)).size, events.length);
    for (const id of [first.id, ...batch.data.map((e) => e.id)]) assert.ok(events.some((e) => e.id === id), `event ${id} was not listed`);
    assert.ok(events.every((e, i) => i === 0 || events[i - 1]!.created_at >= e.created_at));

    const [delivery] = (await client.deliveries.list(ws.id, { event_id: first.id })).data as [Delivery];
    const done = await waitUntil(async () => {
      const d = await client.deliveries.get(ws.id, delivery.id);
      return d.status === 'succeeded' ? d : null;
    });
    assert.equal(done.attempts.length, 1);
    const detail = await client.events.get(ws.id, first.id);
    assert.equal(detail.deliveries[0]!.id, delivery.id);
    assert.equal((await client.deliveries.retry(ws.id, delivery.id)).id, delivery.id);
    assert.equal((await client.events.replay(ws.id, first.id)).deliveries, 1);

    const couponEvent = batch.data[5]!;
    const [couponDelivery] = (await client.deliveries.list(ws.id, { event_id: couponEvent.id })).data as [Delivery];
    await waitUntil(async () => (await client.deliveries.get(ws.id, couponDelivery.id)).status === 'failed');
    assert.equal((await client.deliveries.list(ws.id, { status: 'failed' })).data.length, 1);
    const { requeued } = await client.webhooks.recover(ws.id, failing.id, { since: new Date(Date.now() - 60_000).toISOString() });
    assert.equal(requeued, 1);
    const since = new Date(Date.now() - 60_000).toISOString();
    assert.equal((await client.deliveries.retryMany(ws.id, { since, status: 'succeeded', webhook_id: failing.id })).requeued, 0);
    const replayedMany = await client.events.replayMany(ws.id, { since, topic: 'coupon_create' });
    assert.deepEqual(replayedMany, { events: 1, deliveries: 1 });

    // The portal: a link to the page, opened once, and the session it gives.
    const link = await admin.portal.createSession(ws.id, { access: 'view', expiresIn: 120, theme: { name: 'Acme Loyalty', dark: true } });
    assert.match(link.id, /^ps_/);
    assert.equal(Date.parse(link.expires_at) - Date.parse(link.created_at), 120_000);
    const snake = await admin.portal.createSession(ws.id, { expires_in: 600 });
    assert.equal(Date.parse(snake.expires_at) - Date.parse(snake.created_at), 600_000);
    assert.deepEqual((await admin.portal.listSessions(ws.id)).data.map((s) => s.id), [snake.id, link.id]);
    const opened = await admin.portal.open(new URL(link.url).hash.slice(1));
    assert.equal(opened.access, 'view');
    const portalClient = new HeraldClient({ baseUrl: h.url, apiKey: opened.credential, fetch: recordingFetch });
    assert.deepEqual(await portalClient.me(), { kind: 'portal', workspace_id: ws.id, access: 'view', expires_at: link.expires_at });
    assert.equal((await admin.portal.resume(`herald_portal_${link.id}=${opened.credential}`, link.id)).workspace_id, ws.id);
    assert.equal((await admin.portal.resume(`herald_portal_${link.id}=${opened.credential}`)).session_id, link.id);
    assert.equal(await admin.portal.revokeSession(ws.id, link.id), null);
    assert.equal(await admin.portal.revokeAllSessions(ws.id), null);
    await rejects(portalClient.me(), 401, /revoked/);

    // Deletions.
    assert.equal(await client.webhooks.delete(ws.id, failing.id), null);
    const other = await admin.workspaces.create({ name: 'Other' });
    assert.equal(await admin.workspaces.delete(other.id), null);

    // request() is public for anything else.
    assert.equal((await client.request<{ data: unknown[] }>('GET', `/workspaces/${ws.id}/webhooks`, undefined, { limit: 1 })).data.length, 1);

    // Every operation of the OpenAPI document was reached through a client method.
    const doc = await (await fetch(`${h.url}/api/v1/openapi.json`)).json();
    const match = new OpenApiValidator(doc);
    const reached = new Set(calls.filter((c) => c.status < 300).map((c) => `${c.method} ${match.template(c.path)}`));
    const missing: string[] = [];
    for (const [path, item] of Object.entries<any>(doc.paths)) {
      for (const m of HTTP_METHODS) if (item[m] && !reached.has(`${m.toUpperCase()} ${path}`)) missing.push(`${m.toUpperCase()} ${path}`);
    }
    assert.deepEqual(missing, [], 'API calls that no client method made');
  });

  it('throws HeraldApiError with the problem on 400, 401, 403 and 404', async () => {
    const admin = new HeraldClient({ baseUrl: h.url, apiKey: h.adminKey });
    const ws = await admin.workspaces.create({ name: 'Errors' });
    const err = await rejects(admin.webhooks.create(ws.id, { topic: 'walletreward_create', url: 'not a url' }), 400, /\burl\b/);
    assert.ok(err.problem!.errors!.some((e) => e.path === 'url'));
    await rejects(admin.webhooks.create(ws.id, { topic: 'no_such_topic', url: receiver.at('/ok') }), 400, /\btopic\b/);
    await rejects(admin.events.publish(ws.id, { topic: 'walletreward_create', data: 'nope' as any }), 400, /\bdata\b/);
    await rejects(admin.events.publishBatch(ws.id, [{ topic: 'walletreward_create', data: {} }, { topic: 'nope', data: {} }]), 400, /events\[1\]\.topic/);
    await rejects(admin.filters.test({ amount: { $gte: [] } }, {}), 400, /filter\.amount/);
    await rejects(admin.deliveries.list(ws.id, { limit: 0 }), 400, /query\.limit/);
    await rejects(admin.workspaces.get('no-such-workspace'), 404, /workspace no-such-workspace not found/);
    await rejects(admin.deliveries.get(ws.id, 'dlv_nope'), 404, /delivery dlv_nope not found/);
    await rejects(admin.webhooks.get(ws.id, 'wh_nope'), 404, /webhook wh_nope not found/);
    const key = await admin.keys.create(ws.id);
    const scoped = new HeraldClient({ baseUrl: h.url, apiKey: key.key });
    await rejects(scoped.workspaces.list(), 403, /admin/);
    await rejects(scoped.workspaces.get('client-acme'), 404, /not found/);
    await rejects(new HeraldClient({ baseUrl: h.url, apiKey: 'wrong' }).topics.list(), 401, /not valid/);
  });
});
