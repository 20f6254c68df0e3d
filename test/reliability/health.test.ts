// A receiver's health: the circuit breaker (after repeated failures its deliveries wait, not
// counted as attempts, while one probe at a time checks whether it has recovered), the
// auto-disable after sustained failure with its reason, re-enabling and "recover", and
// Herald's own events (`webhook.disabled`, `delivery.failed`) delivered like any other topic.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createWebhook, createWorkspace, getDelivery, listDeliveries, publish, sleep, waitUntil, type TestHerald } from '../helpers/herald.js';
import { fileScope, queueDrained } from '../helpers/reliability.js';
import { Receiver, type Responder } from '../helpers/receiver.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const { herald, receiver } = fileScope();

const fail500: Responder = () => ({ status: 500, body: '{"error":"down"}' });

describe('circuit breaker', { timeout: 90_000 }, () => {
  it('opens after repeated failures: deliveries wait without using attempts, one probe at a time, and it closes on recovery', async () => {
    const COOLDOWN = 500;
    const h = await herald({ circuitThreshold: 3, circuitCooldownMs: COOLDOWN, retryBaseMs: 50, retryFactor: 1, maxRetries: 50, workerConcurrency: 16 });
    let healthy = false;
    const r = await receiver((s, res) => (healthy ? {} : fail500(s, res)));
    const ws = (await createWorkspace(h)).id as string;
    const webhook = await createWebhook(h, ws, { topic: 'order_create', url: r.at('/flaky') });
    const batch = await h.api('POST', `/api/v1/workspaces/${ws}/events/batch`, {
      events: Array.from({ length: 10 }, (_, i) => ({ topic: 'order_create', data: { order_id: `C-${i}` } })),
    });
    assert.equal(batch.status, 202);

    // The first attempts go out together and fail; the circuit opens. Watch its health row
    // (in this process's database) to see when.
    const db = (h.herald.store as SqliteStore).db;
    const openUntil = () => (db.prepare('SELECT open_until AS o FROM webhook_health WHERE webhook_id = ?').get(webhook.id) as { o: number | null } | undefined)?.o ?? null;
    const opened = await waitUntil(() => {
      const until = openUntil();
      return until === null ? null : { until, seenAt: Date.now() };
    }, { timeoutMs: 15_000, intervalMs: 2, message: 'the circuit never opened' });
    // The first opening waits the cooldown, however many attempts of the burst failed.
    assert.ok(opened.until - opened.seenAt <= COOLDOWN, `the first opening waits ${opened.until - opened.seenAt} ms, not ${COOLDOWN}`);

    // Without a breaker, 10 deliveries retried every ~50 ms would make well over a hundred
    // requests in the next 3 s. With it: a probe after the cooldown, another after twice that…
    await sleep(3_000);
    let list = await listDeliveries(h, ws, { webhook_id: webhook.id });
    assert.equal(list.length, 10);
    assert.ok(list.every((d) => d.status === 'pending'), 'a delivery gave up while the circuit was open');
    const attempts: { id: string; startedAt: number }[] = [];
    for (const d of list) {
      for (const a of (await getDelivery(h, ws, d.id)).attempts) attempts.push({ id: d.id, startedAt: Date.parse(a.started_at) });
    }
    // Waiting is not an attempt: every recorded attempt is a request that reached the receiver.
    assert.equal(attempts.length, r.count(), 'attempts recorded vs requests received');
    // Attempts begun after the opening are probes: none before the cooldown ended, one at a
    // time (the next only after the last one failed and reopened the circuit for longer).
    const probes = attempts.filter((a) => a.startedAt > opened.seenAt).sort((a, b) => a.startedAt - b.startedAt);
    assert.ok(probes.length >= 1, 'no probe once the cooldown was over');
    assert.ok(probes.length <= 4, `${probes.length} attempts in 3 s while the circuit was open`);
    assert.ok(probes[0]!.startedAt >= opened.until - 2, `an attempt began ${opened.until - probes[0]!.startedAt} ms before the circuit half-opened`);
    for (let i = 1; i < probes.length; i++) {
      const gap = probes[i]!.startedAt - probes[i - 1]!.startedAt;
      assert.ok(gap >= COOLDOWN, `two probes ${gap} ms apart`);
    }

    // Recovery: the next probe succeeds, the circuit closes, everything is delivered.
    healthy = true;
    await waitUntil(() => queueDrained(h.api, ws), { timeoutMs: 30_000, intervalMs: 100, message: 'deliveries did not resume after recovery' });
    list = await listDeliveries(h, ws, { webhook_id: webhook.id });
    assert.ok(list.every((d) => d.status === 'succeeded'));
    assert.equal(list.reduce((n, d) => n + d.attempts, 0), r.count());
    assert.equal(new Set(r.requests.filter((s) => s.headers['x-nector-topic'] === 'order_create').map((s) => s.id)).size, 10);
  });
});

describe('auto-disable and recover', { timeout: 90_000 }, () => {
  it('a webhook failing for HERALD_DISABLE_AFTER_MS is disabled with a reason, announces webhook.disabled, and comes back with enable + recover', async () => {
    const started = new Date(Date.now() - 1000).toISOString();
    const h = await herald({ disableAfterMs: 1_500, circuitThreshold: 1_000, retryBaseMs: 100, retryFactor: 1, maxRetries: 100 });
    let healthy = false;
    const bad = await receiver((s, res) => (healthy ? { body: 'ok' } : fail500(s, res)));
    const watcher = await receiver();
    const ws = (await createWorkspace(h, { name: 'Dust & Daisy', uri: 'https://dustdaisy.example' })).id as string;
    const webhook = await createWebhook(h, ws, { topic: 'order_create', url: bad.at('/orders') });
    await createWebhook(h, ws, { topic: 'webhook.disabled', url: watcher.at('/alerts') });
    const events: string[] = [];
    for (let i = 0; i < 3; i++) events.push((await publish(h, ws, 'order_create', { order_id: `D-${i}`, amount: 10 * i })).id);

    const disabled = await waitUntil(async () => {
      const res = await h.api('GET', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}`);
      return res.body.enabled === false ? res.body : null;
    }, { timeoutMs: 30_000, message: 'the webhook was never disabled' });
    assert.match(disabled.disabled_reason, /every attempt failed since \d{4}-\d\d-\d\dT/);

    // The announcement, as a normal event of the workspace, delivered to its subscriber.
    const [alert] = await waitUntil(() => (watcher.count() >= 1 ? watcher.requests : null), { timeoutMs: 15_000, message: 'no webhook.disabled event' });
    assert.equal(alert!.headers['x-nector-topic'], 'webhook.disabled');
    const body = JSON.parse(alert!.body);
    assert.equal(body.webhook_id, webhook.id);
    assert.equal(body.topic, 'order_create');
    assert.equal(body.url, bad.at('/orders'));
    assert.equal(body.disabled_reason, disabled.disabled_reason);
    assert.equal(body.business_name, 'Dust & Daisy');
    const announced = await h.api('GET', `/api/v1/workspaces/${ws}/events?topic=webhook.disabled`);
    assert.equal(announced.body.data.length, 1);

    // Its deliveries stop (closed as failed, no more requests).
    await waitUntil(() => queueDrained(h.api, ws), { timeoutMs: 15_000 });
    const quiet = bad.count();
    await h.idle();
    assert.equal(bad.count(), quiet, 'a disabled webhook still got requests');
    let list = await listDeliveries(h, ws, { webhook_id: webhook.id });
    assert.equal(list.length, 3);
    assert.ok(list.every((d) => d.status === 'failed'));
    // A new event is not queued for a disabled webhook.
    assert.equal((await publish(h, ws, 'order_create', { order_id: 'D-skip' })).deliveries, 0);

    // Switched back on: the reason goes; "recover" queues the failed deliveries again.
    healthy = true;
    const enabled = await h.api('PATCH', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}`, { enabled: true });
    assert.equal(enabled.status, 200);
    assert.equal(enabled.body.enabled, true);
    assert.equal(enabled.body.disabled_reason, null);
    const recovered = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}/recover`, { since: started });
    assert.equal(recovered.status, 202, recovered.text);
    assert.equal(recovered.body.requeued, 3);
    await waitUntil(() => queueDrained(h.api, ws), { timeoutMs: 30_000, message: 'recovered deliveries did not finish' });
    list = await listDeliveries(h, ws, { webhook_id: webhook.id });
    assert.ok(list.every((d) => d.status === 'succeeded'), JSON.stringify(list.map((d) => d.status)));
    const delivered = new Set(bad.requests.filter((s) => s.endedAt !== null).map((s) => JSON.parse(s.body).order_id));
    for (const id of ['D-0', 'D-1', 'D-2']) assert.ok(delivered.has(id), `${id} was not delivered after recover`);
    // And new events flow again.
    assert.equal((await publish(h, ws, 'order_create', { order_id: 'D-new' })).deliveries, 1);
    await waitUntil(() => bad.requests.some((s) => JSON.parse(s.body).order_id === 'D-new'), { timeoutMs: 15_000 });
    assert.equal(watcher.count(), 1, 'only one webhook.disabled');
    void events;
  });
});

describe("Herald's own events", { timeout: 60_000 }, () => {
  it('delivery.failed carries the topic, the delivery id and the original payload; failures of it do not loop', async () => {
    const h = await herald({ maxRetries: 1, retryBaseMs: 100, retryFactor: 1 });
    const bad = await receiver(fail500);
    const watcher = await receiver();
    const alsoBad = await receiver(fail500);
    const ws = (await createWorkspace(h, { name: 'Copper Kettle', uri: 'https://copper.example' })).id as string;
    const webhook = await createWebhook(h, ws, { topic: 'walletreward_create', url: bad.at('/wallet'), prefix: 'shop1_' });
    await createWebhook(h, ws, { topic: 'delivery.failed', url: watcher.at('/failures') });
    await createWebhook(h, ws, { topic: 'delivery.failed', url: alsoBad.at('/failures') });
    const data = { customer_id: '7723901884523', amount: 250, operation: 'cr', note: 'ünïcødé ✓' };
    const event = await publish(h, ws, 'walletreward_create', data);

    await waitUntil(() => watcher.count() >= 1, { timeoutMs: 20_000, message: 'no delivery.failed event' });
    const [failedDelivery] = await listDeliveries(h, ws, { webhook_id: webhook.id });
    assert.equal(failedDelivery!.status, 'failed');
    assert.equal(failedDelivery!.attempts, 2);
    const got = watcher.requests[0]!;
    assert.equal(got.headers['x-nector-topic'], 'delivery.failed');
    const body = JSON.parse(got.body);
    assert.equal(body.delivery_id, failedDelivery!.id);
    assert.equal(body.event_id, event.id);
    assert.equal(body.webhook_id, webhook.id);
    assert.equal(body.topic, 'walletreward_create');
    assert.equal(body.url, bad.at('/wallet'));
    assert.equal(body.attempts, 2);
    assert.equal(body.last_status_code, 500);
    // The original payload, as the failing receiver would have got it.
    assert.deepEqual(body.data, JSON.parse(bad.requests[0]!.body));
    assert.deepEqual(body.data, { ...data, business_name: 'Copper Kettle', business_uri: 'https://copper.example' });

    // The failing subscriber of delivery.failed uses up its retries too, without a new event.
    await waitUntil(() => queueDrained(h.api, ws), { timeoutMs: 20_000 });
    await h.idle();
    const own = await h.api('GET', `/api/v1/workspaces/${ws}/events?topic=delivery.failed`);
    assert.equal(own.body.data.length, 1, 'a failed delivery of delivery.failed raised another one');
    assert.equal(alsoBad.count(), 2);
  });
});
