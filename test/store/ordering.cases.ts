// Conformance cases for ordered webhooks, pausing, bulk retry and bulk replay (CONTRACT §7,
// src/domain/ordering.ts), run by storeCases against every adapter. The worker is played by
// hand: claim, then record a result, as DeliveryWorker and AttemptRunner would.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AttemptResult, ClaimedDelivery, DeliveryStatus, PublishInput, Store, Webhook, Workspace } from '../../src/store/store.js';
import { newId } from '../../src/domain/ids.js';
import type { StoreFactory } from './store.cases.js';

const T0 = 1_700_000_000_000;
const TOPIC = 'walletreward_create';
const OTHER_TOPIC = 'order_create';
const FAR = T0 + 1e9;
const LEASE = 30_000;

function workspace(id: string): Workspace {
  return { id, name: `Shop ${id}`, uri: null, webhooksEnabled: true, createdAt: T0, updatedAt: T0 };
}

function webhook(id: string, over: Partial<Webhook> = {}): Webhook {
  return {
    id, workspaceId: 'acme', topic: TOPIC, url: `https://hooks.example/${id}`, secret: 'whsec_c2VjcmV0', prefix: '', filter: null, headers: {},
    description: null, enabled: true, disabledReason: null, rateLimit: null, previousSecrets: [], signing: 'hmac', signingKey: null, publicKey: null, previousSigningKeys: [], ordering: 'none', paused: false,
    createdAt: T0, updatedAt: T0, ...over,
  };
}

function input(n: number, topic = TOPIC): PublishInput {
  return { id: newId('evt', T0), clientId: false, idempotencyKey: null, topic, data: { n } };
}

/** A result as AttemptRunner makes it (fifo results say so). */
function result(d: ClaimedDelivery, status: DeliveryStatus, retryAt: number | null = null): AttemptResult {
  return {
    seq: d.seq, claim: d.claim, webhookId: d.webhook.id, status, nextAttemptAt: status === 'pending' ? retryAt : null, url: d.webhook.url,
    attempt: {
      deliveryId: d.id, topic: d.topic, number: d.attempts + 1, startedAt: T0, durationMs: 3, statusCode: status === 'succeeded' ? 200 : 500,
      error: status === 'succeeded' ? null : 'HTTP 500', responseBody: null, requestHeaders: {},
    },
    ...(d.webhook.ordering === 'fifo' ? { fifo: true } : {}),
  };
}

const n = (d: ClaimedDelivery) => (JSON.parse(d.body) as { n: number }).n;

export function orderingCases(factory: StoreFactory): void {
  function test(name: string, fn: (store: Store) => Promise<void>): void {
    it(name, { timeout: 60_000 }, async () => {
      const fixture = await factory();
      try {
        await fn(fixture.store);
      } finally {
        await fixture.cleanup();
      }
    });
  }

  async function setup(store: Store, ...hooks: Webhook[]): Promise<void> {
    await store.createWorkspace(workspace('acme'));
    for (const h of hooks) await store.createWebhook(h);
  }

  /** Events 1..count: singles and a batch, in that order. */
  async function publish(store: Store, from: number, count: number, at = T0, topic = TOPIC): Promise<void> {
    for (let i = from; i < from + count; i++) await store.publish([{ workspaceId: 'acme', inputs: [input(i, topic)] }], at);
  }

  const claim = (store: Store, at: number, limit = 100) => store.claimDue(at, limit, at + LEASE);
  const of = (claimed: ClaimedDelivery[], id: string) => claimed.filter((d) => d.webhook.id === id);

  describe('ordered webhooks, pausing, bulk retry and replay', () => {
    test('a fifo webhook gets one delivery at a time in publish order; a head that fails twice holds the rest back', async (store) => {
      await setup(store, webhook('wh_fifo', { ordering: 'fifo' }), webhook('wh_free'));
      await publish(store, 1, 2);
      await store.publish([{ workspaceId: 'acme', inputs: [input(3), input(4)] }], T0);
      await publish(store, 5, 1);

      let at = T0 + 1;
      let claimed = await claim(store, at);
      assert.equal(of(claimed, 'wh_free').length, 5, 'an unordered webhook keeps its concurrency');
      assert.deepEqual(of(claimed, 'wh_fifo').map(n), [1], 'only the head of the fifo webhook');
      await store.recordResults(of(claimed, 'wh_free').map((d) => result(d, 'succeeded')), at);

      const sent: number[] = [];
      for (let round = 0; round < 20; round++) {
        const [head, ...rest] = of(claimed, 'wh_fifo');
        assert.equal(rest.length, 0, 'never two of a fifo webhook at once');
        if (!head) break;
        sent.push(n(head));
        assert.deepEqual(of(await claim(store, at + 1), 'wh_fifo'), [], 'nothing else while the head is in flight');
        const fails = n(head) === 1 && sent.filter((x) => x === 1).length <= 2;
        await store.recordResults([result(head, fails ? 'pending' : 'succeeded', at + 60_000)], at + 2);
        if (fails) assert.deepEqual(of(await claim(store, at + 30_000), 'wh_fifo'), [], 'the head waiting for its retry holds the rest back');
        at += 60_001;
        claimed = await claim(store, at);
      }
      assert.deepEqual(sent, [1, 1, 1, 2, 3, 4, 5]);
    });

    test('a head that fails for good is failed, and the next goes', async (store) => {
      await setup(store, webhook('wh_fifo', { ordering: 'fifo' }));
      await publish(store, 1, 3);
      const [head] = await claim(store, T0 + 1);
      await store.recordResults([result(head!, 'failed')], T0 + 2);
      const next = await claim(store, T0 + 3);
      assert.deepEqual(next.map(n), [2]);
      const failed = (await store.listDeliveries('acme', { status: 'failed' }, { limit: 10 })).rows;
      assert.deepEqual(failed.map((d) => d.id), [head!.id]);
    });

    test("a manual retry of a fifo webhook's head while its attempt is in flight is made after it, before the next", async (store) => {
      // Whatever the attempt in flight ends with: a success, or a failure for good (which would otherwise pass the turn on).
      const outcomes = { wh_ok: 'succeeded', wh_fails: 'failed' } as const;
      await setup(store, ...Object.keys(outcomes).map((id) => webhook(id, { ordering: 'fifo' })));
      await publish(store, 1, 3);
      const heads = await claim(store, T0 + 1);
      assert.deepEqual(heads.map((d) => [d.webhook.id, n(d)]).sort(), [['wh_fails', 1], ['wh_ok', 1]]);
      for (const head of heads) assert.equal(await store.retryDelivery('acme', head.id, T0 + 2), true);
      assert.deepEqual(await claim(store, T0 + 3), [], 'nothing is claimed while the heads are in flight, the retried one included');

      await store.recordResults(heads.map((d) => result(d, outcomes[d.webhook.id as keyof typeof outcomes])), T0 + 4);
      const retried = await claim(store, T0 + 5);
      assert.deepEqual(retried.map((d) => [d.webhook.id, n(d)]).sort(), [['wh_fails', 1], ['wh_ok', 1]], 'the retry, before event 2');
      for (const d of retried) {
        assert.equal(d.attempts, 1, 'after the attempt that was in flight');
        assert.equal(d.cycleStart, 1, 'a cycle of its own');
      }
      assert.deepEqual(await claim(store, T0 + 6), [], 'the retry holds the turn');

      await store.recordResults(retried.map((d) => result(d, 'succeeded')), T0 + 7);
      assert.deepEqual((await claim(store, T0 + 8)).map(n), [2, 2], 'then the next, in order');
      for (const head of heads) {
        const found = (await store.getDelivery('acme', head.id))!;
        assert.equal(found.delivery.status, 'succeeded');
        assert.deepEqual(found.attempts.map((a) => a.number), [1, 2]);
      }
    });

    test("a claim whose lease ran out (a killed worker) comes back first, still alone", async (store) => {
      await setup(store, webhook('wh_fifo', { ordering: 'fifo' }));
      await publish(store, 1, 3);
      const [first] = await claim(store, T0 + 1);
      assert.deepEqual(await claim(store, T0 + 2), []);
      const again = await claim(store, T0 + 2 + LEASE);
      assert.deepEqual(again.map((d) => [n(d), d.claim]), [[1, first!.claim + 1]]);
      await store.recordResults([result(first!, 'succeeded')], T0 + 3 + LEASE); // the dead worker's late result: stale
      assert.deepEqual(await claim(store, T0 + 4 + LEASE), []);
      await store.recordResults([result(again[0]!, 'succeeded')], T0 + 5 + LEASE);
      assert.deepEqual((await claim(store, T0 + 6 + LEASE)).map(n), [2]);
    });

    test('concurrent claimers, records and publishes never hold two deliveries of a fifo webhook, and keep its order', async (store) => {
      await setup(store, webhook('wh_fifo', { ordering: 'fifo' }), webhook('wh_free'));
      const inFlight = new Map<string, number>();
      const sent: number[] = [];
      let published = 0;
      const publisher = (async () => {
        for (let i = 1; i <= 40; i += 2) {
          await store.publish([{ workspaceId: 'acme', inputs: [input(i), input(i + 1)] }], T0);
          published = i + 1;
        }
      })();
      const worker = async () => {
        for (let idle = 0; idle < 30; ) {
          const claimed = await store.claimDue(FAR, 3, FAR + 1e9);
          if (claimed.length === 0) {
            idle += published === 40 ? 1 : 0;
            await new Promise((r) => setTimeout(r, 2));
            continue;
          }
          idle = 0;
          for (const d of claimed) {
            const held = (inFlight.get(d.webhook.id) ?? 0) + 1;
            if (d.webhook.id === 'wh_fifo') {
              assert.equal(held, 1, 'two deliveries of the fifo webhook in flight at once');
              sent.push(n(d));
            }
            inFlight.set(d.webhook.id, held);
          }
          await new Promise((r) => setTimeout(r, Math.random() * 3));
          for (const d of claimed) inFlight.set(d.webhook.id, inFlight.get(d.webhook.id)! - 1);
          await store.recordResults(claimed.map((d) => result(d, 'succeeded')), T0 + 5);
        }
      };
      await Promise.all([publisher, worker(), worker(), worker(), worker()]);
      assert.deepEqual(sent, Array.from({ length: 40 }, (_, i) => i + 1));
    });

    test('a paused webhook queues without sending; resuming sends the backlog (one at a time when fifo)', async (store) => {
      await setup(store, webhook('wh_p'), webhook('wh_pf', { ordering: 'fifo' }));
      await publish(store, 1, 1);
      await store.updateWebhook('acme', 'wh_p', { paused: true }, T0 + 1);
      await store.updateWebhook('acme', 'wh_pf', { paused: true }, T0 + 1);
      await publish(store, 2, 2, T0 + 2);
      assert.deepEqual(await claim(store, FAR), [], 'nothing claimed while paused, not even what was due before');
      const queued = (await store.listDeliveries('acme', { status: 'pending' }, { limit: 10 })).rows;
      assert.equal(queued.length, 6);
      assert.ok(queued.every((d) => d.nextAttemptAt === null), 'held: waiting for the resume');
      assert.equal((await store.findWebhook('wh_p'))!.paused, true);

      await store.updateWebhook('acme', 'wh_p', { paused: false }, T0 + 3);
      await store.updateWebhook('acme', 'wh_pf', { paused: false }, T0 + 3);
      const resumed = await claim(store, T0 + 4);
      assert.deepEqual(of(resumed, 'wh_p').map(n).sort(), [1, 2, 3]);
      assert.deepEqual(of(resumed, 'wh_pf').map(n), [1]);
    });

    test('switching ordering: none → fifo holds the queue in seq order; fifo → none lets it all go', async (store) => {
      await setup(store, webhook('wh_s'));
      await publish(store, 1, 3);
      const inFlight = (await claim(store, T0 + 1, 1))[0]!;
      await store.updateWebhook('acme', 'wh_s', { ordering: 'fifo' }, T0 + 2);
      await store.recordResults([result(inFlight, 'succeeded')], T0 + 3); // disregarded: it goes again in its turn
      assert.deepEqual((await claim(store, T0 + 4)).map(n), [1]);
      await store.updateWebhook('acme', 'wh_s', { ordering: 'none' }, T0 + 5);
      assert.deepEqual((await claim(store, T0 + 6)).map(n).sort(), [2, 3]);
    });

    test('bulk retry queues the window again with its filters; a fifo webhook still gets them one at a time', async (store) => {
      await setup(store, webhook('wh_a', { ordering: 'fifo' }), webhook('wh_b'), webhook('wh_o', { topic: OTHER_TOPIC }));
      await publish(store, 1, 3, T0);
      await publish(store, 4, 1, T0 + 1000, OTHER_TOPIC);
      await publish(store, 9, 1, T0 + 5000);
      // Fail everything, one by one.
      for (let at = T0 + 6000; ; at++) {
        const claimed = await claim(store, at);
        if (claimed.length === 0) break;
        await store.recordResults(claimed.map((d) => result(d, 'failed')), at);
      }
      const window = { since: T0, until: T0 + 2000, status: 'failed' as const };
      assert.equal(await store.retryDeliveries('acme', { ...window, webhookId: 'wh_b' }, T0 + 7000), 3);
      assert.equal(await store.retryDeliveries('acme', { ...window, topic: OTHER_TOPIC }, T0 + 7000), 1);
      assert.equal(await store.retryDeliveries('acme', { ...window, status: 'succeeded' }, T0 + 7000), 0);
      assert.equal(await store.retryDeliveries('acme', window, T0 + 7000), 3, 'the rest: wh_a');
      const claimed = await claim(store, T0 + 8000);
      assert.deepEqual(of(claimed, 'wh_b').map(n).sort(), [1, 2, 3]);
      assert.deepEqual(of(claimed, 'wh_o').map(n), [4]);
      assert.deepEqual(of(claimed, 'wh_a').map(n), [1], 'fifo: the first of them only');
      assert.equal(of(claimed, 'wh_a')[0]!.cycleStart, 1, 'a new cycle of retries');
    });

    test('bulk replay fans the window out again, by topic, in order for a fifo webhook', async (store) => {
      await store.createWorkspace({ ...workspace('acme'), webhooksEnabled: false });
      await publish(store, 1, 3, T0);
      await publish(store, 4, 1, T0 + 10, OTHER_TOPIC);
      await publish(store, 9, 1, T0 + 5000);
      await store.updateWorkspace('acme', { webhooksEnabled: true }, T0 + 6000);
      await store.createWebhook(webhook('wh_r', { ordering: 'fifo' }));
      await store.createWebhook(webhook('wh_o', { topic: OTHER_TOPIC }));
      assert.deepEqual(await store.replayEvents('acme', { since: T0, until: T0 + 1000, topic: TOPIC }, T0 + 7000), { events: 3, deliveries: 3 });
      assert.deepEqual(await store.replayEvents('acme', { since: T0, until: T0 + 1000 }, T0 + 7000), { events: 4, deliveries: 4 });
      const sent: number[] = [];
      for (let at = T0 + 8000; ; at++) {
        const claimed = await claim(store, at);
        if (claimed.length === 0) break;
        sent.push(...of(claimed, 'wh_r').map(n));
        assert.ok(of(claimed, 'wh_r').length <= 1);
        await store.recordResults(claimed.map((d) => result(d, 'succeeded')), at);
      }
      assert.deepEqual(sent, [1, 2, 3, 1, 2, 3]);
      const events = (await store.listEvents('acme', undefined, { limit: 10 })).rows;
      assert.deepEqual(events.map((e) => e.deliveries), [0, 1, 2, 2, 2]);
    });
  });
}
