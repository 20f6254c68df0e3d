// Embedding Herald in a Node application, through the package's entry point (src/index.ts):
// createHerald + herald.publish (a function call) deliver to a local receiver; bad input
// throws EventRejected naming each fault's path, and nothing is stored; an unknown workspace throws.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { createHerald, EventRejected, loadConfig, verifyWebhook, type Herald } from '../../src/index.js';
import { ADMIN_KEY, makeApi, tempDir, waitUntil, type Api } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const SECRET = 'embedded-secret';
let dir: string;
let herald: Herald;
let api: Api;
let receiver: Receiver;

before(async () => {
  dir = await tempDir();
  receiver = await startReceiver();
  herald = await createHerald(loadConfig({}, {}, {
    host: '127.0.0.1', port: 0, dataDir: dir, adminKey: ADMIN_KEY, allowPrivateTargets: true, logLevel: 'silent', maxPayloadBytes: 1024,
  }));
  const url = await herald.start();
  assert.ok(url);
  api = makeApi(url, ADMIN_KEY);
  assert.equal((await api('POST', '/api/v1/workspaces', { id: 'acme', name: 'Acme Coffee', uri: 'https://acme.example' })).status, 201);
  assert.equal((await api('PATCH', '/api/v1/workspaces/acme', { webhooks_enabled: true })).status, 200);
  const hook = await api('POST', '/api/v1/workspaces/acme/webhooks', { topic: 'walletreward_create', url: receiver.at('/embedded'), secret: SECRET, prefix: 'acme_' });
  assert.equal(hook.status, 201, hook.text);
});
after(async () => {
  await herald?.stop();
  await receiver?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function eventCount(): Promise<number> {
  const res = await api('GET', '/api/v1/workspaces/acme/events?limit=500');
  assert.equal(res.status, 200);
  return res.body.data.length;
}

describe('embedding: createHerald and herald.publish', () => {
  it('publishes with a function call, stored when it resolves, and delivers', async () => {
    const before = Date.now();
    const [published, other] = await herald.publish('acme', [
      { topic: 'walletreward_create', data: { customer_id: '4417', name: 'Priya Sharma', amount: 250 } },
      { topic: 'coupon_create', data: { value: 'ACME-10' } },
    ]);
    assert.match(published!.id, /^evt_/);
    assert.equal(published!.topic, 'walletreward_create');
    assert.ok(published!.createdAt instanceof Date);
    assert.ok(published!.createdAt.getTime() >= before - 1000);
    assert.equal(published!.deliveries, 1);
    assert.equal(published!.created, true);
    assert.equal(other!.deliveries, 0, 'no webhook for coupon_create');

    // On disk when the promise resolved: the API sees the event with its delivery.
    const stored = await api('GET', `/api/v1/workspaces/acme/events/${published!.id}`);
    assert.equal(stored.status, 200);
    assert.equal(stored.body.deliveries.length, 1);

    const [req] = await receiver.waitFor(1, { path: '/embedded' });
    assert.equal(req!.headers['x-nector-topic'], 'acme_walletreward_create');
    const body = verifyWebhook<Record<string, unknown>>(req!.raw, req!.headers, SECRET);
    assert.deepEqual(body, { customer_id: '4417', name: 'Priya Sharma', amount: 250, business_name: 'Acme Coffee', business_uri: 'https://acme.example' });
    await waitUntil(async () => (await api('GET', `/api/v1/workspaces/acme/deliveries/${stored.body.deliveries[0].id}`)).body.status === 'succeeded');
  });

  it('is idempotent by id and by idempotency key', async () => {
    const [first] = await herald.publish('acme', [{ topic: 'walletreward_create', data: { amount: 1 }, id: 'order-1001' }]);
    const [again] = await herald.publish('acme', [{ topic: 'walletreward_create', data: { amount: 1 }, id: 'order-1001' }]);
    assert.equal(first!.created, true);
    assert.equal(again!.created, false);
    assert.equal(again!.id, first!.id);
    const [keyed] = await herald.publish('acme', [{ topic: 'walletreward_create', data: { amount: 2 } }], { idempotencyKey: 'idem-embedded' });
    const [keyedAgain] = await herald.publish('acme', [{ topic: 'walletreward_create', data: { amount: 2 } }], { idempotencyKey: 'idem-embedded' });
    assert.equal(keyedAgain!.id, keyed!.id);
    assert.equal(keyedAgain!.created, false);
  });

  it('throws EventRejected naming each fault, and stores nothing', async () => {
    const count = await eventCount();
    await assert.rejects(
      herald.publish('acme', [
        { topic: 'walletreward_create', data: { amount: 1 } },
        { topic: 'no_such_topic', data: {} },
        { topic: 'walletreward_create', data: [] as unknown as Record<string, unknown> },
        { topic: 'walletreward_create', data: {}, id: 'not a valid id!' },
        { topic: 'walletreward_create', data: null as unknown as Record<string, unknown> },
      ]),
      (err: unknown) => {
        assert.ok(err instanceof EventRejected, `expected EventRejected, got ${err}`);
        assert.equal(err.status, 400);
        assert.deepEqual(err.errors.map((e) => e.path), ['[1].topic', '[2].data', '[3].id', '[4].data']);
        assert.match(err.message, /\[1\]\.topic: "no_such_topic" is not in the topic catalog/);
        assert.match(err.message, /\[2\]\.data: must be a JSON object/);
        return true;
      },
    );
    await assert.rejects(herald.publish('acme', [{ topic: 'walletreward_create', data: { blob: 'x'.repeat(2000) } }]), (err: unknown) => {
      assert.ok(err instanceof EventRejected);
      assert.equal(err.status, 413);
      assert.deepEqual(err.errors.map((e) => e.path), ['[0].data']);
      assert.match(err.message, /larger than 1024/);
      return true;
    });
    assert.equal(await eventCount(), count, 'a rejected publish stores nothing, not even its valid events');
  });

  it('throws for an unknown workspace', async () => {
    await assert.rejects(herald.publish('no-such-workspace', [{ topic: 'walletreward_create', data: { amount: 1 } }]), (err: unknown) => {
      assert.ok(err instanceof Error);
      assert.ok(!(err instanceof EventRejected));
      assert.match(err.message, /workspace no-such-workspace does not exist/);
      return true;
    });
  });
});
