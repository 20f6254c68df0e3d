// Retention: events older than HERALD_RETENTION_DAYS go, with their deliveries and attempts,
// in small batches; events that still have a pending delivery stay, with everything of theirs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { createWebhook, createWorkspace, getDelivery, listDeliveries, publish, startHerald, waitUntil, type TestHerald } from '../helpers/herald.js';
import { Receiver } from '../helpers/receiver.js';
import { Retention } from '../../src/delivery/retention.js';
import type { Store } from '../../src/store/store.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const DAY = 86_400_000;
let h: TestHerald;
let ok: Receiver;
let failing: Receiver;
let ws: string;
const kept: string[] = []; // events with a pending delivery
const old: string[] = []; // events whose deliveries are finished, or that had none

before(async () => {
  // Failed attempts are retried in an hour: those deliveries stay pending throughout.
  h = await startHerald({ retentionDays: 3, maxRetries: 3, retryBaseMs: 3_600_000, circuitThreshold: 1000 });
  ok = await Receiver.start();
  failing = await Receiver.start(() => ({ status: 503, body: 'later' }));
  ws = (await createWorkspace(h)).id as string;
  await createWebhook(h, ws, { topic: 'order_create', url: ok.at('/ok') });
  await createWebhook(h, ws, { topic: 'order_update', url: failing.at('/failing') });
  for (let i = 0; i < 12; i++) old.push((await publish(h, ws, 'order_create', { order_id: `R-${i}` })).id);
  for (let i = 0; i < 2; i++) old.push((await publish(h, ws, 'lead_create', { lead: i })).id); // no webhook: no delivery
  for (let i = 0; i < 3; i++) kept.push((await publish(h, ws, 'order_update', { order_id: `P-${i}` })).id);
  await waitUntil(async () => {
    const list = await listDeliveries(h, ws);
    return list.length === 15 && list.every((d) => (d.status === 'succeeded') || (d.status === 'pending' && d.attempts === 1));
  }, { timeoutMs: 20_000, message: 'the deliveries did not settle' });
});
after(async () => {
  await h?.stop();
  await ok?.close();
  await failing?.close();
});

function rows() {
  const db = (h.herald.store as SqliteStore).db;
  const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  return { events: n('SELECT count(*) AS n FROM events'), deliveries: n('SELECT count(*) AS n FROM deliveries'), attempts: n('SELECT count(*) AS n FROM attempts') };
}

describe('retention', { timeout: 60_000 }, () => {
  it('keeps everything younger than the retention period', async () => {
    const before = rows();
    const retention = new Retention(h.herald.store, h.config.retentionDays, pino({ level: 'silent' }), { everyMs: 60_000, batch: 5, pauseMs: 1 });
    assert.equal(await retention.runOnce(Date.now()), 0);
    assert.equal(await retention.runOnce(Date.now() + 2 * DAY), 0, 'two days on, with a retention of three');
    assert.deepEqual(rows(), before);
  });

  it('purges older events with their deliveries and attempts, in small batches, and keeps pending ones', async () => {
    const before = rows();
    assert.equal(before.events, 17);
    assert.equal(before.deliveries, 15);
    assert.equal(before.attempts, 15);
    const pendingDetail = await getDelivery(h, ws, (await listDeliveries(h, ws, { status: 'pending' }))[0]!.id);
    const finished = (await listDeliveries(h, ws, { status: 'succeeded' })).map((d) => d.id);

    // Count the batches the purge goes in.
    const calls: number[] = [];
    const store = watchPurges(h.herald.store, (n, limit) => {
      calls.push(n);
      assert.ok(n <= limit);
    });
    const retention = new Retention(store, h.config.retentionDays, pino({ level: 'silent' }), { everyMs: 60_000, batch: 5, pauseMs: 1 });
    const purged = await retention.runOnce(Date.now() + 4 * DAY);
    assert.equal(purged, old.length, 'every finished old event went in one pass');
    assert.deepEqual(calls, [5, 5, 4], 'in batches of at most 5');

    assert.deepEqual(rows(), { events: 3, deliveries: 3, attempts: 3 });
    for (const id of old) assert.equal((await h.api('GET', `/api/v1/workspaces/${ws}/events/${id}`)).status, 404, `event ${id} is still there`);
    for (const id of finished) assert.equal((await h.api('GET', `/api/v1/workspaces/${ws}/deliveries/${id}`)).status, 404);
    for (const id of kept) {
      const event = await h.api('GET', `/api/v1/workspaces/${ws}/events/${id}`);
      assert.equal(event.status, 200, `pending event ${id} was purged`);
      assert.equal(event.body.deliveries.length, 1);
      assert.equal(event.body.deliveries[0].status, 'pending');
    }
    // The pending delivery keeps its attempts.
    assert.deepEqual((await getDelivery(h, ws, pendingDetail.id)).attempts, pendingDetail.attempts);

    // Nothing more to do.
    assert.equal(await retention.runOnce(Date.now() + 4 * DAY), 0);
  });

  it('a stopped retention stops between batches', async () => {
    for (let i = 0; i < 6; i++) await publish(h, ws, 'lead_create', { later: i });
    const calls: number[] = [];
    let retention!: Retention;
    const store = watchPurges(h.herald.store, (n) => {
      calls.push(n);
      retention.stop();
    });
    retention = new Retention(store, h.config.retentionDays, pino({ level: 'silent' }), { everyMs: 60_000, batch: 2, pauseMs: 1 });
    assert.equal(await retention.runOnce(Date.now() + 4 * DAY), 2);
    assert.deepEqual(calls, [2]);
  });
});

/** The store, with `onPurge` told how many events each purge() call removed (and its limit). */
function watchPurges(store: Store, onPurge: (purged: number, limit: number) => void): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'purge') {
        return async (before: number, limit: number) => {
          const n = await target.purge(before, limit);
          onPurge(n, limit);
          return n;
        };
      }
      const value = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as Store;
}
