// Leases: a delivery claimed by a worker that died is attempted again once its lease has run
// out (not before), and a slow attempt never leads another worker to start the same delivery.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createWorkspace, createWebhook, getDelivery, publish, startHerald, waitUntil, type TestHerald } from '../helpers/herald.js';
import { queueDrained, startExtraWorker } from '../helpers/reliability.js';
import { Receiver } from '../helpers/receiver.js';
import { spawnHerald, type HeraldProcess } from '../helpers/process.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

describe('leases', { timeout: 180_000 }, () => {
  it("a delivery whose worker was killed mid-attempt is attempted again after its lease, not before", async () => {
    const LEASE_MS = 8_000;
    const dataDir = await mkdtemp(join(tmpdir(), 'herald-lease-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    // The first request hangs (the worker will die holding it); later ones succeed.
    const receiver = await Receiver.start((s) => (s.index > 0 ? {} : { hang: true }));
    cleanups.push(() => receiver.close());
    const env = { HERALD_DELIVERY_TIMEOUT_MS: '1000', HERALD_LEASE_MS: String(LEASE_MS), HERALD_RETRY_BASE_MS: '200' };
    let h: HeraldProcess = await spawnHerald({ dataDir, env });
    cleanups.push(() => h.kill('SIGKILL'));
    const ws = (await h.api('POST', '/api/v1/workspaces', { name: 'Lease Lane' })).body.id as string;
    assert.equal((await h.api('PATCH', `/api/v1/workspaces/${ws}`, { webhooks_enabled: true })).status, 200);
    assert.equal((await h.api('POST', `/api/v1/workspaces/${ws}/webhooks`, { topic: 'order_create', url: receiver.at('/orders') })).status, 201);
    const event = await h.api('POST', `/api/v1/workspaces/${ws}/events`, { topic: 'order_create', data: { order_id: 'A-1' } });
    assert.equal(event.status, 202);

    await waitUntil(() => receiver.requests.length >= 1, { timeoutMs: 30_000, message: 'the first attempt never arrived' });
    const firstAt = receiver.requests[0]!.receivedAt;
    assert.equal(await h.kill('SIGKILL'), 'SIGKILL');

    // The dead worker's claim, as the database holds it: the lease runs until leased_until.
    const db = new Database(join(dataDir, 'herald.db'), { readonly: true, fileMustExist: true });
    const claim = db.prepare(`SELECT id, status, claim, attempts, leased_until AS until FROM deliveries`).all() as any[];
    db.close();
    assert.equal(claim.length, 1);
    assert.equal(claim[0].status, 'pending');
    assert.equal(claim[0].attempts, 0, 'the attempt in flight was never recorded');
    assert.equal(claim[0].id, receiver.requests[0]!.id);
    const leaseEnd = claim[0].until as number;
    assert.ok(leaseEnd > firstAt && leaseEnd - firstAt <= LEASE_MS, `the lease ends ${leaseEnd - firstAt} ms after the first request`);

    h = await spawnHerald({ dataDir, port: h.port, env });
    cleanups.push(() => h.kill('SIGKILL'));
    await waitUntil(() => receiver.requests.length >= 2, { timeoutMs: LEASE_MS + 30_000, message: 'the delivery was never attempted again' });
    const secondAt = receiver.requests[1]!.receivedAt;
    assert.equal(receiver.requests[1]!.id, receiver.requests[0]!.id, 'the same delivery (webhook-id) came back');
    // Not before the lease ran out (a restart alone takes far less than the lease).
    assert.ok(secondAt >= leaseEnd, `attempted again ${leaseEnd - secondAt} ms before the lease ran out`);

    await waitUntil(() => queueDrained(h.api, ws), { timeoutMs: 30_000 });
    const list = await h.api('GET', `/api/v1/workspaces/${ws}/deliveries`);
    const d = list.body.data[0];
    assert.equal(d.status, 'succeeded');
    // The dead worker's attempt was never recorded; the one after the lease is attempt 1.
    assert.equal(d.attempts, 1);
    assert.equal(receiver.requests.length, 2);
    assert.equal(await h.kill('SIGTERM'), 0);
  });

  it('a slow attempt never gives a second worker the same delivery, nor two attempts at once', async () => {
    const TIMEOUT = 1_500;
    const LEASE = TIMEOUT + 1_000;
    const h: TestHerald = await startHerald({ deliveryTimeoutMs: TIMEOUT, leaseMs: LEASE, workerConcurrency: 8, retryBaseMs: 100, retryFactor: 1, maxRetries: 3 });
    cleanups.push(() => h.stop());
    assert.equal(h.config.leaseMs, LEASE);

    // A second worker on the same database, competing for the same queue.
    const second = startExtraWorker(h, { concurrency: 8 });
    cleanups.push(() => second.stop());

    // Slow: answers after 80% of the time limit. Hanging: the first attempt of each delivery
    // runs into the time limit, the retry answers at once.
    const slow = await Receiver.start(() => ({ body: 'ok', delayMs: TIMEOUT * 0.8 }));
    const hanging = await Receiver.start((s) => ((hanging.byId.get(s.id) ?? 0) > 1 ? { body: 'ok' } : { hang: true }));
    cleanups.push(() => slow.close(), () => hanging.close());
    const ws = (await createWorkspace(h)).id as string;
    await createWebhook(h, ws, { topic: 'order_create', url: slow.at('/slow') });
    await createWebhook(h, ws, { topic: 'order_update', url: hanging.at('/hanging') });
    const events: string[] = [];
    for (let i = 0; i < 24; i++) events.push((await publish(h, ws, 'order_create', { order_id: `S-${i}` })).id);
    for (let i = 0; i < 8; i++) events.push((await publish(h, ws, 'order_update', { order_id: `H-${i}` })).id);
    second.worker.wake();

    await waitUntil(() => queueDrained(h.api, ws), { timeoutMs: 60_000, intervalMs: 200, message: 'deliveries still pending' });
    assert.ok(second.results() > 0, 'the second worker took part');
    assert.equal(slow.byId.size, 24);
    for (const [id, n] of slow.byId) assert.equal(n, 1, `slow delivery ${id} was attempted ${n} times`);
    assert.deepEqual(slow.overlaps, []);
    assert.equal(hanging.byId.size, 8);
    for (const [id, n] of hanging.byId) assert.equal(n, 2, `hanging delivery ${id}: ${n} attempts (a timeout, then a success)`);
    assert.deepEqual(hanging.overlaps, [], 'a retry started while the timed-out attempt was still open');
    // Every retry began after the attempt before it had ended.
    for (const id of hanging.byId.keys()) {
      const [a, b] = hanging.requests.filter((s) => s.id === id);
      assert.ok(a!.endedAt !== null && b!.receivedAt >= a!.endedAt, `delivery ${id}: the retry overlapped the first attempt`);
    }
    const list = await h.api('GET', `/api/v1/workspaces/${ws}/deliveries?limit=500`);
    for (const d of list.body.data) {
      assert.equal(d.status, 'succeeded');
      const detail = await getDelivery(h, ws, d.id);
      assert.deepEqual(detail.attempts.map((a: any) => a.number), d.url.endsWith('/slow') ? [1] : [1, 2]);
    }
  });
});
