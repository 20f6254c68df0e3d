// The bare baseline of a scenario (issue 16): the same traffic POSTed straight to the receiver by
// the bare client (bench/bare.ts, a process of its own), once per connection count of the sweep
// (--bare-sweep, 16, 64 and 256 by default), in the same invocation; the best rate is the
// baseline. A warm-up run of 20,000 POSTs goes first so that the first count of the sweep does
// not pay for the client's JIT warm-up alone (with 5,000 the first count still used about a
// fifth more CPU per POST than when the same count came later in the sweep).

import type { BareTraffic } from './bare.js';
import type { LatencySummary } from './client.js';
import { meter, type Costs } from './costs.js';
import { waitForCount } from './load.js';
import { startBare } from './processes.js';
import { int, round1 } from './report.js';
import type { Ctx } from './scenarios.js';

export interface BarePoint {
  connections: number;
  perSecond: number;
  received: number;
  errors: number;
  complete: boolean;
  /** Requests the receiver saw under /hang/ (bad neighbour). */
  hangRequests: number;
  seconds: number;
  /** The bare client process's CPU time per POST (user + system, all threads), µs. */
  cpuPerPostUs: number | null;
  /** The receiver's, per request received: far below a core's worth at the rate, it is not what limits the run. */
  receiverCpuPerRequestUs: number | null;
  costs: Costs;
  latencyMs?: LatencySummary;
}

export interface BareSweep {
  best: BarePoint;
  points: BarePoint[];
}

export type SweepTraffic = Omit<BareTraffic, 'receiverUrl' | 'connections' | 'timeoutMs' | 'deadline'>;

const WARMUP_POSTS = 20_000;

/** Runs `traffic` once per connection count of the sweep (a list of one for a single run). */
export interface SweepOptions {
  /** Also the receiver's latency summary of each point. */
  latency?: boolean;
  /** Connection counts instead of --bare-sweep. */
  connections?: number[];
  /** Receipts under traffic.prefix to wait for, when not every POST counts (default traffic.count). */
  expected?: number;
  /** Stop starting requests, and stop waiting, this long after each point starts. */
  windowMs?: number;
  stallMs?: number;
}

export async function bareSweep(ctx: Ctx, label: string, traffic: SweepTraffic, options: SweepOptions = {}): Promise<BareSweep> {
  const sweep = options.connections ?? ctx.bareSweep;
  const bare = await startBare(ctx.benchDir);
  const points: BarePoint[] = [];
  try {
    const base = { receiverUrl: ctx.receiver.url, timeoutMs: ctx.timeoutMs };
    await ctx.receiver.reset();
    await bare.blast({ ...base, ...traffic, prefix: 'warmup', hangShards: [], count: WARMUP_POSTS, connections: sweep[0]! });
    for (const connections of sweep) {
      await ctx.receiver.reset();
      ctx.log(`  bare baseline: ${int(traffic.count)} POSTs, ${connections} connections (${connections} in flight)`);
      const costs = await meter([bare.pid]);
      const receiverCosts = await meter([ctx.receiverPid]);
      const t0 = performance.timeOrigin + performance.now();
      const deadline = options.windowMs === undefined ? undefined : t0 + options.windowMs;
      const sent = bare.blast({ ...base, ...traffic, connections, deadline });
      const got = await waitForCount({
        receiver: ctx.receiver, prefix: traffic.prefix, expected: options.expected ?? traffic.count, label: `${label}/bare ${connections}`, log: ctx.log, startedAt: t0,
        stallMs: options.stallMs ?? 60_000, deadline: deadline ?? t0 + ctx.sizes.maxWaitSeconds * 1000, progressEveryMs: 5000,
      });
      const result = await sent;
      const cost = await costs.finish(result.started);
      const receiverCpuPerRequestUs = (await receiverCosts.finish(got.count)).cpuPerItemUs;
      const stats = await ctx.receiver.stats(options.latency ? { latency: true } : {});
      const lastAt = got.complete ? (stats.prefixes[traffic.prefix]?.lastAt ?? got.endedAt) : got.endedAt;
      const perSecond = (got.count * 1000) / Math.max(1, lastAt - result.startedAt);
      points.push({
        connections, perSecond: round1(perSecond), received: got.count, errors: result.errors, complete: got.complete, hangRequests: stats.hangTotal,
        seconds: Math.round(lastAt - result.startedAt) / 1000, cpuPerPostUs: cost.cpuPerItemUs, costs: cost, receiverCpuPerRequestUs,
        ...(options.latency ? { latencyMs: stats.latency } : {}),
      });
    }
  } finally {
    await bare.stop();
  }
  const complete = points.filter((p) => p.complete);
  const best = (complete.length ? complete : points).reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
  const line = points.map((p) => `${p.connections}: ${int(p.perSecond)}/s, ${p.cpuPerPostUs} µs CPU/POST (receiver ${p.receiverCpuPerRequestUs} µs)${p === best ? ' (best)' : ''}`).join('; ');
  ctx.log(`  bare baseline sweep: ${line}`);
  ctx.sweeps.push({ scenario: label, line });
  return { best, points };
}

/** The sweep as it goes into the JSON: the best count, and every point. */
export function sweepDetails(s: BareSweep) {
  return {
    deliveriesPerSecond: s.best.perSecond,
    bestConnections: s.best.connections,
    cpuPerPostUs: s.best.cpuPerPostUs,
    sweep: s.points.map((p) => ({ ...p, costs: undefined, cpuSeconds: p.costs.cpuSeconds })),
  };
}
