// What a receiver gets: headers, signatures, body, topic prefix, filters, the webhooks
// toggle, test sends, batches and idempotent publishing — a real Herald, a real receiver.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Webhook } from 'standardwebhooks';
import {
  createWebhook, createWorkspace, getDelivery, publish, setupWebhook, startHerald, waitForDelivery, type TestHerald,
} from '../helpers/herald.js';
import { startReceiver, type Receiver, type RecordedRequest } from '../helpers/receiver.js';

const VERSION = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string;

let h: TestHerald;
const receivers: Receiver[] = [];
async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

before(async () => {
  h = await startHerald({ retryBaseMs: 200, retryFactor: 2, maxRetries: 3 });
});
after(async () => {
  await h?.stop();
  for (const r of receivers) await r.close();
});

/** Checks every header of contract section 4 and both signature schemes. */
function checkSignedRequest(req: RecordedRequest, secret: string, topicSeen: string) {
  const hd = req.headers;
  assert.equal(req.method, 'POST');
  assert.equal(hd['accept'], 'application/json');
  assert.equal(hd['content-type'], 'application/json');
  assert.equal(hd['user-agent'], `Herald/${VERSION}`);
  assert.equal(hd['x-source'], 'unix');
  assert.equal(hd['x-nector-topic'], topicSeen);
  assert.match(String(hd['x-nector-delivery-id']), /^dlv_[0-9A-Z]{26}$/);
  assert.equal(hd['x-nector-delivery-id'], hd['webhook-id']);
  assert.match(String(hd['x-nector-timestamp']), /^\d+$/);
  assert.equal(hd['x-nector-timestamp'], hd['webhook-timestamp']);
  const ts = Number(hd['webhook-timestamp']);
  assert.ok(Math.abs(ts - Date.now() / 1000) < 120, `timestamp ${ts} is not close to now`);
  assert.equal(hd['x-nector-webhook-secret-algo'], 'sha256');
  assert.equal(hd['x-nector-webhook-secret'], createHash('sha256').update(secret, 'utf8').digest('hex'));
  assert.equal(hd['x-nector-webhook-hmac-algo'], 'sha256');
  assert.equal(hd['x-nector-webhook-hmac'], createHmac('sha256', Buffer.from(secret, 'utf8')).update(req.raw).digest('hex'));
  assert.match(String(hd['webhook-signature']), /^v1,[A-Za-z0-9+/]+={0,2}$/);
  // The Standard Webhooks reference library accepts it.
  const wh = secret.startsWith('whsec_') ? new Webhook(secret) : new Webhook(secret, { format: 'raw' });
  const headers = {
    'webhook-id': String(hd['webhook-id']),
    'webhook-timestamp': String(hd['webhook-timestamp']),
    'webhook-signature': String(hd['webhook-signature']),
  };
  assert.deepEqual(wh.verify(req.body, headers), JSON.parse(req.body));
  // ... and refuses a body that was changed.
  assert.throws(() => wh.verify(req.body.replace(/}$/, ',"x":1}'), headers));
}

describe('the request a receiver gets', () => {
  it('carries every header of section 4, verifiable with standardwebhooks (whsec_ secret)', async () => {
    const r = await receiver();
    const secret = 'whsec_' + randomBytes(32).toString('base64');
    const { ws, webhook } = await setupWebhook(h, r.at('/hook'), { secret, headers: { 'x-shop-token': 'abc 123' } });
    assert.equal('secret' in webhook, false, 'the secret is not echoed on create');
    const data = { customer_id: 'c-1', amount: 150, tags: ['vip'], note: 'ünïcødé ✓' };
    const event = await publish(h, ws, 'walletreward_create', data);
    assert.equal(event.deliveries, 1);
    assert.match(event.id, /^evt_/);

    const [req] = await r.waitFor(1);
    checkSignedRequest(req!, secret, 'walletreward_create');
    assert.equal(req!.path, '/hook');
    assert.equal(req!.headers['x-shop-token'], 'abc 123', 'custom headers are sent');
    assert.deepEqual(JSON.parse(req!.body), {
      ...data, business_name: 'Blue Bottle Goods', business_uri: 'https://bluebottle.example',
    });

    // The delivery id in the headers is the delivery's id in the API.
    const detail = await waitForDelivery(h, ws, String(req!.headers['webhook-id']), (d) => d.status === 'succeeded');
    assert.equal(detail.event_id, event.id);
    assert.equal(detail.webhook_id, webhook.id);
    assert.equal(detail.attempts.length, 1);
    assert.equal(detail.attempts[0].status_code, 200);
    assert.equal(detail.attempts[0].request_headers['webhook-id'], detail.id);
    // The log shows every header as sent, in the order sent (stored compactly, rebuilt on read).
    const transport = new Set(['host', 'content-length', 'connection', 'keep-alive', 'transfer-encoding']);
    const received = Object.entries(req!.headers).filter(([name]) => !transport.has(name));
    const logged = Object.entries(detail.attempts[0].request_headers as Record<string, string>).map(([name, value]) => [name.toLowerCase(), value]);
    assert.deepEqual(logged, received);
  });

  it('signs with a generated whsec_ secret fetched from GET …/secret', async () => {
    const r = await receiver();
    const { ws, webhook } = await setupWebhook(h, r.at('/gen'));
    const res = await h.api('GET', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}/secret`);
    assert.equal(res.status, 200);
    const secret: string = res.body.secret;
    assert.match(secret, /^whsec_[A-Za-z0-9+/]+={0,2}$/);
    assert.equal(Buffer.from(secret.slice(6), 'base64').length, 32);
    await publish(h, ws, 'walletreward_create', { amount: 1 });
    const [req] = await r.waitFor(1);
    checkSignedRequest(req!, secret, 'walletreward_create');
  });

  it('signs with a plain secret (standardwebhooks format "raw")', async () => {
    const r = await receiver();
    const secret = 'plain-shared-secret-42';
    const { ws } = await setupWebhook(h, r.at('/plain'), { secret });
    await publish(h, ws, 'walletreward_create', { amount: 2 });
    const [req] = await r.waitFor(1);
    checkSignedRequest(req!, secret, 'walletreward_create');
  });

  it("keeps data's own business_name and adds only what is missing", async () => {
    const r = await receiver();
    const { ws } = await setupWebhook(h, r.at('/biz'), {}, { name: 'Workspace Name', uri: null });
    await publish(h, ws, 'walletreward_create', { business_name: 'Brand Override', amount: 3 });
    const [req] = await r.waitFor(1);
    assert.deepEqual(JSON.parse(req!.body), { business_name: 'Brand Override', amount: 3, business_uri: null });
    // The event as read back is the data as published.
    const events = await h.api('GET', `/api/v1/workspaces/${ws}/events`);
    assert.deepEqual(events.body.data[0].data, { business_name: 'Brand Override', amount: 3 });
  });

  it('prepends the webhook prefix to the topic the receiver sees', async () => {
    const r = await receiver();
    const { ws } = await setupWebhook(h, r.at('/prefixed'), { prefix: 'shop1_', secret: 'whsec_' + randomBytes(24).toString('base64') });
    await publish(h, ws, 'walletreward_create', { amount: 4 });
    const [req] = await r.waitFor(1);
    assert.equal(req!.headers['x-nector-topic'], 'shop1_walletreward_create');
    const d = await waitForDelivery(h, ws, String(req!.headers['webhook-id']), (x) => x.status === 'succeeded');
    assert.equal(d.topic, 'walletreward_create');
  });

  it('sends the same body bytes, delivery id and signature scheme on every attempt', async () => {
    const r = await receiver();
    r.enqueue({ status: 500 }, { status: 502 });
    const secret = 'whsec_' + randomBytes(32).toString('base64');
    const { ws } = await setupWebhook(h, r.at('/again'), { secret });
    await publish(h, ws, 'walletreward_create', { amount: 5, nested: { a: [1, 2, { b: null }] } });
    const reqs = await r.waitFor(3);
    for (const req of reqs) checkSignedRequest(req, secret, 'walletreward_create');
    assert.equal(new Set(reqs.map((q) => q.body)).size, 1);
    assert.equal(new Set(reqs.map((q) => q.headers['webhook-id'])).size, 1);
    await waitForDelivery(h, ws, String(reqs[0]!.headers['webhook-id']), (d) => d.status === 'succeeded' && d.attempts.length === 3);
  });
});

describe('secret rotation', () => {
  it('signs with the old and the new secret during the grace period, then with the new one only', async () => {
    const r = await receiver();
    const oldSecret = 'whsec_' + randomBytes(32).toString('base64');
    const newSecret = 'rotated-plain-secret-7';
    const { ws, webhook } = await setupWebhook(h, r.at('/rotate'), { secret: oldSecret });
    const rotated = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}/secret/rotate`, { secret: newSecret, grace_seconds: 3600 });
    assert.equal(rotated.status, 200);
    assert.equal(rotated.body.secret, newSecret);
    assert.equal((await h.api('GET', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}/secret`)).body.secret, newSecret);

    await publish(h, ws, 'walletreward_create', { amount: 6 });
    const [req] = await r.waitFor(1);
    const signatures = String(req!.headers['webhook-signature']).split(' ');
    assert.equal(signatures.length, 2, 'one signature per valid secret');
    const headers = {
      'webhook-id': String(req!.headers['webhook-id']),
      'webhook-timestamp': String(req!.headers['webhook-timestamp']),
      'webhook-signature': String(req!.headers['webhook-signature']),
    };
    // A receiver holding either secret accepts it.
    assert.deepEqual(new Webhook(oldSecret).verify(req!.body, headers), JSON.parse(req!.body));
    assert.deepEqual(new Webhook(newSecret, { format: 'raw' }).verify(req!.body, headers), JSON.parse(req!.body));
    // The compatibility headers use the current secret.
    assert.equal(req!.headers['x-nector-webhook-secret'], createHash('sha256').update(newSecret, 'utf8').digest('hex'));
    assert.equal(req!.headers['x-nector-webhook-hmac'], createHmac('sha256', newSecret).update(req!.raw).digest('hex'));

  });

  it('with grace_seconds 0 only the new (generated) secret signs', async () => {
    const r = await receiver();
    const oldSecret = 'old-plain-secret-8';
    const { ws, webhook } = await setupWebhook(h, r.at('/rotate-now'), { secret: oldSecret });
    const again = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}/secret/rotate`, { grace_seconds: 0 });
    assert.equal(again.status, 200);
    const generated: string = again.body.secret;
    assert.match(generated, /^whsec_/);
    assert.equal(Buffer.from(generated.slice(6), 'base64').length, 32);
    await publish(h, ws, 'walletreward_create', { amount: 7 });
    const [req] = await r.waitFor(1);
    checkSignedRequest(req!, generated, 'walletreward_create');
    const headers = {
      'webhook-id': String(req!.headers['webhook-id']),
      'webhook-timestamp': String(req!.headers['webhook-timestamp']),
      'webhook-signature': String(req!.headers['webhook-signature']),
    };
    assert.throws(() => new Webhook(oldSecret, { format: 'raw' }).verify(req!.body, headers), 'the replaced secret no longer signs');
  });
});

describe('configuration', () => {
  it('HERALD_HEADER_PREFIX renames the compatibility headers (and the reserved names)', async () => {
    const hh = await startHerald({ headerPrefix: 'x-acme' });
    try {
      const r = await receiver();
      const secret = 'prefix-secret';
      const { ws } = await setupWebhook(hh, r.at('/acme'), { secret, prefix: 'a_' });
      await publish(hh, ws, 'walletreward_create', { n: 1 });
      const [req] = await r.waitFor(1);
      const hd = req!.headers;
      assert.equal(hd['x-acme-topic'], 'a_walletreward_create');
      assert.equal(hd['x-acme-delivery-id'], hd['webhook-id']);
      assert.equal(hd['x-acme-timestamp'], hd['webhook-timestamp']);
      assert.equal(hd['x-acme-webhook-secret-algo'], 'sha256');
      assert.equal(hd['x-acme-webhook-secret'], createHash('sha256').update(secret).digest('hex'));
      assert.equal(hd['x-acme-webhook-hmac-algo'], 'sha256');
      assert.equal(hd['x-acme-webhook-hmac'], createHmac('sha256', secret).update(req!.raw).digest('hex'));
      assert.equal(hd['x-nector-topic'], undefined);
      new Webhook(secret, { format: 'raw' }).verify(req!.body, hd as Record<string, string>);
      const bad = await hh.api('POST', `/api/v1/workspaces/${ws}/webhooks`, { topic: 'walletreward_create', url: r.at('/x'), headers: { 'x-acme-topic': 'forged' } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.errors[0].path, 'headers.x-acme-topic');
    } finally {
      await hh.stop();
    }
  });

  it('HERALD_ENCRYPTION_KEY keeps secrets out of the database files, and they still sign', async () => {
    const hh = await startHerald({ encryptionKey: 'correct horse battery staple' });
    try {
      const r = await receiver();
      const secret = 'whsec_' + randomBytes(32).toString('base64');
      const { ws, webhook } = await setupWebhook(hh, r.at('/sealed'), { secret });
      await publish(hh, ws, 'walletreward_create', { n: 1 });
      const [req] = await r.waitFor(1);
      checkSignedRequest(req!, secret, 'walletreward_create');
      assert.equal((await hh.api('GET', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}/secret`)).body.secret, secret);
      const { readdirSync, readFileSync } = await import('node:fs');
      for (const f of readdirSync(hh.dataDir)) {
        const bytes = readFileSync(`${hh.dataDir}/${f}`);
        assert.equal(bytes.includes(Buffer.from(secret.slice(6))), false, `the secret is readable in ${f}`);
      }
    } finally {
      await hh.stop();
    }
  });
});

describe('the webhooks toggle', () => {
  it('stores events without deliveries while off, delivers once on, and replays the earlier event', async () => {
    const r = await receiver();
    const ws = await createWorkspace(h, { enabled: false });
    assert.equal(ws.webhooks_enabled, false, 'a new workspace starts switched off');
    await createWebhook(h, ws.id, { url: r.at('/toggle') });

    const early = await publish(h, ws.id, 'walletreward_create', { n: 'early' });
    assert.equal(early.deliveries, 0);
    await h.idle();
    assert.equal(r.requests.length, 0, 'nothing is sent while webhooks are off');
    const stored = await h.api('GET', `/api/v1/workspaces/${ws.id}/events/${early.id}`);
    assert.equal(stored.status, 200);
    assert.deepEqual(stored.body.data, { n: 'early' });
    assert.deepEqual(stored.body.deliveries, []);
    // A replay while still switched off queues nothing either.
    const offReplay = await h.api('POST', `/api/v1/workspaces/${ws.id}/events/${early.id}/replay`);
    assert.equal(offReplay.status, 202);
    assert.deepEqual(offReplay.body, { deliveries: 0 });
    await h.idle();
    assert.equal(r.requests.length, 0, 'a replay sends nothing while webhooks are off');

    const on = await h.api('PATCH', `/api/v1/workspaces/${ws.id}`, { webhooks_enabled: true });
    assert.equal(on.status, 200);
    assert.equal(on.body.webhooks_enabled, true);
    const late = await publish(h, ws.id, 'walletreward_create', { n: 'late' });
    assert.equal(late.deliveries, 1);
    const [first] = await r.waitFor(1);
    assert.equal(JSON.parse(first!.body).n, 'late');

    const replay = await h.api('POST', `/api/v1/workspaces/${ws.id}/events/${early.id}/replay`);
    assert.equal(replay.status, 202);
    assert.deepEqual(replay.body, { deliveries: 1 });
    const reqs = await r.waitFor(2);
    assert.equal(JSON.parse(reqs[1]!.body).n, 'early');
    const after = await h.api('GET', `/api/v1/workspaces/${ws.id}/events/${early.id}`);
    assert.equal(after.body.deliveries.length, 1);

    // Switched off again: nothing more is sent.
    await h.api('PATCH', `/api/v1/workspaces/${ws.id}`, { webhooks_enabled: false });
    const off = await publish(h, ws.id, 'walletreward_create', { n: 'off again' });
    assert.equal(off.deliveries, 0);
    await h.idle();
    assert.equal(r.requests.length, 2);
  });
});

describe('filters', () => {
  it('delivers only the events that match, with several operators', async () => {
    const r = await receiver();
    const ws = await createWorkspace(h);
    const hooks: Record<string, Record<string, unknown> | null> = {
      '/gold-or-vip': { amount: { $gte: 100 }, $or: [{ tier: 'gold' }, { tags: 'vip' }] },
      '/usa-priya': { 'customer.country': { $in: ['usa', 'ind'] }, name: { $regex: '^Pri', $options: 'i' } },
      '/business': { business_name: 'Blue Bottle Goods', coupon: { $exists: false } },
      '/code': { code: { $startsWith: 'PR', $endsWith: '9' }, status: { $ne: 'void' }, amount: { $lt: 1000, $nin: [13] } },
      '/not-small': { $not: { amount: { $lte: 10 } }, 'tags.0': { $contains: 'v' } },
      '/all': null,
    };
    for (const [path, filter] of Object.entries(hooks)) {
      await createWebhook(h, ws.id, { url: r.at(path), filter });
    }
    // A disabled webhook gets nothing.
    await createWebhook(h, ws.id, { url: r.at('/disabled'), enabled: false });

    const events: { id: string; data: Record<string, unknown>; expect: string[] }[] = [
      { id: 'e1', data: { amount: 150, tier: 'gold', customer: { country: 'usa' }, name: 'priya', tags: ['vip'] }, expect: ['/gold-or-vip', '/usa-priya', '/business', '/not-small'] },
      { id: 'e2', data: { amount: 150, tier: 'silver', tags: ['new'], code: 'PR-19', status: 'ok' }, expect: ['/business', '/code'] },
      { id: 'e3', data: { amount: 5, tags: ['vip'], coupon: 'X', customer: { country: 'fra' }, name: 'Priya' }, expect: [] },
      { id: 'e4', data: { amount: 13, code: 'PR9', coupon: null, tags: ['vip', 'x'] }, expect: ['/not-small'] },
      { id: 'e5', data: { amount: 500, tags: ['a', 'vip'], code: 'PRX9', status: 'void', customer: { country: 'ind' }, name: 'Pria' }, expect: ['/gold-or-vip', '/usa-priya', '/business'] },
    ];
    let expectedTotal = 0;
    for (const e of events) {
      const res = await publish(h, ws.id, 'walletreward_create', { ...e.data, key: e.id });
      assert.equal(res.deliveries, e.expect.length + 1, `deliveries queued for ${e.id}`); // + /all
      expectedTotal += res.deliveries;
    }
    const reqs = await r.waitFor(expectedTotal);
    await h.idle();
    assert.equal(r.requests.length, expectedTotal, 'no request beyond the matching ones');
    for (const e of events) {
      const got = reqs.filter((q) => JSON.parse(q.body).key === e.id).map((q) => q.path).sort();
      assert.deepEqual(got, [...e.expect, '/all'].sort(), `receivers of ${e.id}`);
    }
    assert.equal(r.received('/disabled').length, 0);
  });

  it('refuses an invalid filter with a 400 naming its JSON path, on create and update', async () => {
    const ws = await createWorkspace(h);
    const bad = await h.api('POST', `/api/v1/workspaces/${ws.id}/webhooks`, {
      topic: 'walletreward_create', url: 'http://127.0.0.1:9/x', filter: { amount: { $gtx: 1 } },
    });
    assert.equal(bad.status, 400);
    assert.match(bad.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(bad.body.errors[0].path, 'filter.amount.$gtx');

    const nested = await h.api('POST', `/api/v1/workspaces/${ws.id}/webhooks`, {
      topic: 'walletreward_create', url: 'http://127.0.0.1:9/x', filter: { $or: [{ a: 1 }, { b: { $regex: '(' } }] },
    });
    assert.equal(nested.status, 400);
    assert.equal(nested.body.errors[0].path, 'filter.$or[1].b.$regex');

    const list = await h.api('GET', `/api/v1/workspaces/${ws.id}/webhooks`);
    assert.deepEqual(list.body.data, []);

    const wh = await createWebhook(h, ws.id, { url: 'http://127.0.0.1:9/x' });
    const patch = await h.api('PATCH', `/api/v1/workspaces/${ws.id}/webhooks/${wh.id}`, { filter: { tags: { $in: 'vip' } } });
    assert.equal(patch.status, 400);
    assert.equal(patch.body.errors[0].path, 'filter.tags.$in');
    const still = await h.api('GET', `/api/v1/workspaces/${ws.id}/webhooks/${wh.id}`);
    assert.equal(still.body.filter, null);
  });

  it('POST /api/v1/filters/test answers whether data matches', async () => {
    const filter = { amount: { $gte: 100 }, $or: [{ tier: 'gold' }, { tags: 'vip' }] };
    const yes = await h.api('POST', '/api/v1/filters/test', { filter, data: { amount: 100, tags: ['x', 'vip'] } });
    assert.equal(yes.status, 200);
    assert.deepEqual(yes.body, { matches: true });
    const no = await h.api('POST', '/api/v1/filters/test', { filter, data: { amount: 99, tier: 'gold' } });
    assert.deepEqual(no.body, { matches: false });
    const all = await h.api('POST', '/api/v1/filters/test', { filter: null, data: { anything: 1 } });
    assert.deepEqual(all.body, { matches: true });
    const invalid = await h.api('POST', '/api/v1/filters/test', { filter: { a: { $bogus: 1 } }, data: {} });
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.errors[0].path, 'filter.a.$bogus');
    const noKey = await h.api('POST', '/api/v1/filters/test', { filter: null, data: {} }, null);
    assert.equal(noKey.status, 401);
  });
});

describe('test sends', () => {
  it("POST …/webhooks/{id}/test sends the topic's sample now and answers with the delivery and its attempt", async () => {
    const r = await receiver();
    const secret = 'whsec_' + randomBytes(32).toString('base64');
    const { ws, webhook } = await setupWebhook(h, r.at('/test-send'), { topic: 'order_create', secret, prefix: 'p_' }, { enabled: false });
    const topics = await h.api('GET', '/api/v1/topics');
    const sample = topics.body.data.find((t: any) => t.name === 'order_create').sample;

    const res = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}/test`);
    assert.equal(res.status, 200);
    const d = res.body.delivery;
    assert.equal(d.status, 'succeeded');
    assert.equal(d.webhook_id, webhook.id);
    assert.equal(d.attempts.length, 1);
    assert.equal(d.attempts[0].number, 1);
    assert.equal(d.attempts[0].status_code, 200);
    assert.equal(d.attempts[0].response_body, '{"ok":true}');
    assert.equal(r.requests.length, 1);
    const req = r.requests[0]!;
    checkSignedRequest(req, secret, 'p_order_create');
    assert.deepEqual(JSON.parse(req.body), { ...sample, business_name: 'Blue Bottle Goods', business_uri: 'https://bluebottle.example' });

    // With data of its own.
    const own = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}/test`, { data: { hello: 'world' } });
    assert.equal(own.status, 200);
    assert.deepEqual(JSON.parse(r.requests[1]!.body), { hello: 'world', business_name: 'Blue Bottle Goods', business_uri: 'https://bluebottle.example' });
  });

  it('a failing test send is recorded once and not retried', async () => {
    const r = await receiver();
    r.setDefault({ status: 503, body: 'down for maintenance' });
    const { ws, webhook } = await setupWebhook(h, r.at('/test-fail'));
    const res = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}/test`, {});
    assert.equal(res.status, 200);
    const d = res.body.delivery;
    assert.equal(d.status, 'failed');
    assert.equal(d.attempts.length, 1);
    assert.equal(d.attempts[0].status_code, 503);
    assert.equal(d.attempts[0].response_body, 'down for maintenance');
    await h.idle(); // a test send is never retried: nothing is due
    assert.equal(r.requests.length, 1);
    assert.equal((await getDelivery(h, ws, d.id)).attempts.length, 1);
  });
});

describe('publishing', () => {
  it('a batch of mixed topics answers {data: [...]} and fans each event out to its topic', async () => {
    const r = await receiver();
    const ws = await createWorkspace(h);
    await createWebhook(h, ws.id, { topic: 'walletreward_create', url: r.at('/wallet') });
    await createWebhook(h, ws.id, { topic: 'order_create', url: r.at('/order') });
    const res = await h.api('POST', `/api/v1/workspaces/${ws.id}/events/batch`, {
      events: [
        { topic: 'walletreward_create', data: { i: 0 } },
        { topic: 'order_create', data: { i: 1 }, id: 'order-1' },
        { topic: 'coupon_create', data: { i: 2 } },
        { topic: 'walletreward_create', data: { i: 3 } },
      ],
    });
    assert.equal(res.status, 202);
    assert.deepEqual(Object.keys(res.body), ['data']);
    assert.equal(res.body.data.length, 4);
    assert.deepEqual(res.body.data.map((e: any) => e.topic), ['walletreward_create', 'order_create', 'coupon_create', 'walletreward_create']);
    assert.deepEqual(res.body.data.map((e: any) => e.deliveries), [1, 1, 0, 1]);
    // The same id twice in one batch is one event, delivered once.
    const dup = await h.api('POST', `/api/v1/workspaces/${ws.id}/events/batch`, {
      events: [{ topic: 'order_create', data: { i: 4 }, id: 'order-2' }, { topic: 'order_create', data: { i: 5 }, id: 'order-2' }],
    });
    assert.equal(dup.status, 202);
    assert.deepEqual(dup.body.data.map((e: any) => e.id), ['order-2', 'order-2']);
    assert.equal(dup.body.data[1].created_at, dup.body.data[0].created_at);
    assert.equal(res.body.data[1].id, 'order-1');
    for (const e of res.body.data) {
      assert.match(e.id, /^(evt_|order-1$)/);
      assert.ok(!Number.isNaN(Date.parse(e.created_at)));
    }
    await r.waitFor(2, { path: '/wallet' });
    await r.waitFor(2, { path: '/order' });
    await h.idle();
    assert.deepEqual(r.received('/wallet').map((q) => JSON.parse(q.body).i).sort(), [0, 3]);
    assert.deepEqual(r.received('/order').map((q) => JSON.parse(q.body).i).sort(), [1, 4]);
    assert.equal(r.received('/order')[0]!.headers['x-nector-topic'], 'order_create');
  });

  it('refuses a batch of more than 1000 events and stores none of it', async () => {
    const ws = await createWorkspace(h);
    const events = Array.from({ length: 1001 }, (_, i) => ({ topic: 'walletreward_create', data: { i } }));
    const res = await h.api('POST', `/api/v1/workspaces/${ws.id}/events/batch`, { events });
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(res.body.errors[0].path, 'events');
    const ok = await h.api('POST', `/api/v1/workspaces/${ws.id}/events/batch`, { events: events.slice(0, 1000) });
    assert.equal(ok.status, 202);
    assert.equal(ok.body.data.length, 1000);
    const list = await h.api('GET', `/api/v1/workspaces/${ws.id}/events?limit=500`);
    assert.equal(list.body.data.length, 500);
    assert.notEqual(list.body.next_cursor, null);
  });

  it('the same id twice returns the same event and queues nothing the second time', async () => {
    const r = await receiver();
    const { ws } = await setupWebhook(h, r.at('/idem'));
    const first = await publish(h, ws, 'walletreward_create', { n: 1 }, 'order-778');
    const second = await publish(h, ws, 'walletreward_create', { n: 2 }, 'order-778');
    assert.equal(first.id, 'order-778');
    assert.equal(second.id, first.id);
    assert.equal(second.created_at, first.created_at);
    await r.waitFor(1);
    await h.idle();
    assert.equal(r.requests.length, 1);
    assert.equal(JSON.parse(r.requests[0]!.body).n, 1);
    const ev = await h.api('GET', `/api/v1/workspaces/${ws}/events/order-778`);
    assert.equal(ev.body.deliveries.length, 1);
    assert.deepEqual(ev.body.data, { n: 1 });

    // Another workspace may use the same id for its own event.
    const other = await setupWebhook(h, r.at('/idem-other'));
    const third = await publish(h, other.ws, 'walletreward_create', { n: 3 }, 'order-778');
    assert.equal(third.id, 'order-778');
    assert.equal(third.deliveries, 1);
    await r.waitFor(1, { path: '/idem-other' });
  });

  it('the same Idempotency-Key twice returns the same event and queues nothing the second time', async () => {
    const r = await receiver();
    const { ws } = await setupWebhook(h, r.at('/idem-key'));
    const send = (n: number) => h.api('POST', `/api/v1/workspaces/${ws}/events`, { topic: 'walletreward_create', data: { n } }, undefined, {
      headers: { 'Idempotency-Key': 'checkout-5521' },
    });
    const [a, b] = [await send(1), await send(2)];
    assert.equal(a.status, 202);
    assert.equal(b.status, 202);
    assert.equal(b.body.id, a.body.id);
    assert.equal(a.body.deliveries, 1);
    // Sent at the same moment, too.
    const [c, d] = await Promise.all([send(3), send(4)]);
    assert.equal(c.body.id, a.body.id);
    assert.equal(d.body.id, a.body.id);
    await r.waitFor(1);
    await h.idle();
    assert.equal(r.requests.length, 1);
    const events = await h.api('GET', `/api/v1/workspaces/${ws}/events`);
    assert.equal(events.body.data.length, 1);
  });
});
