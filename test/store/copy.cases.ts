// Conformance cases for copying a whole database (exportRows, importRows, countRows and
// copyStore, behind `herald copy`), run by storeCases against every adapter. The other side
// of each copy is an in-memory SQLite store, so every adapter's export and import are both
// exercised: a full store copied out of the adapter under test, and into it.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AttemptResult, ClaimedDelivery, Page, PageRequest, PublishInput, Store, Webhook, Workspace } from '../../src/store/store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { copyStore, CopyError } from '../../src/store/copy.js';
import { PORTABLE_TABLES, type ImportBatch, type TableName } from '../../src/store/portable.js';
import type { StoreFactory } from './store.cases.js';

const T0 = 1_700_000_000_000;
const DAY = 24 * 3600 * 1000;
const TOPIC = 'walletreward_create';
const OTHER_TOPIC = 'order_create';
const policy = { threshold: 1, cooldownMs: 1000, maxCooldownMs: 10_000, disableAfterMs: 30 * DAY };

function workspace(id: string, over: Partial<Workspace> = {}): Workspace {
  return { id, name: `Shop ${id}`, uri: `https://${id}.example`, webhooksEnabled: true, createdAt: T0, updatedAt: T0, ...over };
}

function webhook(id: string, over: Partial<Webhook> = {}): Webhook {
  return {
    id, workspaceId: 'acme', topic: TOPIC, url: `https://hooks.example/${id}`, secret: `whsec_${id}`, prefix: '', filter: null, headers: {},
    description: null, enabled: true, disabledReason: null, rateLimit: null, previousSecrets: [], signing: 'hmac', signingKey: null, publicKey: null, previousSigningKeys: [], ordering: 'none', paused: false,
        createdAt: T0, updatedAt: T0, ...over,
  };
}

function input(id: string, data: Record<string, unknown>, over: Partial<PublishInput> = {}): PublishInput {
  return { id, clientId: false, idempotencyKey: null, topic: TOPIC, data, ...over };
}

function result(d: ClaimedDelivery, status: 'succeeded' | 'pending' | 'failed', at: number): AttemptResult {
  return {
    seq: d.seq, claim: d.claim, webhookId: d.webhook.id, status, nextAttemptAt: status === 'pending' ? T0 + 3 * DAY : null, url: d.webhook.url,
    attempt: {
      deliveryId: d.id, topic: d.topic, number: d.attempts + 1, startedAt: at, durationMs: 7, statusCode: status === 'succeeded' ? 200 : 503,
      error: status === 'succeeded' ? null : 'HTTP 503', responseBody: status === 'succeeded' ? 'ok' : 'down "for now" é',
      requestHeaders: { 'webhook-id': d.id, 'x-z': '1', 'x-a': '2' },
    },
  };
}

/**
 * A store in every state a copy must carry: topics (one custom), workspaces with webhooks on
 * and off, live and revoked keys, webhooks with every field, events (a client id, an
 * idempotency key reused after 24 h), and deliveries succeeded, failed, retrying, manually
 * retried, claimed under a lease and waiting, with attempts and open circuits.
 */
export async function fill(store: Store): Promise<void> {
  await store.seedTopics([
    { name: TOPIC, label: 'Wallet coins rewarded', description: 'coins', sample: { z: 1, a: [1, 'x', null] } },
    { name: OTHER_TOPIC, label: 'Order created', description: 'orders', sample: {} },
  ]);
  await store.putTopic({ name: 'custom.topic', label: 'Custom', description: 'mine', sample: { k: 'v' }, schema: { type: 'object', required: ['k'] } });
  await store.createWorkspace(workspace('acme'));
  await store.createWorkspace(workspace('quiet', { uri: null, webhooksEnabled: false, createdAt: T0 + 1 }));
  await store.createKey({ id: 'key_1', workspaceId: 'acme', name: 'ci', createdAt: T0 }, 'hash-1');
  await store.createKey({ id: 'key_2', workspaceId: 'acme', name: null, createdAt: T0 + 1 }, 'hash-2');
  await store.createKey({ id: 'key_3', workspaceId: 'quiet', name: 'q', createdAt: T0 + 2 }, 'hash-3');
  await store.revokeKey('acme', 'key_2', T0 + 5);
  await store.createWebhook(webhook('wh_plain'));
  await store.createWebhook(webhook('wh_fancy', {
    prefix: 'p_', filter: { amount: { $gte: 10 } }, headers: { 'x-b': '2', 'x-a': '1' }, description: 'big ones', rateLimit: 5,
    previousSecrets: [{ secret: 'old', expiresAt: T0 + DAY }], secret: 'enc:v1:c2VjcmV0',
    signing: 'ed25519', signingKey: 'enc:v1:a2V5', publicKey: 'whpk_pub', previousSigningKeys: [{ privateKey: 'enc:v1:b2xk', expiresAt: T0 + DAY }],
  }));
  await store.createWebhook(webhook('wh_off', { topic: OTHER_TOPIC, enabled: false, disabledReason: 'paused' }));

  const note = 'é "quoted" \\ 😀';
  for (let i = 0; i < 6; i++) {
    const over: Partial<PublishInput> = i === 0 ? { clientId: true } : i === 1 ? { idempotencyKey: 'k' } : i === 2 ? { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } : {};
    await store.publish([{ workspaceId: 'acme', inputs: [input(`evt_${i}`, { amount: i * 5, note }, over)] }], T0 + 10 + i);
  }
  // The same key again after 24 hours: a new event.
  await store.publish([{ workspaceId: 'acme', inputs: [input('evt_k2', { amount: 50 }, { idempotencyKey: 'k' })] }], T0 + 2 * DAY);
  await store.publish([{ workspaceId: 'quiet', inputs: [input('evt_q', { amount: 1 })] }], T0 + 2 * DAY);

  const claimed = (await store.claimDue(T0 + 2 * DAY + 10, 100, T0 + 2 * DAY + 60_000)).sort((a, b) => a.seq - b.seq);
  assert.ok(claimed.length >= 8, `${claimed.length} claimed`);
  const results: AttemptResult[] = [];
  claimed.forEach((d, i) => {
    if (i % 4 === 0) results.push(result(d, 'succeeded', T0 + 2 * DAY + 20 + i));
    else if (i % 4 === 1) results.push(result(d, 'pending', T0 + 2 * DAY + 20 + i));
    else if (i % 4 === 2) results.push(result(d, 'failed', T0 + 2 * DAY + 20 + i));
    // i % 4 === 3: still claimed, under its lease.
  });
  await store.recordResults(results, T0 + 2 * DAY + 100, policy);
  const failed = results.find((r) => r.status === 'failed')!;
  const failedId = claimed.find((d) => d.seq === failed.seq)!.id;
  assert.ok(await store.retryDelivery('acme', failedId, T0 + 2 * DAY + 200));
  // One more, waiting in the queue.
  await store.publish([{ workspaceId: 'acme', inputs: [input('evt_last', { amount: 99 })] }], T0 + 2 * DAY + 300);
}

/** Every page of a list, two rows at a time (so that the cursors, which are seqs, are compared too). */
async function pages<T>(list: (page: PageRequest) => Promise<Page<T>>): Promise<Page<T>[]> {
  const out: Page<T>[] = [];
  let cursor: number | undefined;
  do {
    const page = await list({ limit: 2, cursor });
    out.push(page);
    cursor = page.next ?? undefined;
  } while (cursor !== undefined);
  return out;
}

/** Everything the Store interface shows of a store's contents. */
async function snapshot(store: Store) {
  const workspaces = await pages((p) => store.listWorkspaces(p));
  const perWorkspace: Record<string, unknown> = {};
  for (const ws of workspaces.flatMap((p) => p.rows)) {
    const webhooks = await pages((p) => store.listWebhooks(ws.id, undefined, p));
    const events = await pages((p) => store.listEvents(ws.id, undefined, p));
    const deliveries = await pages((p) => store.listDeliveries(ws.id, {}, p));
    perWorkspace[ws.id] = {
      workspace: await store.getWorkspace(ws.id),
      keys: await pages((p) => store.listKeys(ws.id, p)),
      webhooks,
      webhookDetails: await Promise.all(webhooks.flatMap((p) => p.rows).map((w) => store.getWebhook(ws.id, w.id))),
      events,
      eventDetails: await Promise.all(events.flatMap((p) => p.rows).map((e) => store.getEvent(ws.id, e.id))),
      deliveries,
      deliveryDetails: await Promise.all(deliveries.flatMap((p) => p.rows).map((d) => store.getDelivery(ws.id, d.id))),
      pending: await pages((p) => store.listDeliveries(ws.id, { status: 'pending' }, p)),
    };
  }
  return {
    workspaces,
    perWorkspace,
    topics: await store.listTopics(),
    keys: await Promise.all(['hash-1', 'hash-2', 'hash-3'].map((h) => store.findKeyByHash(h))),
    queue: await store.queueStats(T0 + 2 * DAY + 1000),
    nextDueAt: await store.nextDueAt(),
  };
}

/** What the queue hands out once every lease and retry is due: the same deliveries, claims, cycles and circuits. */
async function claimsLater(store: Store) {
  const claimed = await store.claimDue(T0 + 10 * DAY, 500, T0 + 11 * DAY);
  return claimed.sort((a, b) => a.seq - b.seq);
}

async function* batchesOf(source: Store, size: number): AsyncGenerator<ImportBatch> {
  for (const table of PORTABLE_TABLES) {
    let after = null;
    do {
      const page = await source.exportRows(table.name, after, size);
      if (page.rows.length > 0) yield { table: table.name, rows: page.rows };
      after = page.next;
    } while (after !== null);
  }
}

async function memoryStore(): Promise<SqliteStore> {
  const store = new SqliteStore({ path: ':memory:' });
  await store.migrate();
  return store;
}

function zero(): Record<TableName, number> {
  return Object.fromEntries(PORTABLE_TABLES.map((t) => [t.name, 0])) as Record<TableName, number>;
}

export function copyCases(factory: StoreFactory): void {
  /** A case with the store under test and an in-memory SQLite store, both cleaned up whatever happens. */
  function test(name: string, fn: (store: Store, other: SqliteStore) => Promise<void>): void {
    it(name, { timeout: 60_000 }, async () => {
      const fixture = await factory();
      const other = await memoryStore();
      try {
        await fn(fixture.store, other);
      } finally {
        await other.close();
        await fixture.cleanup();
      }
    });
  }

  describe('copying a database', () => {
    test('exportRows pages through a table in key order; countRows counts', async (store) => {
      assert.deepEqual(await store.countRows(), zero());
      await fill(store);
      const counts = await store.countRows();
      assert.equal(counts.workspaces, 2);
      assert.equal(counts.api_keys, 3);
      assert.equal(counts.topics, 3);
      assert.equal(counts.webhooks, 3);
      assert.equal(counts.events, 9);
      assert.ok(counts.attempts >= 6 && counts.webhook_health >= 1);
      for (const table of PORTABLE_TABLES) {
        const rows = [];
        let after = null;
        do {
          const page = await store.exportRows(table.name, after, 3);
          assert.ok(page.rows.length <= 3);
          rows.push(...page.rows);
          after = page.next;
        } while (after !== null);
        assert.equal(rows.length, counts[table.name], table.name);
        const keys = rows.map((r) => table.key.map((k) => r[k]));
        const sorted = [...keys].sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : Number(a[1] ?? 0) - Number(b[1] ?? 0)));
        assert.deepEqual(keys, sorted, `${table.name} in key order`);
        assert.equal(new Set(keys.map((k) => JSON.stringify(k))).size, keys.length, `${table.name} without repeats`);
      }
      const [ws] = (await store.exportRows('workspaces', null, 1)).rows;
      assert.deepEqual(ws, { seq: ws!.seq, id: 'acme', name: 'Shop acme', uri: 'https://acme.example', webhooks_enabled: true, created_at: T0, updated_at: T0 });
      const fancy = (await store.exportRows('webhooks', null, 10)).rows.find((r) => r.id === 'wh_fancy')!;
      assert.equal(fancy.headers, '{"x-b":"2","x-a":"1"}', 'JSON travels as the stored text');
      assert.equal(fancy.secret, 'enc:v1:c2VjcmV0', 'secrets travel as stored');
      assert.equal(fancy.rate_limit, 5);
    });

    test('a store exported and imported into another reads back the same, queue and all', async (store, other) => {
      await fill(store);
      await other.importRows(batchesOf(store, 2));
      assert.deepEqual(await other.countRows(), await store.countRows());
      assert.deepEqual(await snapshot(other), await snapshot(store));
      assert.deepEqual(await claimsLater(other), await claimsLater(store));
    });

    test('a store imported into this one reads back the same; new rows follow the copied ones', async (store, other) => {
      await fill(other);
      await store.importRows(batchesOf(other, 3));
      assert.deepEqual(await store.countRows(), await other.countRows());
      assert.deepEqual(await snapshot(store), await snapshot(other));

      // The idempotency key reused after 24 hours answers with the newer event, as on the source.
      const again = async (s: Store) => (await s.publish([{ workspaceId: 'acme', inputs: [input('evt_x', {}, { idempotencyKey: 'k' })] }], T0 + 2 * DAY + 500))[0]![0]!;
      const [mine, theirs] = [await again(store), await again(other)];
      assert.deepEqual([mine.created, mine.event.id], [false, 'evt_k2']);
      assert.deepEqual(mine, theirs);

      // Sequences carry on after the copied seqs: new rows come first in the lists.
      await store.createWorkspace(workspace('later', { createdAt: T0 + 3 * DAY }));
      assert.equal((await store.listWorkspaces({ limit: 1 })).rows[0]!.id, 'later');
      await store.createKey({ id: 'key_4', workspaceId: 'acme', name: null, createdAt: T0 + 3 * DAY }, 'hash-4');
      assert.equal((await store.listKeys('acme', { limit: 1 })).rows[0]!.id, 'key_4');
      await store.createWebhook(webhook('wh_new', { createdAt: T0 + 3 * DAY }));
      assert.equal((await store.listWebhooks('acme', undefined, { limit: 1 })).rows[0]!.id, 'wh_new');
      await store.publish([{ workspaceId: 'acme', inputs: [input('evt_new', { amount: 1 })] }], T0 + 3 * DAY);
      assert.equal((await store.listEvents('acme', undefined, { limit: 1 })).rows[0]!.id, 'evt_new');
      const newest = (await store.listDeliveries('acme', {}, { limit: 2 })).rows;
      assert.deepEqual(newest.map((d) => d.eventId), ['evt_new', 'evt_new']);
      assert.equal(await store.getEvent('acme', 'evt_0').then((e) => e!.deliveries), 1);
    });

    test('importRows is all or nothing', async (store, other) => {
      await fill(other);
      async function* failing(): AsyncGenerator<ImportBatch> {
        let n = 0;
        for await (const batch of batchesOf(other, 2)) {
          yield batch;
          if (++n === 6) throw new Error('the source went away');
        }
      }
      await assert.rejects(store.importRows(failing()), /the source went away/);
      assert.deepEqual(await store.countRows(), zero());

      // A row that the target refuses (the same workspace twice) rolls back the rows before it.
      async function* twice(): AsyncGenerator<ImportBatch> {
        const { rows } = await other.exportRows('workspaces', null, 10);
        yield { table: 'workspaces', rows };
        yield { table: 'workspaces', rows: rows.slice(0, 1) };
      }
      await assert.rejects(store.importRows(twice()));
      assert.deepEqual(await store.countRows(), zero());
      await store.createWorkspace(workspace('acme'));
      assert.ok(await store.getWorkspace('acme'), 'the store still works');
    });

    test('copyStore copies everything into an empty store and refuses one that holds data', async (store, other) => {
      await fill(other);
      const progress: string[] = [];
      const copied = await copyStore(other, store, { batchSize: 4, onProgress: (t, n) => progress.push(`${t}:${n}`) });
      assert.deepEqual(copied, await other.countRows());
      assert.ok(progress.includes(`events:${copied.events}`));
      assert.deepEqual(await snapshot(store), await snapshot(other));

      await assert.rejects(copyStore(other, store), (err: unknown) => {
        assert.ok(err instanceof CopyError);
        assert.match(err.message, /already holds Herald data \(2 workspaces, 3 api keys, 3 webhooks/);
        return true;
      });
    });

    test('copyStore rolls back when the source changes during the copy', async (store, other) => {
      await fill(other);
      // A source whose deliveries change while it is read, as when Herald still runs on it.
      const changing = Object.create(other) as Store;
      changing.exportRows = async (table, after, limit) => {
        const page = await other.exportRows(table, after, limit);
        if (table === 'deliveries' && after === null) {
          await other.publish([{ workspaceId: 'acme', inputs: [input('evt_late', { amount: 1 })] }], T0 + 3 * DAY);
        }
        return page;
      };
      await assert.rejects(copyStore(changing, store, { batchSize: 1000 }), /source database changed during the copy \(events: 9 before, 9 copied, 10 now/);
      const counts = await store.countRows();
      assert.deepEqual(counts, zero());
    });
  });
}
