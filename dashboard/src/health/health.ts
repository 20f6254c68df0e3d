// A webhook's health over the last 24 hours, computed here from what the API returns:
// the webhook's deliveries (GET …/deliveries?webhook_id=) and their attempts (GET …/deliveries/{id}).
import type { Api } from '../api/client';
import type { Attempt, Delivery } from '../api/types';

export const HOUR = 3600_000;
export const WINDOW = 24 * HOUR;
/** Attempts are read delivery by delivery: at most this many deliveries per webhook. */
export const MAX_DETAILS = 300;

export interface Bucket {
  start: number;
  ok: number;
  bad: number;
  p50: number | null;
  p95: number | null;
}

export interface Health {
  attempts: number;
  ok: number;
  rate: number | null;
  p50: number | null;
  p95: number | null;
  buckets: Bucket[];
  deliveries: number;
  /** True when there were more deliveries than MAX_DETAILS: the numbers are of the newest ones. */
  partial: boolean;
}

export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export const isOk = (a: Attempt) => a.status_code !== null && a.status_code >= 200 && a.status_code < 300 && !a.error;

/** The numbers and the 24 hourly buckets, from attempts started in (now − 24 h, now]. */
export function summarize(attempts: Attempt[], now: number, deliveries: number, partial: boolean): Health {
  const since = now - WINDOW;
  const recent = attempts.filter((a) => Date.parse(a.started_at) > since);
  const start = Math.floor(now / HOUR) * HOUR - 23 * HOUR;
  const buckets: Bucket[] = Array.from({ length: 24 }, (_, i) => ({ start: start + i * HOUR, ok: 0, bad: 0, p50: null, p95: null }));
  const times: number[][] = buckets.map(() => []);
  for (const a of recent) {
    const i = Math.floor((Date.parse(a.started_at) - start) / HOUR);
    if (i < 0 || i > 23) continue;
    if (isOk(a)) buckets[i]!.ok++;
    else buckets[i]!.bad++;
    times[i]!.push(a.duration_ms);
  }
  times.forEach((t, i) => {
    t.sort((x, y) => x - y);
    buckets[i]!.p50 = percentile(t, 50);
    buckets[i]!.p95 = percentile(t, 95);
  });
  const all = recent.map((a) => a.duration_ms).sort((x, y) => x - y);
  const ok = recent.filter(isOk).length;
  return {
    attempts: recent.length,
    ok,
    rate: recent.length ? ok / recent.length : null,
    p50: percentile(all, 50),
    p95: percentile(all, 95),
    buckets,
    deliveries,
    partial,
  };
}

export async function loadHealth(api: Api, workspaceId: string, webhookId: string, now = Date.now()): Promise<Health> {
  const since = now - WINDOW;
  // Deliveries come newest first by creation; retries of older ones can still fall in the window.
  const recent: Delivery[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 10; pages++) {
    const page = await api.listDeliveries(workspaceId, { webhook_id: webhookId, limit: 200, cursor });
    for (const d of page.data) if (Date.parse(d.updated_at) > since && d.attempts > 0) recent.push(d);
    cursor = page.next_cursor;
    const oldest = page.data[page.data.length - 1];
    if (!cursor || !oldest || Date.parse(oldest.created_at) < since - 6 * HOUR || recent.length >= MAX_DETAILS) break;
  }
  const chosen = recent.slice(0, MAX_DETAILS);
  const attempts: Attempt[] = [];
  let next = 0;
  const worker = async () => {
    while (next < chosen.length) {
      const d = chosen[next++]!;
      try {
        attempts.push(...(await api.getDelivery(workspaceId, d.id)).attempts);
      } catch {
        // A delivery that vanished (its webhook was deleted) has no attempts to count.
      }
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  return summarize(attempts, now, chosen.length, recent.length > MAX_DETAILS);
}
