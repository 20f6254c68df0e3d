// The delivery worker and one attempt, against a real SQLite store in memory and a real HTTP
// receiver on 127.0.0.1 (port 0). Nothing here leaves the machine; every test closes its
// worker, sender, receiver and store.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { AttemptResult, ClaimedDelivery, Delivery, Store, Webhook, Workspace } from '../../src/store/store.js';
import { HttpSender } from '../../src/delivery/http-sender.js';
import { AttemptRunner } from '../../src/delivery/attempt.js';
import { DeliveryWorker } from '../../src/delivery/worker.js';
import { WebhookLimiter } from '../../src/delivery/limits.js';
import { SecretBox } from '../../src/domain/secret-box.js';
import { generateSecret, secretDigest } from '../../src/domain/signing.js';
import { newId } from '../../src/domain/ids.js';
import type { RetryPolicy } from '../../src/domain/retry.js';
import { Receiver, type Reply, type Responder } from '../helpers/receiver.js';

const silent = pino({ level: 'silent' });
/** Per-webhook limits out of the way: these tests are about the worker's own concurrency. */
const roomy = () => new WebhookLimiter({ maxPerWebhook: 1000, initialPerWebhook: 1000, slowMs: 60_000 });
const TOPIC = 'walletreward_create';

/** Replies held until released, to look at what is in flight. */
class Gate {
  private waiting: (() => void)[] = [];
  hold: Responder = () => new Promise<Reply>((resolve) => this.waiting.push(() => resolve({ body: 'ok' })));
  get held(): number {
    return this.waiting.length;
  }
  releaseAll(): void {
    const w = this.waiting;
    this.waiting = [];
    for (const f of w) f();
  }
}

// ---- a Herald in pieces ----------------------------------------------------------------

interface Rig {
  store: SqliteStore;
  receiver: Receiver;
  sender: HttpSender;
  runner: AttemptRunner;
  workspace: Workspace;
  webhook: Webhook;
  secret: string;
  policy: RetryPolicy;
  worker(options?: { concurrency?: number; leaseMs?: number; maxIdleMs?: number }): DeliveryWorker;
  publish(data?: Record<string, unknown>): Promise<string>;
  delivery(id?: string): Promise<Delivery>;
  deliveries(): Promise<Delivery[]>;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function rig(policy: RetryPolicy = { maxRetries: 5, baseMs: 30_000, factor: 4 }, timeoutMs = 5000): Promise<Rig> {
  const store = new SqliteStore({ path: ':memory:' });
  await store.migrate();
  cleanups.push(() => store.close());
  const receiver = (await Receiver.start()).setDefault({ body: 'ok' });
  const url = receiver.at('/hook');
  cleanups.push(() => receiver.close());
  const sender = new HttpSender({ timeoutMs, allowPrivateTargets: true });
  cleanups.push(() => sender.close());
  const runner = new AttemptRunner({ sender, secrets: new SecretBox(undefined), retry: policy, headerPrefix: 'x-nector', userAgent: 'Herald/test' });

  const now = Date.now();
  const workspace: Workspace = { id: 'ws_test', name: 'Brew & Bean', uri: 'https://brew.example', webhooksEnabled: true, createdAt: now, updatedAt: now };
  await store.createWorkspace(workspace);
  const secret = generateSecret();
  const webhook: Webhook = {
    id: newId('wh'), workspaceId: workspace.id, topic: TOPIC, url, secret, prefix: '', filter: null, headers: { 'x-api-key': 'k1' },
    description: null, enabled: true, disabledReason: null, rateLimit: null, previousSecrets: [], signing: 'hmac', signingKey: null, publicKey: null, previousSigningKeys: [], ordering: 'none', paused: false,
        createdAt: now, updatedAt: now,
  };
  await store.createWebhook(webhook);

  const r: Rig = {
    store, receiver, sender, runner, workspace, webhook, secret, policy,
    worker(options = {}) {
      const w = new DeliveryWorker(
        store, runner, roomy(),
        { concurrency: options.concurrency ?? 4, leaseMs: options.leaseMs ?? 60_000, maxIdleMs: options.maxIdleMs ?? 30_000 },
        silent,
      );
      // Runs before the sender and receiver close (cleanups run last-in first-out).
      cleanups.push(() => w.stop());
      return w;
    },
    async publish(data = { customer_id: 'c1', amount: 150 }) {
      const id = newId('evt');
      const [outcomes] = await store.publish(
        [{ workspaceId: workspace.id, inputs: [{ id, clientId: false, idempotencyKey: null, topic: TOPIC, data }] }], Date.now(),
      );
      assert.equal(outcomes![0]!.event.deliveries, 1);
      return id;
    },
    async deliveries() {
      return (await store.listDeliveries(workspace.id, {}, { limit: 500 })).rows;
    },
    async delivery(eventId?: string) {
      const rows = (await store.listDeliveries(workspace.id, eventId ? { eventId } : {}, { limit: 500 })).rows;
      assert.equal(rows.length, 1, 'exactly one delivery');
      return rows[0]!;
    },
  };
  return r;
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- the worker ------------------------------------------------------------------------

describe('DeliveryWorker', () => {
  it('delivers a published delivery promptly after wake(), signed', async () => {
    const r = await rig();
    const worker = r.worker({ maxIdleMs: 30_000 });
    worker.start();
    await worker.whenIdle(); // it found nothing and sleeps for up to 30 s
    const eventId = await r.publish({ customer_id: 'c1', amount: 150 });
    const woke = Date.now();
    worker.wake();
    await waitFor('the request', () => r.receiver.requests.length === 1, 2000);
    assert.ok(Date.now() - woke < 1500, `took ${Date.now() - woke} ms`);
    await waitFor('the result to be recorded', async () => (await r.delivery()).status === 'succeeded');

    const d = await r.delivery(eventId);
    assert.equal(d.attempts, 1);
    assert.equal(d.lastStatusCode, 200);
    assert.equal(d.lastError, null);
    assert.equal(d.nextAttemptAt, null);

    const req = r.receiver.requests[0]!;
    assert.deepEqual(JSON.parse(req.body), { customer_id: 'c1', amount: 150, business_name: 'Brew & Bean', business_uri: 'https://brew.example' });
    assert.equal(req.headers['content-type'], 'application/json');
    assert.equal(req.headers['user-agent'], 'Herald/test');
    assert.equal(req.headers['x-nector-topic'], TOPIC);
    assert.equal(req.headers['x-nector-delivery-id'], d.id);
    assert.equal(req.headers['webhook-id'], d.id);
    assert.equal(req.headers['x-nector-webhook-secret'], secretDigest(r.secret));
    assert.equal(req.headers['x-api-key'], 'k1');
    const verified = new StandardWebhook(r.secret).verify(req.body, req.headers as Record<string, string>);
    assert.deepEqual(verified, JSON.parse(req.body));

    const stored = await r.store.getDelivery(r.workspace.id, d.id);
    assert.equal(stored!.attempts.length, 1);
    assert.equal(stored!.attempts[0]!.number, 1);
    assert.equal(stored!.attempts[0]!.statusCode, 200);
    assert.equal(stored!.attempts[0]!.responseBody, 'ok');
    assert.equal(stored!.attempts[0]!.requestHeaders['webhook-id'], d.id);
  });

  it('picks up deliveries published before it started', async () => {
    const r = await rig();
    await r.publish();
    await r.publish();
    r.worker().start();
    await waitFor('both deliveries', async () => (await r.deliveries()).every((d) => d.status === 'succeeded'));
    assert.equal(r.receiver.requests.length, 2);
  });

  it('never has more than `concurrency` requests open at once', async () => {
    const r = await rig();
    r.receiver.respondWith(() => ({ body: 'ok', delayMs: 25 }));
    for (let i = 0; i < 20; i++) await r.publish({ n: i });
    const worker = r.worker({ concurrency: 3 });
    worker.start();
    await waitFor('all 20 deliveries', async () => (await r.deliveries()).every((d) => d.status === 'succeeded'), 10_000);
    assert.equal(r.receiver.requests.length, 20);
    assert.ok(r.receiver.maxOpen <= 3, `max open was ${r.receiver.maxOpen}`);
    assert.equal(r.receiver.maxOpen, 3, 'the slots are used');
    assert.deepEqual(new Set(r.receiver.requests.map((q) => JSON.parse(q.body).n)), new Set(Array.from({ length: 20 }, (_, i) => i)));
  });

  it('busy counts the attempts in flight', async () => {
    const r = await rig();
    const gate = new Gate();
    r.receiver.respondWith(gate.hold);
    for (let i = 0; i < 5; i++) await r.publish({ n: i });
    const worker = r.worker({ concurrency: 2 });
    worker.start();
    await waitFor('two held requests', () => gate.held === 2);
    await pause(50);
    assert.equal(worker.busy, 2);
    assert.equal(r.receiver.requests.length, 2);
    gate.releaseAll();
    await waitFor('all requests', async () => {
      gate.releaseAll();
      return (await r.deliveries()).every((d) => d.status === 'succeeded');
    });
    assert.equal(worker.busy, 0);
  });

  it('stop() waits for the attempts in flight and records them', async () => {
    const r = await rig();
    const gate = new Gate();
    r.receiver.respondWith(gate.hold);
    await r.publish({ n: 1 });
    await r.publish({ n: 2 });
    const worker = r.worker({ concurrency: 4 });
    worker.start();
    await waitFor('two held requests', () => gate.held === 2);

    let stopped = false;
    const stopping = worker.stop().then(() => {
      stopped = true;
    });
    await pause(100);
    assert.equal(stopped, false, 'stop() returned while attempts were in flight');
    assert.equal(worker.busy, 2);

    gate.releaseAll();
    await stopping;
    assert.equal(worker.busy, 0);
    const rows = await r.deliveries();
    assert.equal(rows.length, 2);
    for (const d of rows) {
      assert.equal(d.status, 'succeeded');
      assert.equal(d.attempts, 1);
      const full = await r.store.getDelivery(r.workspace.id, d.id);
      assert.equal(full!.attempts.length, 1);
    }

    // A stopped worker claims nothing more.
    await r.publish({ n: 3 });
    worker.wake();
    await worker.whenIdle();
    assert.equal(r.receiver.requests.length, 2);
    const pending = (await r.deliveries()).filter((d) => d.status === 'pending');
    assert.equal(pending.length, 1);
    assert.equal(pending[0]!.attempts, 0);
  });

  it('stop() on an idle worker returns at once, and a stopped worker can start again', async () => {
    const r = await rig();
    const worker = r.worker({ maxIdleMs: 30_000 });
    worker.start();
    await worker.whenIdle();
    const t = Date.now();
    await worker.stop();
    assert.ok(Date.now() - t < 1000);
    await r.publish();
    worker.start();
    await waitFor('the delivery', async () => (await r.delivery()).status === 'succeeded');
  });

  it('a failed attempt schedules a retry per the policy', async () => {
    const policy: RetryPolicy = { maxRetries: 3, baseMs: 60_000, factor: 2 };
    const r = await rig(policy);
    r.receiver.respondWith(() => ({ status: 500, body: 'boom' }));
    await r.publish();
    const before = Date.now();
    const worker = r.worker();
    worker.start();
    await waitFor('the failure to be recorded', async () => (await r.delivery()).attempts === 1);
    const after = Date.now();

    const d = await r.delivery();
    assert.equal(d.status, 'pending');
    assert.equal(d.lastStatusCode, 500);
    assert.equal(d.lastError, 'HTTP 500');
    assert.ok(d.nextAttemptAt !== null);
    assert.ok(d.nextAttemptAt! >= before + 0.8 * 60_000, `${d.nextAttemptAt! - before} ms`);
    assert.ok(d.nextAttemptAt! <= after + 1.2 * 60_000, `${d.nextAttemptAt! - after} ms`);
    const full = await r.store.getDelivery(r.workspace.id, d.id);
    assert.equal(full!.attempts[0]!.statusCode, 500);
    assert.equal(full!.attempts[0]!.responseBody, 'boom');
    assert.equal(full!.attempts[0]!.error, 'HTTP 500');

    // Not retried before it is due.
    await worker.whenIdle();
    assert.equal(r.receiver.requests.length, 1);
  });

  it('a 429 with a longer Retry-After waits that long', async () => {
    const r = await rig({ maxRetries: 3, baseMs: 1000, factor: 2 });
    r.receiver.respondWith(() => ({ status: 429, headers: { 'retry-after': '120' }, body: '' }));
    await r.publish();
    const before = Date.now();
    r.worker().start();
    await waitFor('the failure to be recorded', async () => (await r.delivery()).attempts === 1);
    const d = await r.delivery();
    assert.equal(d.status, 'pending');
    assert.equal(d.lastStatusCode, 429);
    assert.ok(d.nextAttemptAt! >= before + 120_000 && d.nextAttemptAt! <= Date.now() + 120_000, `${d.nextAttemptAt! - before} ms`);
  });

  it('retries until they are used up, then the delivery is failed', async () => {
    const r = await rig({ maxRetries: 2, baseMs: 5, factor: 2 });
    r.receiver.respondWith(() => ({ status: 503, body: 'down' }));
    const eventId = await r.publish();
    const worker = r.worker();
    worker.start();
    await waitFor('the delivery to fail', async () => (await r.delivery()).status === 'failed');
    await worker.whenIdle();

    const d = await r.delivery(eventId);
    assert.equal(d.status, 'failed');
    assert.equal(d.attempts, 3, '1 attempt + 2 retries');
    assert.equal(d.nextAttemptAt, null);
    assert.equal(d.lastStatusCode, 503);
    assert.equal(r.receiver.requests.length, 3);
    const full = await r.store.getDelivery(r.workspace.id, d.id);
    assert.deepEqual(full!.attempts.map((a) => a.number), [1, 2, 3]);
    // The same delivery id and the same bytes on every attempt.
    assert.equal(new Set(r.receiver.requests.map((q) => q.headers['webhook-id'])).size, 1);
    assert.equal(new Set(r.receiver.requests.map((q) => q.body)).size, 1);
  });

  it('connection errors fail the attempt too', async () => {
    const r = await rig({ maxRetries: 0, baseMs: 5, factor: 2 });
    r.receiver.respondWith((_req, res) => void res.socket?.destroy());
    await r.publish();
    r.worker().start();
    await waitFor('the delivery to fail', async () => (await r.delivery()).status === 'failed');
    const d = await r.delivery();
    assert.equal(d.attempts, 1);
    assert.equal(d.lastStatusCode, null);
    assert.ok(d.lastError, 'an error is recorded');
  });

  it('whenIdle() waits for the attempts in flight and their records, then nothing is due', async () => {
    const r = await rig();
    const gate = new Gate();
    r.receiver.respondWith(gate.hold);
    await r.publish({ n: 1 });
    const worker = r.worker({ maxIdleMs: 30_000 });
    worker.start();
    await waitFor('the held request', () => gate.held === 1);
    let idle = false;
    const idling = worker.whenIdle().then(() => (idle = true));
    await pause(50);
    assert.equal(idle, false, 'idle while an attempt was in flight');
    gate.releaseAll();
    await idling;
    assert.equal((await r.delivery()).status, 'succeeded', 'idle only once the result is recorded');
    // A wake-up is work until the worker has looked: idle again after it found nothing.
    worker.wake();
    idle = false;
    const again = worker.whenIdle().then(() => (idle = true));
    assert.equal(idle, false);
    await again;
  });

  it('a manual retry gives exactly one more attempt', async () => {
    const r = await rig({ maxRetries: 0, baseMs: 5, factor: 2 });
    r.receiver.respondWith(() => ({ status: 500, body: '' }));
    await r.publish();
    const worker = r.worker();
    worker.start();
    await waitFor('the delivery to fail', async () => (await r.delivery()).status === 'failed');
    const d = await r.delivery();
    assert.ok(await r.store.retryDelivery(r.workspace.id, d.id, Date.now()));
    worker.wake();
    await waitFor('the second failure', async () => {
      const now = await r.delivery();
      return now.status === 'failed' && now.attempts === 2;
    });
    await worker.whenIdle();
    assert.equal(r.receiver.requests.length, 2);
  });
});

// ---- one attempt and the store's bookkeeping ------------------------------------------

describe('AttemptRunner and recordResults', () => {
  async function claimOne(r: Rig, now = Date.now(), leaseMs = 60_000): Promise<ClaimedDelivery> {
    const claimed = await r.store.claimDue(now, 10, now + leaseMs);
    assert.equal(claimed.length, 1);
    return claimed[0]!;
  }

  it("a stale claim's result is ignored", async () => {
    const r = await rig();
    await r.publish();
    const t0 = Date.now();
    const first = await claimOne(r, t0, 1000);
    // Nothing else is due while the lease holds.
    assert.equal((await r.store.claimDue(t0 + 500, 10, t0 + 60_000)).length, 0);
    // The lease runs out: another worker takes it.
    const second = await claimOne(r, t0 + 1001, 60_000);
    assert.equal(second.seq, first.seq);
    assert.ok(second.claim > first.claim);

    const late = await r.runner.run(first);
    assert.equal(late.status, 'succeeded');
    await r.store.recordResults([late], Date.now());
    let d = await r.delivery();
    assert.equal(d.status, 'pending', 'the stale result changed nothing');
    assert.equal(d.attempts, 0);
    assert.equal((await r.store.getDelivery(r.workspace.id, d.id))!.attempts.length, 0);

    const current = await r.runner.run(second);
    await r.store.recordResults([current], Date.now());
    d = await r.delivery();
    assert.equal(d.status, 'succeeded');
    assert.equal(d.attempts, 1);
    assert.equal((await r.store.getDelivery(r.workspace.id, d.id))!.attempts.length, 1);

    // Recording the stale one again after the current one is still ignored.
    await r.store.recordResults([late], Date.now());
    assert.equal((await r.delivery()).attempts, 1);
  });

  it('a stale failure does not overwrite a newer success in the same batch', async () => {
    const r = await rig();
    await r.publish();
    const t0 = Date.now();
    const first = await claimOne(r, t0, 1000);
    const second = await claimOne(r, t0 + 1001, 60_000);
    const stale: AttemptResult = { seq: first.seq, claim: first.claim, webhookId: first.webhook.id, status: 'failed', nextAttemptAt: null, url: first.webhook.url, attempt: null };
    const fresh = await r.runner.run(second);
    await r.store.recordResults([fresh, stale], Date.now());
    const d = await r.delivery();
    assert.equal(d.status, 'succeeded');
    assert.equal(d.lastError, null);
  });

  it('schedules retries in the jitter window and fails after the last one', async () => {
    const policy: RetryPolicy = { maxRetries: 2, baseMs: 10_000, factor: 3 };
    const r = await rig(policy);
    r.receiver.respondWith(() => ({ status: 502, body: '' }));
    await r.publish();
    const claimed = await claimOne(r);
    for (const [attempts, retry] of [[0, 1], [1, 2]] as const) {
      const before = Date.now();
      const result = await r.runner.run({ ...claimed, attempts });
      const after = Date.now();
      const nominal = policy.baseMs * policy.factor ** (retry - 1);
      assert.equal(result.status, 'pending');
      assert.equal(result.attempt!.number, attempts + 1);
      assert.ok(result.nextAttemptAt! >= before + 0.8 * nominal && result.nextAttemptAt! <= after + 1.2 * nominal);
    }
    const last = await r.runner.run({ ...claimed, attempts: 2 });
    assert.equal(last.status, 'failed');
    assert.equal(last.nextAttemptAt, null);
    assert.equal(last.attempt!.number, 3);
  });

  it('a redirect is not followed and fails the attempt', async () => {
    const r = await rig();
    r.receiver.respondWith(() => ({ status: 302, headers: { location: 'http://127.0.0.1:1/elsewhere' }, body: '' }));
    await r.publish();
    const result = await r.runner.run(await claimOne(r));
    assert.equal(result.status, 'pending');
    assert.equal(result.attempt!.statusCode, 302);
    assert.match(result.attempt!.error!, /redirect/);
    assert.equal(r.receiver.requests.length, 1);
  });

  it('during a rotation signs with the current secret and the unexpired previous ones', async () => {
    const r = await rig();
    await r.publish();
    const claimed = await claimOne(r);
    const previous = generateSecret();
    const expired = generateSecret();
    const now = Date.now();
    const result = await r.runner.run({
      ...claimed,
      webhook: {
        ...claimed.webhook,
        version: claimed.webhook.version + 1,
        previousSecrets: [{ secret: previous, expiresAt: now + 60_000 }, { secret: expired, expiresAt: now - 1 }],
      },
    });
    assert.equal(result.status, 'succeeded');
    const req = r.receiver.requests[0]!;
    const headers = req.headers as Record<string, string>;
    assert.equal(headers['webhook-signature']!.split(' ').length, 2);
    assert.doesNotThrow(() => new StandardWebhook(r.secret).verify(req.body, headers));
    assert.doesNotThrow(() => new StandardWebhook(previous).verify(req.body, headers));
    assert.throws(() => new StandardWebhook(expired).verify(req.body, headers));
    // The compatibility headers use the current secret.
    assert.equal(headers['x-nector-webhook-secret'], secretDigest(r.secret));
  });

  it('a disabled webhook closes the delivery without a request', async () => {
    const r = await rig();
    await r.publish();
    const claimed = await claimOne(r);
    const result = await r.runner.run({ ...claimed, webhook: { ...claimed.webhook, enabled: false } });
    assert.equal(result.status, 'failed');
    assert.equal(result.attempt, null);
    assert.equal(r.receiver.requests.length, 0);
  });
});

describe('DeliveryWorker and many new webhooks', () => {
  it('new webhooks waiting for the new share are passed over, not moved in the queue, and all are delivered', async () => {
    // Fan-out to new webhooks: a worker of 8 slots probes 2 new webhooks at a time (limits.ts
    // shares); the others are held back for tens of milliseconds. Moving their queued deliveries
    // to each short hold's end rewrote them round after round (200 events x 1,000 webhooks: 38 KB
    // written per delivery); only holds of a second or more are written to the queue.
    const r = await rig();
    const hooks = 20;
    for (let i = 0; i < hooks; i++) {
      const now = Date.now();
      await r.store.createWebhook({ ...r.webhook, id: newId('wh'), url: r.receiver.at(`/fan/${i}`), createdAt: now, updatedAt: now });
    }
    const events = 5;
    for (let i = 0; i < events; i++) {
      const [outcomes] = await r.store.publish(
        [{ workspaceId: r.workspace.id, inputs: [{ id: newId('evt'), clientId: false, idempotencyKey: null, topic: TOPIC, data: { i } }] }], Date.now(),
      );
      assert.equal(outcomes![0]!.event.deliveries, hooks + 1);
    }
    const written: number[] = [];
    const holdWebhooks = r.store.holdWebhooks.bind(r.store);
    r.store.holdWebhooks = (holds, now, dueAfter) => {
      for (const h of holds) written.push(h.until - now);
      return holdWebhooks(holds, now, dueAfter);
    };
    const limiter = new WebhookLimiter({ maxPerWebhook: 8, initialPerWebhook: 4, newPerWebhook: 1, slowMs: 2000, workerSlots: 8, timeoutMs: 5000 });
    const worker = new DeliveryWorker(r.store, r.runner, limiter, { concurrency: 8, leaseMs: 60_000, maxIdleMs: 1000 }, silent);
    cleanups.push(() => worker.stop());
    worker.start();
    await waitFor('every delivery', () => r.receiver.requests.length >= (hooks + 1) * events, 10_000);
    await worker.whenIdle();
    assert.equal(r.receiver.requests.length, (hooks + 1) * events, 'each delivered once');
    assert.ok((await r.deliveries()).every((d) => d.status === 'succeeded'));
    assert.deepEqual(written.filter((ms) => ms < 1000), [], 'no hold shorter than a second written to the queue');
  });
});

// ---- the worker against a fake store ---------------------------------------------------

describe('DeliveryWorker with a fake store', () => {
  it('keeps running after claimDue fails, and stop() still returns', async () => {
    let calls = 0;
    const store = {
      async claimDue() {
        calls++;
        throw new Error('database is down');
      },
      async nextDueAt() {
        return null;
      },
      async recordResults() {},
    } as unknown as Store;
    const runner = { run: async () => assert.fail('nothing was claimed') } as unknown as AttemptRunner;
    const worker = new DeliveryWorker(store, runner, roomy(), { concurrency: 2, leaseMs: 60_000, maxIdleMs: 30_000 }, silent);
    worker.start();
    await pause(20);
    assert.equal(calls, 1);
    await pause(1100); // it tries again after 1 s
    assert.equal(calls, 2);
    const t = Date.now();
    await worker.stop();
    assert.ok(Date.now() - t < 1000);
  });

  it('a listener that throws does not keep the slot: the next delivery goes out and stop() returns', async () => {
    const r = await rig();
    await r.publish({ n: 1 });
    await r.publish({ n: 2 });
    let calls = 0;
    const logged: string[] = [];
    const log = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line).msg) });
    // One slot: if the first result's listener kept it, the second delivery would never be sent.
    const worker = new DeliveryWorker(r.store, r.runner, roomy(), { concurrency: 1, leaseMs: 60_000, maxIdleMs: 30_000 }, log, {
      onResult: () => {
        calls++;
        throw new Error('a listener bug');
      },
    });
    // Without the fix its stop() never returns (the slot stays taken): the cleanup gives up.
    cleanups.push(() => Promise.race([worker.stop(), pause(2_000)]).then(() => undefined));
    worker.start();
    await waitFor('both deliveries', async () => (await r.deliveries()).every((d) => d.status === 'succeeded'));
    assert.equal(r.receiver.requests.length, 2);
    assert.equal(calls, 2);
    assert.equal(worker.busy, 0);
    assert.deepEqual(logged, ['an onResult listener threw', 'an onResult listener threw']);
    const t = Date.now();
    await worker.stop();
    assert.ok(Date.now() - t < 1000);
  });

  it('results that arrive together are recorded in one call', async () => {
    const batches: AttemptResult[][] = [];
    let handed = false;
    const claimed = (seq: number) =>
      ({ seq, claim: 1, webhook: { id: 'wh_1', enabled: true, openUntil: null, rateLimit: null } }) as unknown as ClaimedDelivery;
    const store = {
      async claimDue() {
        if (handed) return [];
        handed = true;
        return [claimed(1), claimed(2), claimed(3)];
      },
      async nextDueAt() {
        return null;
      },
      async recordResults(results: AttemptResult[]) {
        batches.push(results);
      },
    } as unknown as Store;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const runner = {
      async run(d: ClaimedDelivery): Promise<AttemptResult> {
        await gate;
        return { seq: d.seq, claim: d.claim, webhookId: d.webhook.id, status: 'succeeded', nextAttemptAt: null, url: 'http://x', attempt: null };
      },
    } as unknown as AttemptRunner;
    const seen: number[] = [];
    const worker = new DeliveryWorker(store, runner, roomy(), { concurrency: 8, leaseMs: 60_000, maxIdleMs: 30_000 }, silent, {
      onResult: (res) => seen.push(res.seq),
    });
    worker.start();
    await waitFor('three attempts', () => worker.busy === 3);
    release();
    await worker.stop();
    assert.deepEqual(seen.sort(), [1, 2, 3]);
    assert.equal(batches.length, 1);
    assert.deepEqual(batches[0]!.map((x) => x.seq).sort(), [1, 2, 3]);
  });
});
