// Load generators and waiting: paced sending, publishing through Herald's batch API, and
// waiting for the receiver to count what was sent (bounded in time). The bare baseline's
// client is bench/bare.ts, its sweep bench/baseline.ts.

import { type HeraldApi, type Receiver, type ReceiverStats } from './client.js';
import { TOPIC, walletReward, wallNow } from './payload.js';
import { int } from './report.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export type Log = (line: string) => void;

// ---- paced sending -------------------------------------------------------------------------

/**
 * Starts send(i) at `rate` per second for `durationMs`, without waiting for answers (an open
 * loop, as real traffic is). At most maxOutstanding are in flight; beyond that an event is
 * skipped and counted, so an overloaded target cannot make the loop unbounded.
 */
export async function paced(
  rate: number,
  durationMs: number,
  maxOutstanding: number,
  send: (i: number) => Promise<void>,
  onTick?: (issued: number) => void,
): Promise<{ issued: number; skipped: number; startedAt: number; drained: boolean }> {
  const total = Math.floor((rate * durationMs) / 1000);
  const startedAt = wallNow();
  let issued = 0;
  let skipped = 0;
  let outstanding = 0;
  let lastTick = startedAt;
  while (issued < total) {
    const due = Math.min(total, Math.floor(((wallNow() - startedAt) * rate) / 1000) + 1);
    while (issued < due) {
      const i = issued++;
      if (outstanding >= maxOutstanding) {
        skipped++;
        continue;
      }
      outstanding++;
      send(i).finally(() => outstanding--);
    }
    if (onTick && wallNow() - lastTick > 2000) {
      lastTick = wallNow();
      onTick(issued);
    }
    await sleep(1);
  }
  const limit = wallNow() + 30_000;
  while (outstanding > 0 && wallNow() < limit) await sleep(5);
  return { issued, skipped, startedAt, drained: outstanding === 0 };
}

// ---- publishing through Herald ---------------------------------------------------------------

export interface PublishPlan {
  events: number;
  batchSize: number;
  concurrency: number;
  /** Workspace of batch k. */
  workspaceOf: (batch: number) => string;
  /** Event numbers start here (to keep bodies distinct across phases). */
  firstSeq?: number;
}

/** Publishes plan.events events through the batch API; returns the deliveries Herald queued. */
export async function publishAll(api: HeraldApi, plan: PublishPlan, progress?: (published: number) => void): Promise<{ deliveries: number; finishedAt: number }> {
  const batches = Math.ceil(plan.events / plan.batchSize);
  const first = plan.firstSeq ?? 0;
  let deliveries = 0;
  let published = 0;
  let next = 0;
  let failed: unknown = null;
  const lane = async () => {
    while (failed === null) {
      const k = next++;
      if (k >= batches) return;
      const from = k * plan.batchSize;
      const to = Math.min(plan.events, from + plan.batchSize);
      const events: { topic: string; data: Record<string, unknown> }[] = [];
      for (let i = from; i < to; i++) {
        const data = walletReward(first + i);
        data.sent_at = wallNow();
        events.push({ topic: TOPIC, data });
      }
      try {
        const queued = await api.publishBatch(plan.workspaceOf(k), events);
        deliveries += queued;
        published += events.length;
        progress?.(published);
      } catch (err) {
        failed = err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(plan.concurrency, batches) }, lane));
  if (failed !== null) throw failed;
  return { deliveries, finishedAt: wallNow() };
}

// ---- waiting for the receiver ----------------------------------------------------------------

export interface WaitOptions {
  receiver: Receiver;
  prefix: string;
  /** How many to wait for (a function when it grows while waiting). */
  expected: number | (() => number);
  label: string;
  log: Log;
  startedAt: number;
  /** Give up when nothing new arrived for this long. */
  stallMs: number;
  /** Give up at this wall-clock time. */
  deadline: number;
  /** Extra text for the progress line. */
  extra?: () => string;
  /** Asked when the wait stalls, for a line that says why (e.g. whether Herald still answers). */
  diagnose?: () => Promise<string>;
  /** Non-null when the process that delivers has died: the wait ends at once. */
  died?: () => string | null;
  progressEveryMs?: number;
}

export interface WaitResult {
  complete: boolean;
  reason: 'done' | 'stalled' | 'deadline' | 'died';
  count: number;
  stats: ReceiverStats;
  endedAt: number;
}

export async function waitForCount(o: WaitOptions): Promise<WaitResult> {
  const expected = typeof o.expected === 'number' ? () => o.expected as number : o.expected;
  const every = o.progressEveryMs ?? 2000;
  let lastCount = -1;
  let lastChange = wallNow();
  let lastPrint = wallNow();
  let printedCount = 0;
  let printedAt = o.startedAt;
  for (;;) {
    const stats = await o.receiver.stats();
    const count = o.receiver.count(stats, o.prefix);
    const now = wallNow();
    if (count !== lastCount) {
      lastCount = count;
      lastChange = now;
    }
    const want = expected();
    const done = count >= want;
    if (done || now - lastPrint >= every) {
      const recent = ((count - printedCount) * 1000) / Math.max(1, now - printedAt);
      const avg = (count * 1000) / Math.max(1, now - o.startedAt);
      o.log(
        `  [${o.label}] ${int(count)} / ${int(want)} received  ${int(recent)}/s now, ${int(avg)}/s average, ` +
          `${((now - o.startedAt) / 1000).toFixed(1)} s${o.extra ? `  ${o.extra()}` : ''}`,
      );
      lastPrint = now;
      printedCount = count;
      printedAt = now;
    }
    if (done) return { complete: true, reason: 'done', count, stats, endedAt: now };
    const death = o.died?.() ?? null;
    if (death !== null) {
      o.log(`  [${o.label}] ${death}; giving up at ${int(count)} / ${int(want)}`);
      return { complete: false, reason: 'died', count, stats, endedAt: now };
    }
    if (now - lastChange > o.stallMs) {
      o.log(`  [${o.label}] nothing received for ${(o.stallMs / 1000).toFixed(0)} s: giving up at ${int(count)} / ${int(want)}`);
      if (o.diagnose) o.log(`  [${o.label}] ${await o.diagnose().catch((err: Error) => err.message)}`);
      return { complete: false, reason: 'stalled', count, stats, endedAt: now };
    }
    if (now > o.deadline) {
      o.log(`  [${o.label}] time limit reached at ${int(count)} / ${int(want)}`);
      return { complete: false, reason: 'deadline', count, stats, endedAt: now };
    }
    await sleep(Math.min(250, Math.max(20, (o.deadline - now) / 2)));
  }
}
