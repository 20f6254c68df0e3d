// The bare baseline of a scenario (issue 16): the same traffic POSTed straight to the receiver by
// the bare client (bench/bare.ts, a process of its own), once per connection count of the sweep
// (--bare-sweep, 16, 64 and 256 by default), in the same invocation; the best rate is the
// baseline. A warm-up run of 20,000 POSTs goes first so that the first count of the sweep does
// not pay for the client's JIT warm-up alone (with 5,000 the first count still used about a
// fifth more CPU per POST than when the same count came later in the sweep).

import { newId } from '../src/domain/ids.js';
import { generateSecret, signedHeaders, signingSecret } from '../src/domain/signing.js';
import { VERSION } from '../src/version.js';
import type { BareTraffic } from './bare.js';
import type { LatencySummary } from './client.js';
import { meter, type Costs } from './costs.js';
import { waitForCount } from './load.js';
import { startBare } from './processes.js';
import { deliveredBody, shopName, shopUri, TOPIC, walletReward } from './payload.js';
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
  /** The best count again, sending the headers Herald sends (SweepOptions.heraldHeaders). */
  heraldHeaders?: BarePoint;
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
  /**
   * After the sweep, the best count once more with the headers Herald sends (signed for one
   * delivery, the same on every request but for webhook-id), then once more without: how much
   * of the gap is the receiver parsing the contract's headers. Not a candidate for the baseline.
   */
  heraldHeaders?: boolean;
}

/** The 14 headers of an attempt of the throughput layouts' webhooks (contract section 4), signed once. */
function heraldHeaderSet(): Record<string, string> {
  const secret = signingSecret(generateSecret());
  return signedHeaders({
    prefix: 'x-nector', topic: TOPIC, deliveryId: newId('dlv'), timestamp: Math.floor(Date.now() / 1000),
    body: deliveredBody(walletReward(0), shopName(0), shopUri(0)), secrets: [secret], userAgent: `Herald/${VERSION}`,
  });
}

export async function bareSweep(ctx: Ctx, label: string, traffic: SweepTraffic, options: SweepOptions = {}): Promise<BareSweep> {
  const sweep = options.connections ?? ctx.bareSweep;
  const bare = await startBare(ctx.benchDir);
  const points: BarePoint[] = [];
  let heraldHeaders: BarePoint | undefined;
  try {
    const base = { receiverUrl: ctx.receiver.url, timeoutMs: ctx.timeoutMs };
    await ctx.receiver.reset();
    await bare.blast({ ...base, ...traffic, prefix: 'warmup', hangShards: [], count: WARMUP_POSTS, connections: sweep[0]! });
    const point = async (connections: number, headers?: Record<string, string>): Promise<BarePoint> => {
      await ctx.receiver.reset();
      ctx.log(`  bare baseline: ${int(traffic.count)} POSTs, ${connections} connections (${connections} in flight)`);
      const costs = await meter([bare.pid]);
      const receiverCosts = await meter([ctx.receiverPid]);
      const t0 = performance.timeOrigin + performance.now();
      const deadline = options.windowMs === undefined ? undefined : t0 + options.windowMs;
      const sent = bare.blast({ ...base, ...traffic, connections, deadline, headers });
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
      return {
        connections, perSecond: round1(perSecond), received: got.count, errors: result.errors, complete: got.complete, hangRequests: stats.hangTotal,
        seconds: Math.round(lastAt - result.startedAt) / 1000, cpuPerPostUs: cost.cpuPerItemUs, costs: cost, receiverCpuPerRequestUs,
        ...(options.latency ? { latencyMs: stats.latency } : {}),
      };
    };
    for (const connections of sweep) points.push(await point(connections));
    if (options.heraldHeaders) {
      // Then the same count without them once more, so that the two are side by side (that run
      // counts as any other point of the sweep).
      const connections = bestOf(points).connections;
      ctx.log(`  bare baseline: the best count again, with Herald's headers, then without`);
      heraldHeaders = await point(connections, heraldHeaderSet());
      points.push(await point(connections));
    }
  } finally {
    await bare.stop();
  }
  const best = bestOf(points);
  const describe = (p: BarePoint) => `${int(p.perSecond)}/s, ${p.cpuPerPostUs} µs CPU/POST (receiver ${p.receiverCpuPerRequestUs} µs)`;
  let line = points.map((p) => `${p.connections}: ${describe(p)}${p === best ? ' (best)' : ''}`).join('; ');
  if (heraldHeaders) line += `; ${heraldHeaders.connections} with Herald's headers (then the same without, above): ${describe(heraldHeaders)}`;
  ctx.log(`  bare baseline sweep: ${line}`);
  ctx.sweeps.push({ scenario: label, line });
  return { best, points, heraldHeaders };
}

/** The fastest point that received everything (else the fastest). */
function bestOf(points: BarePoint[]): BarePoint {
  const complete = points.filter((p) => p.complete);
  return (complete.length ? complete : points).reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
}

/** The sweep as it goes into the JSON: the best count, and every point. */
export function sweepDetails(s: BareSweep) {
  return {
    deliveriesPerSecond: s.best.perSecond,
    bestConnections: s.best.connections,
    cpuPerPostUs: s.best.cpuPerPostUs,
    sweep: s.points.map(pointDetails),
    ...(s.heraldHeaders ? { heraldHeaders: pointDetails(s.heraldHeaders) } : {}),
  };
}

const pointDetails = (p: BarePoint) => ({ ...p, costs: undefined, cpuSeconds: p.costs.cpuSeconds });
