// Durability across stops, restarts and crashes: a 202 means stored; pending work survives a
// restart; a clean stop (herald.stop(), SIGTERM) waits for attempts in flight and records them.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import {
  createWebhook, createWorkspace, listDeliveries, publish, setupWebhook, startHerald, tempDir, waitUntil, type TestHerald,
} from '../helpers/herald.js';
import { spawnHerald, type HeraldProcess } from '../helpers/process.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

/** The short retries of an in-process test Herald, for a spawned one. */
const RETRIES = { HERALD_RETRY_BASE_MS: '200', HERALD_RETRY_FACTOR: '2' };

// Everything a test started, stopped at the end even when the test failed.
const heralds = new Set<TestHerald>();
const receivers: Receiver[] = [];
const processes: HeraldProcess[] = [];
const dirs: string[] = [];

async function herald(overrides: Parameters<typeof startHerald>[0] = {}): Promise<TestHerald> {
  const h = await startHerald({ circuitThreshold: 1000, ...overrides });
  heralds.add(h);
  return h;
}
async function restart(h: TestHerald, overrides: Parameters<typeof startHerald>[0] = {}): Promise<TestHerald> {
  heralds.delete(h);
  const next = await h.restart(overrides);
  heralds.add(next);
  return next;
}
async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}

after(async () => {
  await Promise.all(processes.map((p) => p.kill('SIGKILL')));
  for (const h of heralds) await h.stop();
  for (const r of receivers) await r.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Waits until every delivery of the workspace has `status`; returns them. */
async function allDeliveries(h: TestHerald, ws: string, status: string, n: number, timeoutMs = 20_000): Promise<any[]> {
  let last: any[] = [];
  return waitUntil(async () => {
    last = await listDeliveries(h, ws);
    return last.length === n && last.every((d) => d.status === status) ? last : null;
  }, { timeoutMs, message: () => `expected ${n} ${status} deliveries, got ${JSON.stringify(last.map((d) => [d.status, d.attempts]))}` });
}

/** How many times the receiver saw each delivery id. */
function perDelivery(r: Receiver): Map<string, number> {
  const m = new Map<string, number>();
  for (const q of r.requests) {
    const id = String(q.headers['webhook-id']);
    m.set(id, (m.get(id) ?? 0) + 1);
  }
  return m;
}

describe('restart', () => {
  it('deliveries still pending (their receiver answering 503) are all delivered by the next Herald', async () => {
    const r = await receiver();
    r.setDefault({ status: 503 });
    let h = await herald({ retryBaseMs: 500, retryFactor: 2, maxRetries: 5 });
    const { ws } = await setupWebhook(h, r.at('/later'));
    const other = await createWebhook(h, ws, { url: r.at('/later-too'), topic: 'order_create' });
    for (let i = 0; i < 5; i++) await publish(h, ws, 'walletreward_create', { i });
    for (let i = 0; i < 3; i++) await publish(h, ws, 'order_create', { i });
    await r.waitFor(8);
    await waitUntil(async () => (await listDeliveries(h, ws)).every((d) => d.attempts >= 1 && d.status === 'pending'));

    h = await restart(h);
    r.setDefault({ status: 200 });
    const done = await allDeliveries(h, ws, 'succeeded', 8);
    assert.equal(done.filter((d) => d.webhook_id === other.id).length, 3);
    const seen = perDelivery(r);
    assert.equal(seen.size, 8);
    for (const d of done) assert.ok((seen.get(d.id) ?? 0) >= 2, `delivery ${d.id} was attempted before and after the restart`);
  });

  it('events published just before a clean stop are all delivered after the restart, none lost, none twice', async () => {
    const r = await receiver();
    r.setDefault({ status: 200, delayMs: 150 });
    let h = await herald();
    const { ws } = await setupWebhook(h, r.at('/burst'));
    const batch = await h.api('POST', `/api/v1/workspaces/${ws}/events/batch`, {
      events: Array.from({ length: 40 }, (_, i) => ({ topic: 'walletreward_create', data: { i } })),
    });
    assert.equal(batch.status, 202);
    // Stopped at once: some attempts are in flight, most not started.
    h = await restart(h);
    const done = await allDeliveries(h, ws, 'succeeded', 40);
    const seen = perDelivery(r);
    assert.equal(seen.size, 40);
    for (const d of done) {
      assert.equal(seen.get(d.id), 1, `delivery ${d.id} was sent ${seen.get(d.id)} times`);
      assert.equal(d.attempts, 1);
    }
    assert.deepEqual(r.requests.map((q) => JSON.parse(q.body).i).sort((a, b) => a - b), Array.from({ length: 40 }, (_, i) => i));
  });

  it('herald.stop() waits for an attempt in flight and records it', async () => {
    const r = await receiver();
    r.setDefault({ status: 200, delayMs: 1500, body: 'slow but fine' });
    let h = await herald();
    const { ws } = await setupWebhook(h, r.at('/inflight'));
    await publish(h, ws, 'walletreward_create', { n: 1 });
    const [req] = await r.waitFor(1);
    const url = h.url;
    const t0 = Date.now();
    await h.herald.stop();
    const waited = Date.now() - t0;
    assert.ok(waited >= 1000, `stop() returned after ${waited} ms, before the attempt in flight ended`);
    // The API is closed.
    await assert.rejects(fetch(url + '/healthz'));

    h = await restart(h);
    const [d] = await allDeliveries(h, ws, 'succeeded', 1);
    assert.equal(d.id, req!.headers['webhook-id']);
    assert.equal(d.attempts, 1);
    const detail = (await h.api('GET', `/api/v1/workspaces/${ws}/deliveries/${d.id}`)).body;
    assert.equal(detail.attempts[0].status_code, 200);
    assert.equal(detail.attempts[0].response_body, 'slow but fine');
    assert.ok(detail.attempts[0].duration_ms >= 1400);
    await h.idle();
    assert.equal(r.requests.length, 1, 'not sent again after the restart');
  });

  it('data, keys and settings survive a restart', async () => {
    let h = await herald();
    const ws = await createWorkspace(h, { id: 'durable-shop', name: 'Durable' });
    const wh = await createWebhook(h, ws.id, { url: 'http://127.0.0.1:9/x', secret: 'kept-secret', prefix: 'd_' });
    const key = (await h.api('POST', `/api/v1/workspaces/${ws.id}/keys`, { name: 'k' })).body.key;
    const ev = await publish(h, ws.id, 'walletreward_create', { n: 1 }, 'evt-durable');
    h = await restart(h);
    assert.equal((await h.api('GET', `/api/v1/workspaces/${ws.id}`, undefined, key)).body.webhooks_enabled, true);
    assert.equal((await h.api('GET', `/api/v1/workspaces/${ws.id}/webhooks/${wh.id}/secret`, undefined, key)).body.secret, 'kept-secret');
    assert.equal((await h.api('GET', `/api/v1/workspaces/${ws.id}/events/${ev.id}`, undefined, key)).body.id, 'evt-durable');
    // The idempotency record survives too.
    const again = await publish(h, ws.id, 'walletreward_create', { n: 2 }, 'evt-durable');
    assert.equal(again.created_at, ev.created_at);
  });
});

describe('the herald serve process', () => {
  it('SIGTERM finishes the attempt in flight, records it and exits 0', async () => {
    const r = await receiver();
    r.setDefault({ status: 200, delayMs: 1500 });
    const dir = await tempDir();
    dirs.push(dir);
    const p = await spawnHerald({ dataDir: dir, env: RETRIES });
    processes.push(p);
    const api = p.api;
    const ws = (await api('POST', '/api/v1/workspaces', { name: 'Signals' })).body.id;
    await api('PATCH', `/api/v1/workspaces/${ws}`, { webhooks_enabled: true });
    assert.equal((await api('POST', `/api/v1/workspaces/${ws}/webhooks`, { topic: 'walletreward_create', url: r.at('/term') })).status, 201);
    assert.equal((await api('POST', `/api/v1/workspaces/${ws}/events`, { topic: 'walletreward_create', data: { n: 1 } })).status, 202);
    await r.waitFor(1);
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    assert.equal(await p.exited, 0, p.output());
    assert.ok(Date.now() - t0 >= 1000, 'exited before the attempt in flight ended');

    const next = await startHerald({ circuitThreshold: 1000 }, dir);
    heralds.add(next);
    dirs.splice(dirs.indexOf(dir), 1);
    const [d] = await allDeliveries(next, ws, 'succeeded', 1);
    assert.equal(d.attempts, 1);
    await next.idle();
    assert.equal(r.requests.length, 1);
  });

  it('a crash (SIGKILL) right after 202 loses nothing: the next Herald delivers every event', async () => {
    const r = await receiver();
    // The first Herald's attempts never get an answer.
    r.setDefault({ hang: true });
    const dir = await tempDir();
    dirs.push(dir);
    const env = { HERALD_DELIVERY_TIMEOUT_MS: '1000', HERALD_LEASE_MS: '2000' };
    const p = await spawnHerald({ dataDir: dir, env: { ...RETRIES, ...env } });
    processes.push(p);
    const api = p.api;
    const ws = (await api('POST', '/api/v1/workspaces', { name: 'Crashy' })).body.id;
    await api('PATCH', `/api/v1/workspaces/${ws}`, { webhooks_enabled: true });
    await api('POST', `/api/v1/workspaces/${ws}/webhooks`, { topic: 'walletreward_create', url: r.at('/crash') });
    const accepted: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await api('POST', `/api/v1/workspaces/${ws}/events`, { topic: 'walletreward_create', data: { i } });
      assert.equal(res.status, 202);
      accepted.push(res.body.id);
    }
    await r.waitFor(1);
    const res = await api('POST', `/api/v1/workspaces/${ws}/events/batch`, {
      events: Array.from({ length: 10 }, (_, i) => ({ topic: 'walletreward_create', data: { i: 3 + i } })),
    });
    assert.equal(res.status, 202);
    accepted.push(...res.body.data.map((e: any) => e.id));
    p.child.kill('SIGKILL');
    assert.equal(await p.exited, 'SIGKILL');

    r.setDefault({ status: 200 });
    const next = await startHerald({ deliveryTimeoutMs: 1000, leaseMs: 2000, circuitThreshold: 1000 }, dir);
    heralds.add(next);
    dirs.splice(dirs.indexOf(dir), 1);
    const done = await allDeliveries(next, ws, 'succeeded', 13, 30_000);
    assert.deepEqual(new Set(done.map((d) => d.event_id)), new Set(accepted));
    const answered = r.requests.map((q) => JSON.parse(q.body).i);
    for (let i = 0; i < 13; i++) assert.ok(answered.includes(i), `event ${i} never reached the receiver`);
  });
});
