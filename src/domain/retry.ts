// The retry schedule of contract section 1: retry n (1-based) waits base × factor^(n−1),
// times a random factor in [0.8, 1.2]; a longer Retry-After (429/503) wins, capped at 24 h.

export interface RetryPolicy {
  maxRetries: number;
  baseMs: number;
  factor: number;
}

export const RETRY_AFTER_CAP_MS = 24 * 60 * 60 * 1000;

/** Delay before retry n without jitter. */
export function nominalDelay(policy: RetryPolicy, retry: number): number {
  return policy.baseMs * policy.factor ** (retry - 1);
}

export function retryDelay(
  policy: RetryPolicy,
  retry: number,
  retryAfterMs: number | null = null,
  random: () => number = Math.random,
): number {
  const jittered = Math.round(nominalDelay(policy, retry) * (0.8 + 0.4 * random()));
  // Retry-After (capped at 24 h) only ever lengthens the wait: past the cap the schedule stands.
  if (retryAfterMs !== null) return Math.max(jittered, Math.min(retryAfterMs, RETRY_AFTER_CAP_MS));
  return jittered;
}

/** Parses a Retry-After header (delta seconds or an HTTP date) into milliseconds from now. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, RETRY_AFTER_CAP_MS);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.min(Math.max(0, at - now), RETRY_AFTER_CAP_MS);
}
