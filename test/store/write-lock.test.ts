// Every SQLite write waits for the write lock shared with the delivery thread: while another
// holder has it, a write neither runs nor settles; once it is released, the write goes through.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { WriteLock } from '../../src/store/sqlite/write-lock.js';
import type { Store, Webhook } from '../../src/store/store.js';

const T0 = 1_700_000_000_000;

function hook(id: string): Webhook {
  return {
    id, workspaceId: 'acme', topic: 'walletreward_create', url: 'https://hooks.example/in', secret: 's', prefix: '', filter: null, headers: {},
    description: null, enabled: true, disabledReason: null, rateLimit: null, previousSecrets: [], signing: 'hmac', signingKey: null, publicKey: null, previousSigningKeys: [], ordering: 'none', paused: false,
        createdAt: T0, updatedAt: T0,
  };
}

/** Holds `lock` as another holder would until the returned release is called. */
function holdElsewhere(lock: WriteLock): { release: () => Promise<void> } {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  const done = lock.holdWhile(() => held);
  return { release: async () => { release(); await done; } };
}

/** Whether `promise` settles within a few turns of the event loop. */
async function settlesSoon(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(() => (settled = true), () => (settled = true));
  await new Promise((resolve) => setTimeout(resolve, 30));
  return settled;
}

describe('SqliteStore writes wait for the shared write lock', () => {
  const writes: [string, (store: Store) => Promise<unknown>, (store: Store) => Promise<boolean>][] = [
    ['createWorkspace', (s) => s.createWorkspace({ id: 'new', name: 'New', uri: null, webhooksEnabled: true, createdAt: T0, updatedAt: T0 }),
      async (s) => (await s.getWorkspace('new')) !== null],
    ['updateWorkspace', (s) => s.updateWorkspace('acme', { name: 'Renamed' }, T0 + 1), async (s) => (await s.getWorkspace('acme'))?.name === 'Renamed'],
    ['createWebhook', (s) => s.createWebhook(hook('wh_new')), async (s) => (await s.findWebhook('wh_new')) !== null],
    ['retryDelivery', (s) => s.retryDelivery('acme', 'dlv_1', T0 + 1), async (s) => (await s.getDelivery('acme', 'dlv_1'))?.delivery.status === 'pending'],
    ['recoverDeliveries', (s) => s.recoverDeliveries('acme', 'wh_1', T0 - 1, T0 + 1, T0 + 1),
      async (s) => (await s.getDelivery('acme', 'dlv_1'))?.delivery.status === 'pending'],
    ['createKey', (s) => s.createKey({ id: 'key_1', workspaceId: 'acme', name: null, createdAt: T0 }, 'hash'), async (s) => (await s.findKeyByHash('hash')) !== null],
    ['putTopic', (s) => s.putTopic({ name: 'new_topic', label: 'New', description: '', sample: {} }), async (s) => (await s.getTopic('new_topic')) !== null],
  ];

  for (const [name, write, applied] of writes) {
    it(name, async () => {
      const lock = new WriteLock();
      const store = new SqliteStore({ path: ':memory:', writeLock: lock });
      try {
        await store.migrate();
        // acme, with one webhook and one failed delivery of it.
        await store.createWorkspace({ id: 'acme', name: 'Acme', uri: null, webhooksEnabled: true, createdAt: T0, updatedAt: T0 });
        await store.createWebhook(hook('wh_1'));
        await store.publish([{ workspaceId: 'acme', inputs: [{ id: 'evt_1', clientId: true, idempotencyKey: null, topic: 'walletreward_create', data: {} }] }], T0);
        const [claimed] = await store.claimDue(T0, 1, T0 + 1000);
        await store.recordResults([{ seq: claimed!.seq, claim: claimed!.claim, webhookId: 'wh_1', status: 'failed', nextAttemptAt: null, url: claimed!.webhook.url, attempt: null }], T0);
        store.db.prepare("UPDATE deliveries SET id = 'dlv_1'").run();
        assert.equal(await applied(store), false, 'not applied before the write');

        const other = holdElsewhere(lock);
        const pending = write(store);
        assert.equal(await settlesSoon(pending), false, 'the write waits while another holder has the lock');
        assert.equal(await applied(store), false, 'and has not run');
        await other.release();
        await pending;
        assert.equal(await applied(store), true, 'it runs once the lock is free');
      } finally {
        await store.close();
      }
    });
  }
});

describe('WriteLock.yieldToWaiting', () => {
  it('lets a writer that waited for the lock have it before the holder that yields takes it again', async () => {
    for (const yielding of [true, false]) {
      const lock = new WriteLock();
      const order: string[] = [];
      const first = holdElsewhere(lock);
      const waiter = lock.hold(() => order.push('waiter'));
      await new Promise((resolve) => setTimeout(resolve, 5)); // the waiter is asleep on the lock
      await first.release();
      if (yielding) await lock.yieldToWaiting();
      await lock.hold(() => order.push('holder again'));
      await waiter;
      // Without the yield, the holder takes the lock back before the waiter wakes: what the yield is for.
      assert.deepEqual(order, yielding ? ['waiter', 'holder again'] : ['holder again', 'waiter']);
    }
  });
});

describe('WriteLock due mark', () => {
  it('keeps the earliest due time lowered through any of its connections until it is taken', () => {
    const lock = new WriteLock();
    assert.equal(lock.due.take(), null, 'nothing made due yet');
    lock.due.lower(1_700_000_000_500);
    const other = new WriteLock(lock.buffer); // another thread's view of the same lock, made later
    other.due.lower(1_700_000_000_100);
    lock.due.lower(1_700_000_000_300);
    assert.equal(other.due.take(), 1_700_000_000_100);
    assert.equal(lock.due.take(), null, 'taken once');
  });
});
