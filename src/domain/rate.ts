// A webhook's rate limit (`rate_limit` requests per second), shared by every worker through
// the database: GCRA, the generic cell rate algorithm. Its whole state is one number per
// webhook, the theoretical arrival time `tat`: the time at which the webhook would be back to
// idle if every send granted so far had gone out exactly one interval (1000 / rate ms) apart.
// A send may go at `now` when `now >= tat - tolerance`; each grant moves `tat` one interval on.
//
// The tolerance lets a tenth of a second's worth of sends (at least one) go at once, so that
// a worker that claims a little late catches up instead of losing its share; any 1-second
// window then holds at most rate + burst sends (≈ 1.1 × rate), where a one-second token
// bucket would allow 2 × rate across a window's boundary.
//
// Both adapters call takeRate inside a transaction that holds the webhook's state (SQLite's
// write lock; a row lock on PostgreSQL, src/store/postgres/rate.ts): the arithmetic is here only.

/** What a worker may do now with `count` deliveries of one webhook. */
export interface RateGrant {
  /** How many of them may be sent now (0 to count). */
  granted: number;
  /** When the next send after those may go (ms; now or later). */
  retryAt: number;
}

/** Milliseconds between two sends at `perSecond`. */
export function rateInterval(perSecond: number): number {
  return 1000 / perSecond;
}

/** How many sends may go at once: a tenth of a second's worth, at least one. */
export function rateBurst(perSecond: number): number {
  return Math.max(1, Math.ceil(perSecond / 10));
}

/** How far ahead of the schedule a send may go, ms. */
export function rateTolerance(perSecond: number): number {
  return (rateBurst(perSecond) - 1) * rateInterval(perSecond);
}

/** Guards floor() against 0.9999… from the division. */
export const RATE_EPSILON = 1e-9;

/**
 * Takes up to `count` sends from a webhook whose state is `tat` (null: never limited yet).
 * Returns the grant and the new state.
 */
export function takeRate(tat: number | null, perSecond: number, count: number, now: number): RateGrant & { tat: number } {
  const interval = rateInterval(perSecond);
  const tolerance = rateTolerance(perSecond);
  const base = Math.max(tat ?? now, now);
  const room = Math.floor((now + tolerance - base) / interval + RATE_EPSILON) + 1;
  const granted = Math.min(count, Math.max(0, room));
  const next = base + granted * interval;
  return { granted, tat: next, retryAt: rateRetryAt(next, perSecond, now) };
}

/** When the next send may go, from the state after a grant. */
export function rateRetryAt(tat: number, perSecond: number, now: number): number {
  return Math.max(now, Math.ceil(tat - rateTolerance(perSecond)));
}
