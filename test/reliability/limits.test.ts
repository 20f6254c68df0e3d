// Limits that keep one bad party from hurting the rest: per-webhook concurrency (a receiver
// that hangs holds a few slots, never all), connections per receiver, the per-webhook rate
// limit, how much of a receiver's answer is read, and the size of requests Herald accepts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createWebhook, createWorkspace, getDelivery, sleep, waitUntil, type TestHerald } from '../helpers/herald.js';
import { fileScope, rawRequest, rowCounts, startExtraWorker } from '../helpers/reliability.js';
import { Receiver, type Responder } from '../helpers/receiver.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const { herald, receiver, defer } = fileScope();

async function publishMany(h: TestHerald, ws: string, topic: string, n: number, tag: string): Promise<void> {
  const events = Array.from({ length: n }, (_, i) => ({ topic, data: { tag, i } }));
  const res = await h.api('POST', `/api/v1/workspaces/${ws}/events/batch`, { events });
  assert.equal(res.status, 202, res.text);
}

describe('per-webhook concurrency', { timeout: 120_000 }, () => {
  it('a receiver that hangs holds only a few slots; healthy webhooks keep flowing', async () => {
    const TIMEOUT = 5_000;
    const h = await herald({ workerConcurrency: 16, deliveryTimeoutMs: TIMEOUT, retryBaseMs: 120_000, maxRetries: 1, circuitThreshold: 1000 });
    const hanging = await receiver(() => ({ hang: true })); // never answers
    const healthy = await receiver();
    const ws = (await createWorkspace(h)).id as string;
    await createWebhook(h, ws, { topic: 'order_create', url: hanging.at('/hang') });
    const healthyTopics = ['order_update', 'lead_create', 'coupon_create'];
    for (const topic of healthyTopics) await createWebhook(h, ws, { topic, url: healthy.at(`/${topic}`) });

    // The hanging webhook's backlog first, so it is at the head of the queue.
    await publishMany(h, ws, 'order_create', 40, 'hang');
    await waitUntil(() => hanging.open >= 1, { timeoutMs: 10_000 });
    const started = Date.now();
    for (const topic of healthyTopics) await publishMany(h, ws, topic, 20, 'wave1');
    await waitUntil(() => healthy.count() >= 60, { timeoutMs: 30_000, message: () => `healthy got ${healthy.count()} of 60` });
    const tookMs = Date.now() - started;
    // All of them arrived while the hanging webhook's first attempts were still waiting for
    // their time limit: no healthy delivery had to wait for a hanging one.
    assert.ok(hanging.requests.every((s) => s.endedAt === null), `healthy deliveries took ${tookMs} ms, longer than the hanging attempts' time limit`);
    assert.ok(hanging.maxOpen <= 8, `the hanging webhook held ${hanging.maxOpen} attempts at once`);
    assert.ok(hanging.maxOpen >= 1);
    assert.ok(hanging.maxSockets <= 8, `the hanging receiver had ${hanging.maxSockets} connections open`);

    // After its attempts time out, its limit drops further; healthy ones still flow.
    await waitUntil(() => hanging.requests.filter((s) => s.endedAt !== null).length >= hanging.maxOpen, { timeoutMs: TIMEOUT + 15_000 });
    let maxLater = 0;
    const sampler = setInterval(() => (maxLater = Math.max(maxLater, hanging.open)), 10);
    for (const topic of healthyTopics) await publishMany(h, ws, topic, 10, 'wave2');
    await waitUntil(() => healthy.count() >= 90, { timeoutMs: 30_000 });
    await sleep(1_000);
    clearInterval(sampler);
    assert.ok(maxLater <= 4, `after timing out, the hanging webhook still held ${maxLater} attempts at once`);
    assert.equal(healthy.duplicates().length, 0);
  });

  it('connections to one receiver stay within the per-webhook limit', async () => {
    const h = await herald({ workerConcurrency: 32, webhookConcurrency: 4 });
    const slow = await receiver(() => ({ body: 'ok', delayMs: 50 }));
    const ws = (await createWorkspace(h)).id as string;
    await createWebhook(h, ws, { topic: 'order_create', url: slow.at('/slow') });
    await publishMany(h, ws, 'order_create', 60, 'c');
    await waitUntil(() => slow.count() >= 60, { timeoutMs: 30_000 });
    assert.ok(slow.maxOpen <= 4, `${slow.maxOpen} requests at once`);
    assert.ok(slow.maxOpen >= 2, 'the webhook did get parallel attempts');
    // Kept-alive connections are reused; the pool may hold a few idle ones beside the busy
    // ones (a connection is handed back a moment after its answer), but it does not grow.
    const afterFirst = slow.maxSockets;
    assert.ok(afterFirst <= 2 * 4, `${afterFirst} connections at once`);
    await publishMany(h, ws, 'order_create', 120, 'c2');
    await waitUntil(() => slow.count() >= 180, { timeoutMs: 60_000 });
    assert.ok(slow.maxOpen <= 4, `${slow.maxOpen} requests at once`);
    assert.ok(slow.maxSockets <= 2 * 4, `the second wave raised the connections to ${slow.maxSockets}`);
  });
});

describe('rate limit', { timeout: 90_000 }, () => {
  /** Arrival times of N requests to a webhook with rate_limit RATE, with `workers` workers on the database. */
  async function rateRun(workers: number, RATE: number, N: number): Promise<{ times: number[]; other: number[]; extra: number }> {
    const h = await herald({ workerConcurrency: 32 });
    const extras = Array.from({ length: workers - 1 }, () => startExtraWorker(h, { concurrency: 32, maxIdleMs: 100 }));
    for (const x of extras) defer(() => x.stop());
    const r = await receiver();
    const other = await receiver();
    const ws = (await createWorkspace(h)).id as string;
    const created = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks`, { topic: 'order_create', url: r.at('/limited'), rate_limit: RATE });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.body.rate_limit ?? RATE, RATE);
    await createWebhook(h, ws, { topic: 'order_update', url: other.at('/free') });
    await publishMany(h, ws, 'order_create', N, 'rate');
    await publishMany(h, ws, 'order_update', N, 'free');
    for (const x of extras) x.worker.wake();
    await waitUntil(() => r.count() >= N && other.count() >= N, { timeoutMs: 60_000, message: () => `${r.count()} of ${N}` });
    const extra = extras.reduce((n, x) => n + x.results(), 0);
    for (const x of extras) await x.stop();
    return { times: r.requests.map((s) => s.receivedAt).sort((a, b) => a - b), other: other.requests.map((s) => s.receivedAt), extra };
  }

  function checkRate(times: number[], RATE: number, N: number) {
    // At most RATE requests per second with a burst of at most RATE: any 1 s window holds at
    // most 2 × RATE (+2 for jitter between sending and arrival), and N requests need at least
    // (N - RATE) / RATE seconds. Without the limit all N would arrive at once.
    for (let i = 0; i < times.length; i++) {
      const inWindow = times.filter((t) => t >= times[i]! && t < times[i]! + 1000).length;
      assert.ok(inWindow <= 2 * RATE + 2, `${inWindow} requests within one second`);
    }
    const span = times.at(-1)! - times[0]!;
    assert.ok(span >= ((N - RATE) / RATE) * 1000 * 0.8, `${N} requests in ${span} ms`);
  }

  it('a webhook with rate_limit gets no more than that many requests per second, whatever the concurrency', async () => {
    const { times, other } = await rateRun(1, 5, 20);
    checkRate(times, 5, 20);
    // The unlimited webhook was not held back by the limited one.
    assert.ok(Math.max(...other) < times.at(-1)!, 'the unlimited webhook finished first');
  });

  it('the limit holds across workers: two workers on one database together stay within it', async () => {
    const { times, extra } = await rateRun(2, 5, 20);
    checkRate(times, 5, 20);
    assert.ok(extra > 0, 'the second worker took part');
  });
});

describe('what Herald reads of an answer', { timeout: 60_000 }, () => {
  it('a receiver answering 10 MB: Herald keeps ≤ 4 KiB and stops reading after 64 KiB', async () => {
    const h = await herald({ deliveryTimeoutMs: 20_000 });
    const TOTAL = 10 * 1024 * 1024;
    const CHUNK = 16 * 1024;
    let written = 0;
    let finished = false;
    let closedEarly = false;
    const r = await receiver((_s, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': String(TOTAL) });
      res.once('close', () => (closedEarly = !res.writableFinished));
      // 16 KiB every 10 ms: the whole answer would take more than 6 s (within the time limit).
      const pump = () => {
        if (res.destroyed) return;
        if (written >= TOTAL) {
          res.end();
          finished = true;
          return;
        }
        res.write(Buffer.alloc(CHUNK, 0x61));
        written += CHUNK;
        setTimeout(pump, 10);
      };
      pump();
    });
    const ws = (await createWorkspace(h)).id as string;
    await createWebhook(h, ws, { topic: 'order_create', url: r.at('/big') });
    await publishMany(h, ws, 'order_create', 1, 'big');
    const list = await waitUntil(async () => {
      const res = await h.api('GET', `/api/v1/workspaces/${ws}/deliveries`);
      return res.body.data[0]?.status === 'succeeded' ? res.body.data : null;
    }, { timeoutMs: 30_000 });
    await waitUntil(() => closedEarly || finished, { timeoutMs: 10_000 });
    assert.equal(finished, false, 'Herald read the whole 10 MB answer');
    assert.equal(closedEarly, true, 'the connection was closed before the answer ended');
    // Herald hangs up after 64 KiB; what the receiver wrote meanwhile is bounded by how fast
    // that happens, far below the 10 MB it offered.
    assert.ok(written < 4 * 1024 * 1024, `the receiver wrote ${written} bytes before Herald hung up`);
    const detail = await getDelivery(h, ws, list[0].id);
    assert.equal(detail.attempts[0].status_code, 200);
    assert.ok(Buffer.byteLength(detail.attempts[0].response_body ?? '') <= 4096, 'the recorded answer is cut at 4 KiB');
    assert.ok((detail.attempts[0].response_body ?? '').length > 0);
  });
});

describe('request limits', { timeout: 60_000 }, () => {
  it('oversized bodies get 413, oversized headers 431, and nothing is stored', async () => {
    const h = await herald({ maxPayloadBytes: 64 * 1024 });
    const ws = (await createWorkspace(h)).id as string;
    const db = (h.herald.store as SqliteStore).db;
    const before = rowCounts(db);

    const hugeName = await h.api('POST', '/api/v1/workspaces', { name: 'x'.repeat(2 * 1024 * 1024) });
    assert.equal(hugeName.status, 413);
    assert.match(hugeName.headers.get('content-type') ?? '', /^application\/problem\+json/);

    const bigData = await h.api('POST', `/api/v1/workspaces/${ws}/events`, { topic: 'order_create', data: { blob: 'y'.repeat(80 * 1024) } });
    assert.equal(bigData.status, 413, bigData.text);
    assert.equal(bigData.body.errors?.[0]?.path, 'data');

    const hugeBody = await h.api('POST', `/api/v1/workspaces/${ws}/events`, { topic: 'order_create', data: { blob: 'y'.repeat(2 * 1024 * 1024) } });
    assert.equal(hugeBody.status, 413);

    const batch = await h.api('POST', `/api/v1/workspaces/${ws}/events/batch`, {
      events: [{ topic: 'order_create', data: { ok: 1 } }, { topic: 'order_create', data: { blob: 'z'.repeat(80 * 1024) } }],
    });
    assert.equal(batch.status, 413);

    const tooMany = await h.api('POST', `/api/v1/workspaces/${ws}/events/batch`, {
      events: Array.from({ length: 1001 }, () => ({ topic: 'order_create', data: {} })),
    });
    assert.equal(tooMany.status, 400);

    const bigHeader = await rawRequest(h.url, {
      method: 'GET', path: `/api/v1/workspaces/${ws}`, headers: { authorization: `Bearer ${h.adminKey}`, 'x-padding': 'p'.repeat(64 * 1024) },
    }).catch((err) => ({ status: -1, text: String(err) }));
    assert.ok(bigHeader.status === 431 || bigHeader.status === -1, `oversized header: ${bigHeader.status}`);

    assert.deepEqual(rowCounts(db), before, 'a refused request stored something');
    assert.equal((await h.api('GET', '/healthz', undefined, null)).status, 200);
    assert.equal((await h.api('POST', `/api/v1/workspaces/${ws}/events`, { topic: 'order_create', data: { fine: true } })).status, 202);
  });
});

describe('inbound connections', { timeout: 60_000 }, () => {
  it('hundreds of idle and trickling connections do not pin Herald, and every request is time-limited', async () => {
    const h = await herald({});
    const ws = (await createWorkspace(h)).id as string;
    const { port } = new URL(h.url);
    const sockets: net.Socket[] = [];
    defer(async () => sockets.forEach((s) => s.destroy()));
    const connect = () =>
      new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1', () => resolve(socket));
        socket.on('error', reject);
      });
    for (let i = 0; i < 300; i++) sockets.push(await connect());
    // Some send a request line and half a body, then stall.
    for (const socket of sockets.slice(0, 30)) {
      socket.write(`POST /api/v1/workspaces/${ws}/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${h.adminKey}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"topic":`);
    }
    // Herald keeps answering everyone else.
    for (let i = 0; i < 5; i++) {
      assert.equal((await h.api('GET', `/api/v1/workspaces/${ws}`)).status, 200);
      assert.equal((await h.api('POST', `/api/v1/workspaces/${ws}/events`, { topic: 'order_create', data: { i } })).status, 202);
    }
    // The stalled requests will be cut off: a whole request must arrive within a bounded time.
    const server = h.herald.app!.server;
    assert.ok(server.requestTimeout > 0 && server.requestTimeout <= 120_000, `requestTimeout is ${server.requestTimeout}`);
    assert.ok(server.headersTimeout > 0 && server.headersTimeout <= 120_000, `headersTimeout is ${server.headersTimeout}`);
    const events = await h.api('GET', `/api/v1/workspaces/${ws}/events`);
    assert.equal(events.body.data.length, 5, 'nothing of the stalled requests was stored');
  });
});
