// The Store conformance cases against the embedded SQLite adapter, one in-memory database per case,
// and what only the SQLite adapter does.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { storeCases } from './store.cases.js';
import { PASS_OVER_PART } from '../../src/store/sqlite/queue.js';

const T0 = 1_700_000_000_000;
/** A webhook of these tests: walletreward_create, enabled, every event. */
const hook = (id: string, workspaceId: string) => ({
  id, workspaceId, topic: 'walletreward_create', url: 'https://hooks.example/in', secret: 's', prefix: '', filter: null, headers: {},
  description: null, enabled: true, disabledReason: null, rateLimit: null, previousSecrets: [], signing: 'hmac' as const, signingKey: null,
  publicKey: null, previousSigningKeys: [], ordering: 'none' as const, paused: false, createdAt: T0, updatedAt: T0,
});
/** A migrated in-memory store holding these workspaces (webhooks on). */
async function storeWith(...workspaces: string[]): Promise<SqliteStore> {
  const store = new SqliteStore({ path: ':memory:' });
  await store.migrate();
  for (const id of workspaces) await store.createWorkspace({ id, name: id, uri: null, webhooksEnabled: true, createdAt: T0, updatedAt: T0 });
  return store;
}

describe('SqliteStore', () => {
  storeCases(async () => {
    const store = await storeWith();
    return { store, cleanup: () => store.close() };
  });
});

describe('SqliteStore purge', () => {
  it('walks events in seq order and ends at the first one that is not old (it does not read the rest)', async () => {
    const store = await storeWith('acme');
    try {
      const publish = (id: string, at: number) =>
        store.publish([{ workspaceId: 'acme', inputs: [{ id, clientId: true, idempotencyKey: null, topic: 'walletreward_create', data: {} }] }], at);
      await publish('old-1', T0);
      await publish('recent', T0 + 1000);
      // Published after `recent` with an earlier time (a clock set back): behind a recent
      // event, it waits for that one to grow old.
      await publish('old-2', T0 + 1);
      assert.equal(await store.purge(T0 + 500, 10), 1);
      assert.equal(await store.getEvent('acme', 'old-1'), null);
      assert.ok(await store.getEvent('acme', 'old-2'));
      assert.equal(await store.purge(T0 + 2000, 10), 2, 'once the one before it is old, it goes too');
    } finally {
      await store.close();
    }
  });
});

describe('SqliteStore claims', () => {
  it('a due delivery whose event is gone (removed behind the store) is cancelled, not handed out; the others are', async () => {
    const store = await storeWith('acme');
    try {
      await store.createWebhook(hook('wh_1', 'acme'));
      const inputs = ['kept-1', 'gone', 'kept-2'].map((id) => ({ id, clientId: true, idempotencyKey: null, topic: 'walletreward_create', data: { id } }));
      await store.publish([{ workspaceId: 'acme', inputs }], T0);
      // Past the foreign key's cascade, which would take the delivery with it.
      store.db.pragma('foreign_keys = OFF');
      store.db.prepare("DELETE FROM events WHERE id = 'gone'").run();
      store.db.pragma('foreign_keys = ON');
      const claimed = await store.claimDue(T0 + 1, 10, T0 + 60_000);
      assert.deepEqual(claimed.map((d) => d.eventId), ['kept-1', 'kept-2']);
      assert.deepEqual(claimed.map((d) => JSON.parse(d.body).id), ['kept-1', 'kept-2'], 'each with its own event');
      const statuses = store.db.prepare('SELECT status FROM deliveries ORDER BY seq').pluck().all();
      assert.deepEqual(statuses, ['pending', 'cancelled', 'pending']);
    } finally {
      await store.close();
    }
  });
});

describe('SqliteStore claims that pass over webhooks', () => {
  async function queue(rows: number): Promise<{ store: SqliteStore; writes: () => number }> {
    const store = await storeWith('acme', 'other');
    await store.createWebhook(hook('wh_skipped', 'acme'));
    await store.createWebhook(hook('wh_healthy', 'other'));
    for (let done = 0; done < rows; done += 1000) {
      const inputs = Array.from({ length: Math.min(1000, rows - done) }, (_, i) => ({ id: `e${done + i}`, clientId: true, idempotencyKey: null, topic: 'walletreward_create', data: {} }));
      await store.publish([{ workspaceId: 'acme', inputs }], T0);
    }
    // Counts the write transactions from here on (the connection is the store's own).
    const connection = (store as unknown as { c: { write: (fn: () => unknown) => Promise<unknown> } }).c;
    const write = connection.write.bind(connection);
    let count = 0;
    connection.write = (fn) => { count++; return write(fn); };
    return { store, writes: () => count };
  }
  const one = (store: SqliteStore, id: string, at: number) =>
    store.publish([{ workspaceId: 'other', inputs: [{ id, clientId: true, idempotencyKey: null, topic: 'walletreward_create', data: {} }] }], at);

  it('read the due queue PASS_OVER_PART rows per write transaction, and stop once the batch is full', async () => {
    const { store, writes } = await queue(2 * PASS_OVER_PART + 500);
    try {
      await one(store, 'behind', T0 + 1);
      let before = writes();
      const claimed = await store.claimDue(T0 + 10, 5, T0 + 60_000, ['wh_skipped']);
      assert.deepEqual(claimed.map((d) => d.eventId), ['behind']);
      assert.equal(writes() - before, 3, 'three parts for a queue of two parts and a bit');
      before = writes();
      assert.deepEqual((await store.claimDue(T0 + 30, 1, T0 + 60_000, ['wh_other'])).map((d) => d.eventId), ['e0'], 'the earliest due');
      assert.equal(writes() - before, 1, 'in one part');
    } finally {
      await store.close();
    }
  });

  it('start where the last claim passing over the same webhooks (or fewer) left off, or where a write made deliveries due behind it, and from the start every second', async () => {
    const { store, writes } = await queue(2 * PASS_OVER_PART + 500);
    try {
      await store.createWorkspace({ id: 'more', name: 'more', uri: null, webhooksEnabled: true, createdAt: T0, updatedAt: T0 });
      await store.createWebhook(hook('wh_more', 'more'));
      await store.publish([{ workspaceId: 'more', inputs: [{ id: 'more-early', clientId: true, idempotencyKey: null, topic: 'walletreward_create', data: {} }] }], T0 - 1);
      const claim = async (at: number, skip: string[]) => {
        const before = writes();
        const ids = (await store.claimDue(at, 5, at + 60_000, skip)).map((d) => d.eventId);
        return { ids, parts: writes() - before };
      };
      const B = T0 + 500;
      const both = ['wh_skipped', 'wh_more'];
      assert.deepEqual(await claim(B, both), { ids: [], parts: 3 }, 'the whole queue, in three parts');
      await one(store, 'new', B + 10);
      assert.deepEqual(await claim(B + 200, both), { ids: ['new'], parts: 1 }, 'only what came due since');
      assert.deepEqual(await claim(B + 210, [...both, 'wh_other']), { ids: [], parts: 1 }, 'passing over more webhooks: from where the last stopped');
      await one(store, 'newer', B + 220);
      assert.deepEqual(await claim(B + 400, ['wh_more']), { ids: ['e0', 'e1', 'e2', 'e3', 'e4'], parts: 1 }, 'passing over fewer webhooks: from the start');
      assert.deepEqual(await claim(B + 500, ['wh_skipped']), { ids: ['more-early', 'newer'], parts: 3 }, 'after one passing over other webhooks: from the start');
      assert.deepEqual(await claim(B + 600, ['wh_skipped']), { ids: [], parts: 1 });
      assert.deepEqual(await claim(B + 500 + 999, ['wh_skipped']), { ids: [], parts: 1 });
      assert.deepEqual(await claim(B + 500 + 1_000, ['wh_skipped']), { ids: [], parts: 3 }, 'a second after the last scan from the start: from the start');
      // A publish takes its time before it waits for the write lock: committed after a claim,
      // due well before that claim's time.
      await one(store, 'recent', B + 1_590);
      assert.deepEqual((await claim(B + 1_600, ['wh_skipped'])).ids, ['recent']);
      await one(store, 'late', B + 1_100);
      assert.deepEqual((await claim(B + 1_620, ['wh_skipped'])).ids, ['late']);
      assert.equal((await claim(B + 1_400, ['wh_skipped'])).parts, 3, 'the clock set back: from the start');
      // Made due again at the very millisecond where the last claim stopped: a write to an
      // existing row keeps its seq, lower than where the claim stopped.
      await one(store, 'again', B + 1_710);
      const [done] = await store.claimDue(B + 1_710, 5, B + 1_710 + 60_000, ['wh_skipped']);
      assert.equal(done!.eventId, 'again');
      await store.recordResults([{ seq: done!.seq, claim: done!.claim, webhookId: 'wh_healthy', status: 'failed', nextAttemptAt: null, url: done!.webhook.url, attempt: null }], B + 1_800);
      assert.equal(await store.retryDelivery('other', done!.id, B + 1_710), true);
      assert.deepEqual((await claim(B + 1_810, ['wh_skipped'])).ids, ['again']);
    } finally {
      await store.close();
    }
  });

  it('a batch filled by deliveries that the claim then holds back ends the claim: none behind them is claimed out of turn', async () => {
    const { store } = await queue(0);
    try {
      await store.createWorkspace({ id: 'quiet', name: 'quiet', uri: null, webhooksEnabled: true, createdAt: T0, updatedAt: T0 });
      await store.createWebhook(hook('wh_paused', 'quiet'));
      const inputs = (prefix: string, n: number) =>
        Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}`, clientId: true, idempotencyKey: null, topic: 'walletreward_create', data: {} }));
      await store.publish([{ workspaceId: 'quiet', inputs: inputs('p', 3) }], T0);
      await store.updateWebhook('quiet', 'wh_paused', { paused: true }, T0);
      await one(store, 'h1', T0 + 1);
      for (let i = 0; i < PASS_OVER_PART; i += 1000) await store.publish([{ workspaceId: 'acme', inputs: inputs(`s${i}-`, 1000) }], T0 + 2);
      await one(store, 'h2', T0 + 3);
      const order: string[] = [];
      for (let i = 0; i < 3 && order.length < 2; i++) order.push(...(await store.claimDue(T0 + 10, 3, T0 + 60_000, ['wh_skipped'])).map((d) => d.eventId));
      assert.deepEqual(order, ['h1', 'h2'], 'earliest due first');
    } finally {
      await store.close();
    }
  });
});
