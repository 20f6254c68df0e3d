// Per-webhook admission: when a webhook is at its concurrency limit, its deliveries go back
// until a slot is likely to free — about one attempt's time for a receiver that answers, and
// longer the longer a receiver has not answered at all (so a hung receiver's backlog is not
// claimed and given back every few milliseconds).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebhookLimiter, type Admission } from '../../src/delivery/limits.js';

const limiter = () => new WebhookLimiter({ maxPerWebhook: 2, initialPerWebhook: 2, slowMs: 60_000 });

/** Held back as a whole for `ms` to 1.4 × `ms`; returns until when. */
function assertHeld(a: Admission, now: number, ms: number): number {
  assert.equal(a.admitted, false);
  const { retryAt, webhook } = a as { retryAt: number; webhook?: true };
  assert.equal(webhook, true);
  assert.ok(retryAt >= now + ms - 1 && retryAt <= now + 1.4 * ms + 1, `held ${retryAt - now} ms, not ${ms} to ${1.4 * ms}`);
  return retryAt;
}

function retryIn(l: WebhookLimiter, id: string, now: number): number {
  const a = l.admit(id, null, now);
  assert.equal(a.admitted, false);
  return (a as { retryAt: number }).retryAt - now;
}

describe('WebhookLimiter', () => {
  it('holds a webhook at its limit back for about one attempt when its receiver answers', () => {
    const l = limiter();
    const now = Date.now();
    l.admit('fast', null, now);
    l.done('fast', 40, false);
    assert.equal(l.admit('fast', null, now).admitted, true);
    assert.equal(l.admit('fast', null, now).admitted, true);
    assert.equal(retryIn(l, 'fast', now), 40);
  });

  it('holds a hung receiver back about as long as nothing has ended, up to 5 s', () => {
    const l = limiter();
    const start = Date.now();
    assert.equal(l.admit('hung', null, start).admitted, true);
    assert.equal(l.admit('hung', null, start).admitted, true);
    assert.equal(retryIn(l, 'hung', start), 25, 'the floor, at first');
    assert.equal(retryIn(l, 'hung', start + 2_000), 2_000);
    assert.equal(retryIn(l, 'hung', start + 60_000), 5_000);
  });

  it('counts an open circuit until it closes', () => {
    const l = limiter();
    const now = Date.now();
    const a = l.admit('open', now + 7_000, now);
    assert.deepEqual(a, { admitted: false, retryAt: now + 7_000, webhook: true }, 'held back as a whole: claims pass over it');
  });

  it('new and suspect webhooks share at most half of the worker\'s slots; answering ones are not held to it', () => {
    const l = new WebhookLimiter({ maxPerWebhook: 8, initialPerWebhook: 8, newPerWebhook: 1, slowMs: 1_000, workerSlots: 8, timeoutMs: 10_000 });
    const now = Date.now();
    // Answering: 8 at once, whatever the others do.
    l.admit('fast', null, now);
    l.done('fast', 10, false);
    // New ones: one attempt each, a quarter of the slots between them.
    assert.equal(l.admit('new1', null, now).admitted, true);
    assert.equal(l.admit('new1', null, now).admitted, false, 'one at a time until it has answered');
    assert.equal(l.admit('new2', null, now).admitted, true);
    // The new share is full of attempts that have only just started: back in a moment.
    assertHeld(l.admit('new3', null, now), now, 25);
    for (let i = 0; i < 8; i++) assert.equal(l.admit('fast', null, now).admitted, true, `answering attempt ${i + 1}`);
    // new1 and new2 hang: from now on they count as suspect, and new ones may go again.
    const later = now + 1_000;
    assert.equal(l.admit('new4', null, later).admitted, true);
    // The suspect quarter is full (new1, new2): a receiver that timed out waits, as a whole.
    l.admit('timedout', null, now);
    l.done('timedout', 10_000, true);
    assertHeld(l.admit('timedout', null, later), later, 10_000);
  });

  it('a new webhook waits for the new share about as long as its attempts have been in flight, doubling once they hang', () => {
    const l = new WebhookLimiter({ maxPerWebhook: 8, initialPerWebhook: 8, newPerWebhook: 1, slowMs: 10_000, workerSlots: 8, timeoutMs: 10_000 });
    const now = Date.now();
    assert.equal(l.admit('a', null, now).admitted, true);
    assert.equal(l.admit('b', null, now).admitted, true); // the new share (a quarter of 8) is full
    assertHeld(l.admit('c', null, now + 10), now + 10, 25);
    assertHeld(l.admit('d', null, now + 400), now + 400, 400);
    // They answer quickly: the share frees and the next new webhook goes at once.
    l.done('a', 5, false);
    assert.equal(l.admit('e', null, now + 405).admitted, true);
    // b and e hang: past half of slowMs the wait doubles each time in a row.
    const t = now + 6_000;
    const first = assertHeld(l.admit('f', null, t), t, 1_000);
    assertHeld(l.admit('f', null, first), first, 2_000);
  });

  it('probes a suspect webhook one attempt at a time, holding it back as a whole, twice as long each time in a row', () => {
    const l = new WebhookLimiter({ maxPerWebhook: 8, initialPerWebhook: 8, slowMs: 1_000, timeoutMs: 10_000 });
    const now = Date.now();
    l.admit('s', null, now);
    l.done('s', 50, true); // could not connect
    assert.equal(l.admit('s', null, now).admitted, true);
    // Until its probe's time limit has run out: nothing is learnt before.
    const until = assertHeld(l.admit('s', null, now), now, 10_000);
    // Its other deliveries meanwhile get the same time, and do not count as another hold.
    assert.deepEqual(l.admit('s', null, now + 500), { admitted: false, retryAt: until, webhook: true });
    // Still nothing back: twice as long.
    assertHeld(l.admit('s', null, until), until, 2 * (until - now));
    // It answers quickly: no longer held back.
    l.done('s', 20, false);
    assert.equal(l.admit('s', null, until + 100).admitted, true);
  });
  it('tells the worker which webhooks its claims pass over: held ones, probes in flight, and those whose next claim is a probe', () => {
    const l = new WebhookLimiter({ maxPerWebhook: 8, initialPerWebhook: 8, newPerWebhook: 1, slowMs: 1_000, timeoutMs: 10_000, workerSlots: 64 });
    const now = Date.now();
    assert.deepEqual(l.heldNow(now), { held: [], probing: [], ended: [] });
    // A new webhook's first attempt: passed over while it is in flight, not held back.
    assert.equal(l.admit('new', null, now).admitted, true);
    assert.deepEqual(l.heldNow(now + 10), { held: [], probing: ['new'], ended: [] });
    // It answers: nothing is passed over any more.
    l.done('new', 15, false);
    assert.deepEqual(l.heldNow(now + 20), { held: [], probing: [], ended: [] });

    // Another new one hangs: once in flight for slowMs, it is held back until its time limit.
    assert.equal(l.admit('hangs', null, now).admitted, true);
    assert.deepEqual(l.heldNow(now + 500).probing, ['hangs']);
    const { held } = l.heldNow(now + 1_000);
    assert.equal(held.length, 1);
    assert.equal(held[0]!.webhookId, 'hangs');
    assert.ok(held[0]!.until >= now + 10_000 && held[0]!.until <= Date.now() + 10_000);
    // It times out: the hold ends at once, and its next claim is a probe.
    l.done('hangs', 10_000, true);
    assert.deepEqual(l.heldNow(Date.now()), { held: [], probing: [], ended: ['hangs'] });
    assert.deepEqual(l.heldNow(Date.now()).ended, [], 'told once');

    // That probe (a suspect's one attempt) holds the webhook back as a whole until its time limit.
    const t = Date.now();
    assert.equal(l.admit('hangs', null, t).admitted, true);
    assert.deepEqual(l.heldNow(t).held, [{ webhookId: 'hangs', until: t + 10_000 }]);
    assert.deepEqual(l.admit('hangs', null, t + 5), { admitted: false, retryAt: t + 10_000, webhook: true });
    // It answers after all: no longer held back, nothing to probe.
    l.done('hangs', 30, false);
    assert.deepEqual(l.heldNow(Date.now()), { held: [], probing: [], ended: [] });
    assert.equal(l.admit('hangs', null, Date.now()).admitted, true);

    // An open circuit holds its webhook back as a whole until it half-opens (its next claim a
    // probe), while a manual retry (admitted without the circuit) still goes.
    const o = Date.now();
    assert.deepEqual(l.admit('open', o + 5_000, o), { admitted: false, retryAt: o + 5_000, webhook: true });
    assert.deepEqual(l.heldNow(o).held, [{ webhookId: 'open', until: o + 5_000 }]);
    assert.equal(l.admit('open', null, o).admitted, true, 'a manual retry');
    l.done('open', 20, true); // it could not connect either
    assert.deepEqual(l.heldNow(o + 4_000).held, [{ webhookId: 'open', until: o + 5_000 }]);
    assert.deepEqual(l.heldNow(o + 5_001).ended, ['open']);
  });
  it('a probe that its rate limit cancels leaves nothing passed over for good', () => {
    // The worker admits the probe, then takeRateShares grants no token (or cannot answer) and
    // cancels it: no attempt starts, so done() never comes.
    const l = new WebhookLimiter({ maxPerWebhook: 8, initialPerWebhook: 8, newPerWebhook: 1, slowMs: 1_000, timeoutMs: 10_000, workerSlots: 64 });
    const now = Date.now();
    assert.equal(l.admit('rated', null, now).admitted, true);
    l.cancel('rated');
    const later = l.heldNow(now + 60_000);
    assert.deepEqual(later.probing, [], 'nothing of it is in flight: its deliveries must be claimable again');
    assert.deepEqual(later.held, []);
  });
});
