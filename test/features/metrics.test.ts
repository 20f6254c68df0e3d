// Operations: the Prometheus text at /metrics after real deliveries (successes, retries and
// failures), and the structured logs — with a pino logger at debug level, one "attempt" line
// per attempt, and no webhook secret or API key anywhere in the log.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { createKey, createWebhook, createWorkspace, listDeliveries, startHerald, waitForDelivery, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { Captured } from './support.js';

const OK_SECRET = 'whsec_' + Buffer.from('metrics test secret of 32 bytes!').toString('base64');
const FAIL_SECRET = 'plain-secret-that-must-never-be-logged';

let h: TestHerald;
let receiver: Receiver;
const log = new Captured();

before(async () => {
  h = await startHerald({ maxRetries: 1, retryBaseMs: 100, retryFactor: 1 }, undefined, { logger: pino({ level: 'debug' }, log) });
  receiver = await startReceiver();
  receiver.respondWith((req) => {
    if (req.path.startsWith('/fail')) return { status: 500, body: '{"error":"down"}' };
    if (req.path.startsWith('/slow')) return { status: 200, delayMs: 2_000 };
    return { status: 200 };
  });
});
after(async () => {
  await h?.stop();
  await receiver?.close();
});

/** The samples of /metrics: "name{labels}" → value. */
async function scrape(): Promise<{ text: string; samples: Map<string, number> }> {
  const res = await fetch(`${h.url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+?(?:\{.*\})?) (\S+)$/.exec(line);
    assert.ok(m, `not a Prometheus sample line: ${line}`);
    samples.set(m[1]!, Number(m[2]));
  }
  return { text, samples };
}

/**
 * A workspace of its own with a key, a healthy and a failing webhook, and five events published
 * with the key: three first-attempt successes, two failures retried once, then failed for good.
 * Resolves once all seven attempts are recorded.
 */
async function traffic(): Promise<{ ws: string; ok: any; failing: any; workspaceKey: string }> {
  const ws = (await createWorkspace(h)).id;
  const workspaceKey = (await createKey(h, ws)).key;
  const ok = await createWebhook(h, ws, { topic: 'walletreward_create', url: receiver.at('/ok'), secret: OK_SECRET });
  const failing = await createWebhook(h, ws, { topic: 'coupon_create', url: receiver.at('/fail'), secret: FAIL_SECRET });
  for (const [topic, data] of [
    ['walletreward_create', { amount: 100 }], ['walletreward_create', { amount: 200 }], ['walletreward_create', { amount: 300 }],
    ['coupon_create', { value: 'A-1' }], ['coupon_create', { value: 'A-2' }],
  ] as const) {
    const res = await h.api('POST', `/api/v1/workspaces/${ws}/events`, { topic, data }, workspaceKey);
    assert.equal(res.status, 202, res.text);
  }
  for (const d of await listDeliveries(h, ws)) {
    await waitForDelivery(h, ws, d.id, (x) => x.status === (d.webhook_id === ok.id ? 'succeeded' : 'failed'));
  }
  return { ws, ok, failing, workspaceKey };
}

describe('metrics and logs', () => {
  it('/metrics counts attempts by outcome, their durations, the queue and failures per webhook', async () => {
    // The counts below are this Herald's totals: this test must run first (it does, in file order).
    const { ws, ok, failing } = await traffic();

    const { text, samples } = await scrape();
    // Three first-attempt successes; two failures retried once, then failed for good.
    assert.equal(samples.get('herald_delivery_attempts_total{outcome="succeeded"}'), 3, text);
    assert.equal(samples.get('herald_delivery_attempts_total{outcome="retrying"}'), 2, text);
    assert.equal(samples.get('herald_delivery_attempts_total{outcome="failed"}'), 2, text);
    assert.match(text, /# TYPE herald_delivery_attempts_total counter/);
    // Durations: a histogram of the seven attempts.
    assert.match(text, /# TYPE herald_attempt_duration_seconds histogram/);
    const buckets = [...samples.keys()].filter((k) => k.startsWith('herald_attempt_duration_seconds_bucket{'));
    assert.ok(buckets.length >= 5, text);
    assert.equal(samples.get('herald_attempt_duration_seconds_bucket{le="+Inf"}'), 7);
    assert.equal(samples.get('herald_attempt_duration_seconds_count'), 7);
    assert.ok(samples.get('herald_attempt_duration_seconds_sum')! >= 0);
    const counts = buckets.map((b) => samples.get(b)!);
    assert.ok(counts.every((c, i) => i === 0 || c >= counts[i - 1]!), 'buckets are cumulative');
    // Failures per webhook: the failing one's four attempts, none for the healthy one.
    assert.equal(samples.get(`herald_webhook_failed_attempts_total{webhook_id="${failing.id}"}`), 4, text);
    assert.equal(samples.get(`herald_webhook_failed_attempts_total{webhook_id="${ok.id}"}`), undefined);
    // The queue is empty now.
    assert.equal(samples.get('herald_queue_pending'), 0, text);
    assert.equal(samples.get('herald_queue_oldest_due_seconds'), 0, text);
    assert.ok([...samples.keys()].some((k) => k.startsWith('herald_process_')), 'process metrics');

    // While an attempt is in flight, its delivery is pending.
    const slow = await createWebhook(h, ws, { topic: 'lead_create', url: receiver.at('/slow') });
    const res = await h.api('POST', `/api/v1/workspaces/${ws}/events`, { topic: 'lead_create', data: { name: 'Mei Lin' } });
    assert.equal(res.status, 202);
    await receiver.waitFor(1, { path: '/slow' });
    const during = await scrape();
    assert.equal(during.samples.get('herald_queue_pending'), 1, during.text);
    assert.ok(during.samples.get('herald_queue_oldest_due_seconds')! >= 0);
    const [slowDelivery] = await listDeliveries(h, ws, { webhook_id: slow.id });
    await waitForDelivery(h, ws, slowDelivery.id, (d) => d.status === 'succeeded');
    const end = await scrape();
    assert.equal(end.samples.get('herald_queue_pending'), 0);
    assert.equal(end.samples.get('herald_delivery_attempts_total{outcome="succeeded"}'), 4);
    assert.ok(end.samples.get('herald_attempt_duration_seconds_sum')! >= 2, 'the slow attempt took two seconds');
  });

  it('logs one "attempt" line per attempt, without secrets or keys', async () => {
    const { ws, ok, failing, workspaceKey } = await traffic();
    const attempts = log.lines().filter((l) => l.msg === 'attempt' && (l.webhook === ok.id || l.webhook === failing.id));
    // Exactly the attempts the API records, each once.
    const recorded: string[] = [];
    for (const d of await listDeliveries(h, ws)) {
      const detail = (await h.api('GET', `/api/v1/workspaces/${ws}/deliveries/${d.id}`)).body;
      for (const a of detail.attempts) recorded.push(`${d.id}#${a.number}`);
    }
    assert.equal(recorded.length, 7);
    assert.deepEqual(attempts.map((l) => `${l.delivery}#${l.attempt}`).sort(), recorded.sort());
    for (const l of attempts) {
      assert.equal(l.level, 20, 'debug level');
      assert.match(l.webhook, /^wh_/);
      assert.ok(['walletreward_create', 'coupon_create'].includes(l.topic));
      assert.ok(['succeeded', 'pending', 'failed'].includes(l.status));
      assert.equal(typeof l.ms, 'number');
      if (l.webhook === failing.id) {
        assert.equal(l.statusCode, 500);
        assert.ok(l.status === 'pending' || l.status === 'failed');
      } else {
        assert.equal(l.statusCode, 200);
        assert.equal(l.status, 'succeeded');
      }
    }

    // No secret and no key anywhere in the log, in any form a reader could use.
    const text = log.text();
    const forbidden = {
      'the whsec_ secret': OK_SECRET,
      "the whsec_ secret's key": OK_SECRET.slice('whsec_'.length),
      'the plain secret': FAIL_SECRET,
      'the admin key': h.adminKey,
      'the workspace key': workspaceKey,
    };
    for (const [what, value] of Object.entries(forbidden)) assert.ok(!text.includes(value), `${what} is in the log`);
  });
});
