// Failure handling end to end: the retry schedule, time limits, redirects, Retry-After,
// used-up retries, manual retry and recover.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  getDelivery, listDeliveries, publish, setupWebhook, sleep, startHerald, waitForDelivery, type TestHerald,
} from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

// Two retries (three attempts), retry n after 200 × 2^(n−1) ms ± 20 %.
let h: TestHerald;
const receivers: Receiver[] = [];
const heralds: TestHerald[] = [];
async function receiver(): Promise<Receiver> {
  const r = await startReceiver();
  receivers.push(r);
  return r;
}
async function herald(overrides: Parameters<typeof startHerald>[0]): Promise<TestHerald> {
  const x = await startHerald(overrides);
  heralds.push(x);
  return x;
}

before(async () => {
  // The circuit breaker (5 failures in a row pause a webhook for 5 s, then 10 s, ...) is not
  // what this file tests: a high threshold keeps the retry schedule alone in play.
  h = await herald({ maxRetries: 2, retryBaseMs: 200, retryFactor: 2, circuitThreshold: 1000 });
});
after(async () => {
  for (const x of heralds) await x.stop();
  for (const r of receivers) await r.close();
});

const idOf = (r: Receiver, i = 0) => String(r.requests[i]!.headers['webhook-id']);

describe('retries', () => {
  it('500, 500, 200: three attempts recorded, with growing gaps between them', async () => {
    // Retry n waits 400 × 4^(n−1) ms × [0.8, 1.2]: 320–480 ms, then 1280–1920 ms.
    const hh = await herald({ retryBaseMs: 400, retryFactor: 4, maxRetries: 3 });
    const r = await receiver();
    const { ws } = await setupWebhook(hh, r.at('/flaky'));
    let whileRetrying: any = null;
    r.respondWith(async (req) => {
      if (req.index === 1) whileRetrying = await getDelivery(hh, ws, String(req.headers['webhook-id']));
      return req.index < 2
        ? { status: 500, body: `{"error":"boom ${req.index + 1}"}`, headers: { 'x-trace': `t${req.index + 1}` } }
        : { status: 200, body: 'thanks' };
    });
    const event = await publish(hh, ws, 'walletreward_create', { amount: 10 });
    const reqs = await r.waitFor(3, { timeoutMs: 20_000 });
    const gap1 = reqs[1]!.receivedAt - reqs[0]!.receivedAt;
    const gap2 = reqs[2]!.receivedAt - reqs[1]!.receivedAt;
    assert.ok(gap1 >= 300, `first retry came after ${gap1} ms, sooner than 400 ms − 20 %`);
    assert.ok(gap2 >= 1250, `second retry came after ${gap2} ms, sooner than 1600 ms − 20 %`);
    assert.ok(gap2 > gap1, `gaps should grow: ${gap1} ms then ${gap2} ms`);
    assert.ok(gap1 < 10_000 && gap2 < 15_000, `gaps far beyond the schedule: ${gap1}, ${gap2}`);

    // While it was being retried, the first attempt was already on record.
    assert.equal(whileRetrying.status, 'pending');
    assert.equal(whileRetrying.attempts.length, 1);
    assert.equal(whileRetrying.last_status_code, 500);
    assert.equal(whileRetrying.last_error, 'HTTP 500');

    const d = await waitForDelivery(hh, ws, idOf(r), (x) => x.status === 'succeeded');
    assert.equal(d.event_id, event.id);
    assert.equal(d.last_status_code, 200);
    assert.equal(d.last_error, null);
    assert.equal(d.next_attempt_at, null);
    assert.deepEqual(d.attempts.map((a: any) => a.number), [1, 2, 3]);
    assert.deepEqual(d.attempts.map((a: any) => a.status_code), [500, 500, 200]);
    assert.deepEqual(d.attempts.map((a: any) => a.response_body), ['{"error":"boom 1"}', '{"error":"boom 2"}', 'thanks']);
    assert.deepEqual(d.attempts.map((a: any) => a.error), ['HTTP 500', 'HTTP 500', null]);
    for (const [i, a] of d.attempts.entries()) {
      assert.equal(typeof a.duration_ms, 'number');
      assert.ok(a.duration_ms >= 0);
      assert.equal(a.request_headers['webhook-id'], d.id);
      assert.equal(a.request_headers['x-nector-delivery-id'], d.id);
      assert.equal(a.request_headers['x-nector-topic'], 'walletreward_create');
      assert.equal(a.request_headers['x-nector-timestamp'], reqs[i]!.headers['x-nector-timestamp']);
      assert.equal(a.request_headers['webhook-signature'], reqs[i]!.headers['webhook-signature']);
    }
    const starts = d.attempts.map((a: any) => Date.parse(a.started_at));
    assert.ok(starts[0] < starts[1] && starts[1] < starts[2]);
    // The list shows the same summary.
    const [listed] = await listDeliveries(hh, ws);
    assert.equal(listed.id, d.id);
    assert.equal(listed.attempts, 3);
    assert.equal(listed.status, 'succeeded');
  });

  it('an attempt whose receiver never answers ends at the time limit', async () => {
    const hh = await herald({ deliveryTimeoutMs: 500, maxRetries: 2 });
    const r = await receiver();
    r.enqueue({ hang: true }, { status: 200, delayMs: 1500 }, { status: 204 });
    const { ws } = await setupWebhook(hh, r.at('/slow'));
    await publish(hh, ws, 'walletreward_create', { amount: 11 });
    const d = await waitForDelivery(hh, ws, await r.waitFor(1).then(() => idOf(r)), (x) => x.status === 'succeeded');
    assert.equal(d.attempts.length, 3);
    for (const a of d.attempts.slice(0, 2)) {
      assert.equal(a.status_code, null);
      assert.match(a.error, /timed out|timeout/i);
      assert.match(a.error, /500 ms/);
      assert.ok(a.duration_ms >= 450, `duration ${a.duration_ms} ms is shorter than the 500 ms limit`);
      assert.ok(a.duration_ms < 5000, `duration ${a.duration_ms} ms: the limit was not enforced`);
    }
    assert.equal(d.attempts[2].status_code, 204);
    assert.equal(r.requests.length, 3);
  });

  it('used-up retries leave the delivery failed after 1 + max_retries attempts', async () => {
    const r = await receiver();
    r.setDefault({ status: 500, body: 'nope' });
    const { ws } = await setupWebhook(h, r.at('/down'));
    await publish(h, ws, 'walletreward_create', { amount: 12 });
    await r.waitFor(3);
    const d = await waitForDelivery(h, ws, idOf(r), (x) => x.status === 'failed');
    assert.equal(d.attempts.length, 3);
    assert.equal(d.next_attempt_at, null);
    assert.equal(d.last_status_code, 500);
    assert.equal(d.last_error, 'HTTP 500');
    await h.idle(); // no retry is due
    assert.equal(r.requests.length, 3);
    const failed = await listDeliveries(h, ws, { status: 'failed' });
    assert.deepEqual(failed.map((x) => x.id), [d.id]);
  });

  it('a connection refused fails the attempt and is retried', async () => {
    const gone = await startReceiver();
    const deadUrl = gone.at('/nobody-home');
    await gone.close();
    const { ws } = await setupWebhook(h, deadUrl);
    const ev = await publish(h, ws, 'walletreward_create', { amount: 13 });
    const [dl] = await listDeliveries(h, ws, { event_id: ev.id });
    const d = await waitForDelivery(h, ws, dl.id, (x) => x.status === 'failed');
    assert.equal(d.attempts.length, 3);
    for (const a of d.attempts) {
      assert.equal(a.status_code, null);
      assert.match(a.error, /refused/);
    }
  });

  it('a 3xx redirect is not followed and counts as a failure', async () => {
    const r = await receiver();
    r.respondWith((req) => req.path === '/moved'
      ? { status: 302, headers: { location: r.at('/target') }, body: '' }
      : { status: 200 });
    const { ws } = await setupWebhook(h, r.at('/moved'));
    await publish(h, ws, 'walletreward_create', { amount: 14 });
    const d = await waitForDelivery(h, ws, await r.waitFor(1).then(() => idOf(r)), (x) => x.status === 'failed');
    assert.equal(d.attempts.length, 3);
    for (const a of d.attempts) {
      assert.equal(a.status_code, 302);
      assert.match(a.error, /redirect/i);
    }
    assert.equal(r.received('/target').length, 0, 'the Location target got nothing');
    assert.equal(r.received('/moved').length, 3);
    assert.equal(r.requests.length, 3);

    // A 307 is no different; the next attempt that answers 2xx succeeds.
    const r2 = await receiver();
    r2.enqueue({ status: 307, headers: { location: r2.at('/elsewhere') } });
    const two = await setupWebhook(h, r2.at('/temp'));
    await publish(h, two.ws, 'walletreward_create', { amount: 15 });
    const d2 = await waitForDelivery(h, two.ws, await r2.waitFor(1).then(() => idOf(r2)), (x) => x.status === 'succeeded');
    assert.deepEqual(d2.attempts.map((a: any) => a.status_code), [307, 200]);
    assert.equal(r2.received('/elsewhere').length, 0);
  });

  it('honours a longer Retry-After on 429 and 503, and only there', async () => {
    const r = await receiver();
    const now = () => Date.now();
    r.respondWith((req) => {
      const first = r.received(req.path).length === 1;
      if (!first) return { status: 200 };
      switch (req.path) {
        case '/ra-503': return { status: 503, headers: { 'retry-after': '2' } };
        case '/ra-429-date': return { status: 429, headers: { 'retry-after': new Date(now() + 3000).toUTCString() } };
        case '/ra-503-short': return { status: 503, headers: { 'retry-after': '0' } };
        case '/ra-500': return { status: 500, headers: { 'retry-after': '5' } };
        default: return { status: 200 };
      }
    });
    const paths = ['/ra-503', '/ra-429-date', '/ra-503-short', '/ra-500'];
    const setups = [];
    for (const p of paths) setups.push(await setupWebhook(h, r.at(p)));
    await Promise.all(setups.map((s, i) => publish(h, s.ws, 'walletreward_create', { i })));
    const gap = async (path: string) => {
      const [a, b] = await r.waitFor(2, { path, timeoutMs: 15_000 });
      return b!.receivedAt - a!.receivedAt;
    };
    const [g503, g429, gShort, g500] = await Promise.all(paths.map(gap));
    assert.ok(g503! >= 1900, `Retry-After: 2 on a 503 was not honoured (next attempt after ${g503} ms)`);
    assert.ok(g429! >= 1500, `a Retry-After date on a 429 was not honoured (next attempt after ${g429} ms)`);
    // Shorter than the schedule, or on another status: the schedule (200 ms ± 20 %) holds.
    assert.ok(gShort! < 1500, `Retry-After: 0 should not delay beyond the schedule (${gShort} ms)`);
    assert.ok(g500! < 1500, `Retry-After on a 500 should be ignored (${g500} ms)`);
    for (const s of setups) {
      const [d] = await listDeliveries(h, s.ws);
      await waitForDelivery(h, s.ws, d.id, (x) => x.status === 'succeeded');
    }
  });
});

describe('manual retry and recover', () => {
  it('POST …/deliveries/{id}/retry makes one more attempt, also for a succeeded delivery', async () => {
    const r = await receiver();
    const { ws } = await setupWebhook(h, r.at('/again'));
    await publish(h, ws, 'walletreward_create', { amount: 20 });
    await r.waitFor(1);
    const id = idOf(r);
    await waitForDelivery(h, ws, id, (x) => x.status === 'succeeded');

    const res = await h.api('POST', `/api/v1/workspaces/${ws}/deliveries/${id}/retry`);
    assert.equal(res.status, 202);
    assert.equal(res.body.id, id);
    const reqs = await r.waitFor(2);
    assert.equal(reqs[1]!.headers['webhook-id'], id);
    assert.equal(reqs[1]!.body, reqs[0]!.body);
    const d = await waitForDelivery(h, ws, id, (x) => x.status === 'succeeded' && x.attempts.length === 2);
    assert.deepEqual(d.attempts.map((a: any) => a.number), [1, 2]);

    // On a failed delivery while the receiver still fails: exactly one attempt, then failed again.
    r.setDefault({ status: 500 });
    await h.api('POST', `/api/v1/workspaces/${ws}/deliveries/${id}/retry`);
    const again = await waitForDelivery(h, ws, id, (x) => x.attempts.length === 3 && x.status === 'failed');
    assert.equal(again.last_status_code, 500);
    await h.idle();
    assert.equal(r.requests.length, 3);

    const missing = await h.api('POST', `/api/v1/workspaces/${ws}/deliveries/dlv_nope/retry`);
    assert.equal(missing.status, 404);
  });

  it('a retry asked for while the attempt is in flight is made after it, 20 times out of 20, whatever its outcome', async () => {
    // No automatic retries: a second attempt can only be the manual one.
    const hh = await herald({ maxRetries: 0, circuitThreshold: 1000 });
    const r = await receiver();
    const { ws } = await setupWebhook(hh, r.at('/in-flight'));
    const seen = new Map<string, { requests: number; inFlight: boolean; retry?: number }>();
    const overlapping: string[] = [];
    r.respondWith(async (req) => {
      const id = String(req.headers['webhook-id']);
      const s = seen.get(id) ?? { requests: 0, inFlight: false };
      seen.set(id, s);
      if (s.inFlight) overlapping.push(id);
      if (++s.requests > 1) return { status: 200 };
      // The first attempt of each delivery: ask for a retry while it is in flight, then answer
      // (a success for half of them, a failure for the others).
      s.inFlight = true;
      s.retry = (await hh.api('POST', `/api/v1/workspaces/${ws}/deliveries/${id}/retry`)).status;
      await sleep(100);
      s.inFlight = false;
      return { status: seen.size % 2 === 0 ? 200 : 500 };
    });
    const lost: string[] = [];
    for (let i = 0; i < 20; i++) {
      await publish(hh, ws, 'walletreward_create', { i });
      await r.waitFor(2 * i + 1);
      const id = String(r.requests[2 * i]!.headers['webhook-id']);
      if (!(await r.waitFor(2 * i + 2, { timeoutMs: 5_000 }).catch(() => null))) {
        lost.push(id);
        break;
      }
      assert.equal(r.requests[2 * i + 1]!.headers['webhook-id'], id);
      assert.equal(seen.get(id)!.retry, 202);
      const d = await waitForDelivery(hh, ws, id, (x) => x.status === 'succeeded' && x.attempts.length === 2);
      assert.deepEqual(d.attempts.map((a: any) => a.number), [1, 2]);
    }
    assert.deepEqual({ lost, overlapping }, { lost: [], overlapping: [] }, 'every retry made, and only after the attempt in flight');
    await sleep(300);
    assert.equal(r.requests.length, 40, 'one retry each, no more');
  });

  it('POST …/webhooks/{id}/recover requeues its failed deliveries, which then succeed', async () => {
    const r = await receiver();
    r.setDefault({ status: 503 });
    const since = new Date(Date.now() - 1000).toISOString();
    const { ws, webhook } = await setupWebhook(h, r.at('/recover'));
    await publish(h, ws, 'walletreward_create', { n: 1 });
    await publish(h, ws, 'walletreward_create', { n: 2 });
    await r.waitFor(6);
    await waitUntilAll(ws, 'failed', 2);

    const none = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}/recover`, { since: new Date(Date.now() + 60_000).toISOString() });
    assert.equal(none.status, 202);
    assert.deepEqual(none.body, { requeued: 0 });

    r.setDefault({ status: 200 });
    const res = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}/recover`, { since });
    assert.equal(res.status, 202);
    assert.deepEqual(res.body, { requeued: 2 });
    await r.waitFor(8);
    const done = await waitUntilAll(ws, 'succeeded', 2);
    for (const d of done) {
      const detail = await getDelivery(h, ws, d.id);
      assert.deepEqual(detail.attempts.map((a: any) => a.status_code), [503, 503, 503, 200]);
    }
    // Nothing failed is left to recover.
    const again = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}/recover`, { since });
    assert.deepEqual(again.body, { requeued: 0 });

    const bad = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}/recover`, { since: 'yesterday' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].path, 'since');
  });
});

async function waitUntilAll(ws: string, status: string, n: number): Promise<any[]> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const all = await listDeliveries(h, ws);
    if (all.length === n && all.every((d) => d.status === status)) return all;
    if (Date.now() > deadline) throw new Error(`deliveries did not all become ${status}: ${JSON.stringify(all.map((d) => [d.status, d.attempts]))}`);
    await sleep(50);
  }
}
