// Delivery in a thread of its own (the default) and on the main thread
// (HERALD_DELIVERY_THREAD=false): the same deliveries, attempts and metrics either way; the
// thread's log lines reach the main logger; a thread that dies is started again.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config.js';
import { DeliveryThread, relog } from '../../src/delivery/thread.js';
import { DeliveryWorker } from '../../src/delivery/worker.js';
import { createWebhook, createWorkspace, listDeliveries, publish, startHerald, waitUntil, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { Captured } from './support.js';

const started: { stop(): Promise<void> }[] = [];
after(async () => {
  for (const s of started.reverse()) await s.stop();
});

async function deliverSome(h: TestHerald, receiver: Receiver, n: number): Promise<void> {
  const ws = (await createWorkspace(h)).id;
  await createWebhook(h, ws, { topic: 'walletreward_create', url: receiver.at('/hook') });
  for (let i = 0; i < n; i++) await publish(h, ws, 'walletreward_create', { customer_id: `c${i}`, amount: i });
  await receiver.waitFor(n);
  const deliveries = await waitUntil(async () => {
    const all = await listDeliveries(h, ws);
    return all.length === n && all.every((d) => d.status === 'succeeded') ? all : null;
  }, { message: () => `${n} deliveries did not all succeed` });
  assert.equal(deliveries.length, n);
  const metrics = await (await fetch(`${h.url}/metrics`)).text();
  assert.match(metrics, new RegExp(`herald_delivery_attempts_total\\{outcome="succeeded"\\} ${n}\\b`));
}

describe('where delivery runs', () => {
  for (const deliveryThread of [true, false]) {
    it(`HERALD_DELIVERY_THREAD=${deliveryThread}: delivers, records the attempts and counts them in /metrics`, async () => {
      const h = await startHerald({ deliveryThread });
      started.push(h);
      const receiver = await startReceiver();
      started.push({ stop: () => receiver.close() });
      assert.equal(h.herald.worker instanceof DeliveryThread, deliveryThread);
      assert.equal(h.herald.worker instanceof DeliveryWorker, !deliveryThread);
      await deliverSome(h, receiver, 20);
    });
  }

  it("re-logs a thread's pino line on the main logger, at its level, marked as the delivery thread's", () => {
    const sink = new Captured();
    const main = pino({ level: 'info' }, sink);
    relog(main, JSON.stringify({ level: 50, time: 1, pid: 2, hostname: 'h', err: { type: 'TypeError', message: 'boom', stack: 'TypeError: boom' }, msg: 'claiming deliveries failed' }));
    relog(main, JSON.stringify({ level: 20, msg: 'below the main level' }));
    relog(main, 'not json');
    const lines = sink.lines();
    assert.equal(lines.length, 2);
    assert.deepEqual(
      [lines[0].level, lines[0].msg, lines[0].thread, lines[0].threadTime, lines[0].err.type, lines[0].err.message],
      [50, 'claiming deliveries failed', 'delivery', 1, 'TypeError', 'boom'],
    );
    assert.equal(lines[1].level, 40);
    assert.equal(lines[1].line, 'not json');
  });

  it('starts a new thread when the thread dies, and stops cleanly', async () => {
    // A data directory under a regular file: the thread cannot open its database and dies at start.
    const dir = await mkdtemp(join(tmpdir(), 'herald-thread-'));
    after(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'file'), '');
    const config = loadConfig({}, {}, { dataDir: join(dir, 'file', 'data') });
    const sink = new Captured();
    const thread = new DeliveryThread(config, pino({ level: 'info' }, sink), { attempted: () => {}, health: () => {} });
    thread.start();
    const failures = () => sink.lines().filter((l) => l.msg === 'delivery thread failed').length;
    await waitUntil(() => failures() >= 2, { timeoutMs: 15_000, message: () => `thread failures logged: ${failures()}` });
    assert.ok(sink.lines().some((l) => /delivery thread exited; starting a new one/.test(l.msg)));
    const before = Date.now();
    await thread.stop();
    assert.ok(Date.now() - before < 5_000, 'stop() does not wait for a thread that is not there');
    // No new thread after stop(): none is running and no restart is scheduled (the next one
    // would have come after 4 s, so waiting a while would have shown nothing).
    const state = thread as unknown as { worker: unknown; restart: unknown };
    assert.equal(state.worker, null, 'a thread is running after stop()');
    assert.equal(state.restart, null, 'a restart is scheduled after stop()');
  });
});
