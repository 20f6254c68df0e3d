// Per-webhook admission: when a webhook is at its concurrency limit, its deliveries go back
// until a slot is likely to free — about one attempt's time for a receiver that answers, and
// longer the longer a receiver has not answered at all (so a hung receiver's backlog is not
// claimed and given back every few milliseconds).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { WebhookLimiter } from '../../src/delivery/limits.js';

const limiter = () => new WebhookLimiter({ maxPerWebhook: 2, initialPerWebhook: 2, slowMs: 60_000 });

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
    assert.deepEqual(a, { admitted: false, retryAt: now + 7_000 });
  });
});
