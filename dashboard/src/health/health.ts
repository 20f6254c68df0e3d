// A webhook's health over the last 24 hours, computed here from what the API returns:
// the webhook's deliveries (GET …/deliveries?webhook_id=) and their attempts (GET …/deliveries/{id}).
// What a business owner asks first is whether its events arrived: that is counted per delivery
// (a delivery that succeeded on its third attempt arrived). Attempts are counted apart, for how
// often the receiver answers at once.
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
  /** Deliveries that reached the receiver (succeeded), of those that are finished (succeeded or failed). */
  delivered: number;
  finished: number;
  rate: number | null;
  /** Deliveries still being retried after a failed attempt. */
  retrying: number;
  /** Deliveries whose first attempt succeeded, of those whose first attempt is known. */
  firstTry: number;
  tried: number;
  attempts: number;
  ok: number;
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

/** One delivery as health reads it: its status and its attempts. */
export interface DeliveryAttempts {
  status: Delivery['status'];
  attempts: Attempt[];
}

/** The numbers and the 24 hourly buckets, from the deliveries and their attempts started in (now − 24 h, now]. */
export function summarize(read: DeliveryAttempts[], now: number, partial: boolean): Health {
  const since = now - WINDOW;
  const attempts = read.flatMap((d) => d.attempts);
  const count = (pick: (d: DeliveryAttempts) => boolean) => read.filter(pick).length;
  const delivered = count((d) => d.status === 'succeeded');
  const finished = delivered + count((d) => d.status === 'failed');
  const firsts = read.map((d) => d.attempts.find((a) => a.number === 1)).filter((a): a is Attempt => !!a);
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
    delivered,
    finished,
    rate: finished ? delivered / finished : null,
    retrying: count((d) => d.status === 'pending' && d.attempts.length > 0),
    firstTry: firsts.filter(isOk).length,
    tried: firsts.length,
    attempts: recent.length,
    ok,
    p50: percentile(all, 50),
    p95: percentile(all, 95),
    buckets,
    deliveries: read.length,
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
  const read: DeliveryAttempts[] = [];
  let next = 0;
  const worker = async () => {
    while (next < chosen.length) {
      const d = chosen[next++]!;
      try {
        const detail = await api.getDelivery(workspaceId, d.id);
        read.push({ status: detail.status, attempts: detail.attempts });
      } catch {
        // A delivery that vanished (its webhook was deleted) has no attempts to count.
      }
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  return summarize(read, now, recent.length > MAX_DETAILS);
}
