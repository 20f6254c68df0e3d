import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { RETRY_AFTER_CAP_MS, nominalDelay, parseRetryAfter, retryDelay, type RetryPolicy } from '../../src/domain/retry.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const defaults: RetryPolicy = { maxRetries: 5, baseMs: 30_000, factor: 4 };
const fixed = (v: number) => () => v;

describe('nominal schedule', () => {
  it('defaults give 30 s, 2 min, 8 min, 32 min and 2 h 8 min', () => {
    const expected = [30 * SECOND, 2 * MINUTE, 8 * MINUTE, 32 * MINUTE, 2 * HOUR + 8 * MINUTE];
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => nominalDelay(defaults, n)), expected);
  });

  it('follows base × factor^(n−1) for other policies', () => {
    const p: RetryPolicy = { maxRetries: 3, baseMs: 100, factor: 2 };
    assert.deepEqual([1, 2, 3].map((n) => nominalDelay(p, n)), [100, 200, 400]);
    assert.equal(nominalDelay({ maxRetries: 3, baseMs: 500, factor: 1 }, 3), 500);
    assert.equal(nominalDelay({ maxRetries: 3, baseMs: 0, factor: 4 }, 3), 0);
  });
});

describe('jitter', () => {
  it('random 0 → 0.8×, 0.5 → 1×, 1 → 1.2×', () => {
    for (let n = 1; n <= 5; n++) {
      const nominal = nominalDelay(defaults, n);
      assert.equal(retryDelay(defaults, n, null, fixed(0)), Math.round(nominal * 0.8));
      assert.equal(retryDelay(defaults, n, null, fixed(0.5)), nominal);
      assert.equal(retryDelay(defaults, n, null, fixed(1)), Math.round(nominal * 1.2));
    }
    assert.equal(retryDelay(defaults, 1, null, fixed(0)), 24_000);
    assert.equal(retryDelay(defaults, 1, null, fixed(1)), 36_000);
  });

  it('stays within [0.8, 1.2] of the nominal delay with the real random', () => {
    for (let i = 0; i < 2000; i++) {
      const n = 1 + (i % 5);
      const nominal = nominalDelay(defaults, n);
      const d = retryDelay(defaults, n);
      assert.ok(d >= nominal * 0.8 && d <= nominal * 1.2, `retry ${n}: ${d}`);
    }
  });

  it('is spread out, not constant', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 50; i++) seen.add(retryDelay(defaults, 3));
    assert.ok(seen.size > 10);
  });

  it('returns whole milliseconds', () => {
    for (let i = 0; i < 100; i++) assert.ok(Number.isInteger(retryDelay({ maxRetries: 1, baseMs: 333, factor: 1.7 }, 2)));
  });
});

describe('Retry-After', () => {
  it('a longer Retry-After wins', () => {
    assert.equal(retryDelay(defaults, 1, 5 * MINUTE, fixed(0.5)), 5 * MINUTE);
    // Longer than even the highest jitter.
    assert.equal(retryDelay(defaults, 1, 37 * SECOND, fixed(1)), 37 * SECOND);
  });

  it('a shorter Retry-After is ignored', () => {
    assert.equal(retryDelay(defaults, 2, 10 * SECOND, fixed(0.5)), 2 * MINUTE);
    assert.equal(retryDelay(defaults, 1, 0, fixed(0)), 24_000);
    // Between the low and the drawn jitter: the drawn one stands.
    assert.equal(retryDelay(defaults, 1, 25 * SECOND, fixed(1)), 36_000);
  });

  it('is capped at 24 h', () => {
    assert.equal(RETRY_AFTER_CAP_MS, 24 * HOUR);
    assert.equal(retryDelay(defaults, 1, 48 * HOUR, fixed(0.5)), 24 * HOUR);
    assert.equal(retryDelay(defaults, 5, Number.MAX_SAFE_INTEGER, fixed(0.5)), 24 * HOUR);
  });

  it('never makes a retry sooner than the schedule, even past the cap', () => {
    // Retry 7 of the default curve is about 34 h: a Retry-After (capped at 24 h) is shorter, so ignored.
    const long: RetryPolicy = { maxRetries: 10, baseMs: 30_000, factor: 4 };
    const nominal = nominalDelay(long, 7);
    assert.ok(nominal > 24 * HOUR);
    assert.equal(retryDelay(long, 7, 48 * HOUR, fixed(0.5)), nominal);
    assert.equal(retryDelay(long, 7, 24 * HOUR, fixed(0.5)), nominal);
  });
});

describe('parseRetryAfter', () => {
  const now = Date.UTC(2024, 2, 14, 10, 0, 0); // Thu, 14 Mar 2024 10:00:00 GMT

  it('reads delta seconds', () => {
    assert.equal(parseRetryAfter('120', now), 120_000);
    assert.equal(parseRetryAfter('0', now), 0);
    assert.equal(parseRetryAfter(' 5 ', now), 5000);
  });

  it('caps delta seconds at 24 h', () => {
    assert.equal(parseRetryAfter('86400', now), 24 * HOUR);
    assert.equal(parseRetryAfter('999999999', now), 24 * HOUR);
    assert.equal(parseRetryAfter('99999999999999999999999', now), 24 * HOUR);
  });

  it('reads an HTTP date relative to the given now', () => {
    assert.equal(parseRetryAfter('Thu, 14 Mar 2024 10:02:30 GMT', now), 150_000);
    assert.equal(parseRetryAfter('Thu, 14 Mar 2024 10:00:00 GMT', now), 0);
    // The obsolete RFC 850 form, which HTTP recipients must accept too.
    assert.equal(parseRetryAfter('Thursday, 14-Mar-24 10:01:00 GMT', now), 60_000);
  });

  it('caps a far HTTP date at 24 h', () => {
    assert.equal(parseRetryAfter('Sat, 16 Mar 2024 10:00:00 GMT', now), 24 * HOUR);
  });

  it('a date in the past gives 0', () => {
    assert.equal(parseRetryAfter('Wed, 13 Mar 2024 10:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('Thu, 01 Jan 1970 00:00:00 GMT', now), 0);
  });

  it('a negative number never gives a positive delay', () => {
    const v = parseRetryAfter('-5', now);
    assert.ok(v === null || v === 0, String(v));
  });

  it('garbage, empty and missing give null', () => {
    for (const v of ['soon', 'later please', '12abc', '1e3', 'NaN', '', '   ']) {
      assert.equal(parseRetryAfter(v, now), null, JSON.stringify(v));
    }
    assert.equal(parseRetryAfter(undefined, now), null);
  });

  it('defaults now to the clock', () => {
    const inTen = new Date(Date.now() + 10_000).toUTCString();
    const v = parseRetryAfter(inTen)!;
    assert.ok(v > 8_000 && v <= 10_000, String(v));
  });
});
