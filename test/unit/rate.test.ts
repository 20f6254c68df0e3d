// The shared rate limit's rule (GCRA, src/domain/rate.ts), as a pure function. The store
// conformance cases check that both adapters apply it alike; these check the rule itself.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { rateBurst, rateInterval, takeRate } from '../../src/domain/rate.js';

/** Runs a sequence of takes from a fresh state; returns the times of the sends granted. */
function run(perSecond: number, takes: { at: number; count: number }[]): number[] {
  let tat: number | null = null;
  const sent: number[] = [];
  for (const { at, count } of takes) {
    const grant = takeRate(tat, perSecond, count, at);
    assert.ok(grant.granted >= 0 && grant.granted <= count);
    assert.ok(grant.retryAt >= at);
    tat = grant.tat;
    for (let i = 0; i < grant.granted; i++) sent.push(at);
  }
  return sent;
}

function busiest(times: number[], windowMs: number): number {
  let most = 0;
  for (const start of times) most = Math.max(most, times.filter((t) => t >= start && t < start + windowMs).length);
  return most;
}

describe('rate limit (GCRA)', () => {
  it('a burst of a tenth of a second, at least one', () => {
    assert.deepEqual([1, 5, 10, 11, 50, 1000].map(rateBurst), [1, 1, 1, 2, 5, 100]);
    assert.equal(rateInterval(50), 20);
  });

  it('asked all the time, it sends exactly the rate', () => {
    const takes = Array.from({ length: 10_000 }, (_, i) => ({ at: i, count: 100 }));
    assert.equal(run(50, takes).length, 5 + 50 * 10 - 1); // the burst, then one per 20 ms (the last at 9,980 ms)
    assert.equal(run(1, takes).length, 10);
  });

  it('the next send is allowed at retryAt, not a millisecond earlier', () => {
    for (const rate of [1, 3, 7, 50, 333]) {
      let { tat, retryAt } = takeRate(null, rate, 1000, 0);
      for (let i = 0; i < 20; i++) {
        assert.equal(takeRate(tat, rate, 1, retryAt - 1).granted, 0, `rate ${rate} at ${retryAt - 1}`);
        const next = takeRate(tat, rate, 1, retryAt);
        assert.equal(next.granted, 1, `rate ${rate} at ${retryAt}`);
        ({ tat, retryAt } = next);
      }
    }
  });

  it('any second holds at most rate + burst sends, whatever the takes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }),
        fc.array(fc.record({ gap: fc.integer({ min: 0, max: 300 }), count: fc.integer({ min: 0, max: 50 }) }), { maxLength: 200 }),
        (rate, steps) => {
          let at = 0;
          const takes = steps.map((s) => ({ at: (at += s.gap), count: s.count }));
          const sent = run(rate, takes);
          assert.ok(busiest(sent, 1000) <= rate + rateBurst(rate), `${busiest(sent, 1000)} sends in a second at rate ${rate}`);
        },
      ),
      { numRuns: 200 },
    );
  });
});
