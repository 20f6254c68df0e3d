// The burst scenario (issue 16): latency at a steady rate right after a burst. A fresh Herald
// takes --burst events (40,000) through the batch API as fast as it accepts them, on the
// throughput layout (20 workspaces, one webhook each); once every one of them is delivered,
// --burst-rate single events per second (500) go through the single-event API for
// --burst-seconds (20; the first 2 not counted) and publish→receipt p50/p99/max is measured.
// That "after drained" run is the target's (p99 ≤ 10 ms). Two more runs give it meaning:
//   - reference: a fresh Herald with the same layout and the same paced run, no burst before
//     it. Herald rather than the bare client because the question is what the burst leaves
//     behind (a grown database and WAL, a checkpoint, tables and indexes to skip over), and a
//     fresh Herald differs from the burst run in nothing else; the bare floor is the latency
//     scenario's.
//   - while draining (information): the paced run starts as soon as the burst is accepted,
//     while its deliveries are still going out — the other reading of "right after".

import { publishAll, sleep, waitForCount } from './load.js';
import { costRows, describeCosts, meter, type Costs } from './costs.js';
import { int, mb, round1, round3, type Row } from './report.js';
import type { LatencySummary } from './client.js';
import { deadlineFrom, diagnose, diedWithLog, guard, heraldPids, pacedLatency, rate, rss, shardedSetup, startRun, stopRun, type Ctx, type Scenario } from './scenarios.js';

const WARMUP_MS = 2_000;
const PREFIX = 'bu';

type Mode = 'reference' | 'after-drained' | 'while-draining';

interface Measured {
  mode: Mode;
  latency: LatencySummary;
  complete: boolean;
  pacedCosts: Costs;
  burst?: { publishEventsPerSecond: number; drainSeconds: number; deliveriesPerSecond: number; complete: boolean; costs: Costs };
  details: Record<string, unknown>;
}

async function measure(ctx: Ctx, mode: Mode): Promise<Measured> {
  const { burst: B, burstRate, burstSeconds, batchSize, publishConcurrency } = ctx.sizes;
  await ctx.receiver.reset();
  const run = await startRun(ctx, `burst-${mode}`, 'all');
  const ws = await shardedSetup(ctx, run.api, `bu${mode[0]}`, (i) => `${ctx.receiver.url}/${PREFIX}/${i}`);
  let burst: Measured['burst'];
  let already = 0;
  let draining: Promise<unknown> = Promise.resolve();
  if (mode !== 'reference') {
    const costs = await meter(heraldPids(run), ctx.databaseUrl);
    const t0 = performance.timeOrigin + performance.now();
    const pub = await guard(run, publishAll(run.api, { events: B, batchSize, concurrency: publishConcurrency, workspaceOf: (k) => ws[k % ws.length]! }));
    ctx.log(`  [burst/${mode}] ${int(B)} events accepted in ${((pub.finishedAt - t0) / 1000).toFixed(1)} s (${int(rate(B, t0, pub.finishedAt))}/s)`);
    const drained = waitForCount({
      receiver: ctx.receiver, prefix: PREFIX, expected: B, label: `burst/${mode}: drain`, log: ctx.log, startedAt: t0,
      stallMs: 60_000, deadline: deadlineFrom(ctx, t0), extra: () => rss(run.herald), diagnose: diagnose(run), died: () => diedWithLog(run),
    }).then(async (got) => {
      const cost = await costs.finish(got.count);
      const stats = await ctx.receiver.stats({ prefix: PREFIX });
      const lastAt = got.complete ? (stats.prefixes[PREFIX]?.lastAt ?? got.endedAt) : got.endedAt;
      burst = {
        publishEventsPerSecond: round1(rate(B, t0, pub.finishedAt)), drainSeconds: round3((lastAt - t0) / 1000),
        deliveriesPerSecond: round1(rate(got.count, t0, lastAt)), complete: got.complete, costs: cost,
      };
    });
    if (mode === 'after-drained') await guard(run, drained);
    else draining = drained;
    already = B;
  }
  ctx.log(`  [burst/${mode}] ${int(burstRate)} events/s through the single-event API for ${burstSeconds} s`);
  const m = await pacedLatency(ctx, run, {
    workspaces: ws, prefix: PREFIX, rate: burstRate, durationMs: burstSeconds * 1000, warmupMs: Math.min(WARMUP_MS, (burstSeconds * 1000) / 5),
    label: `burst/${mode}`, already, firstSeq: B,
  });
  await guard(run, draining);
  const mem = run.herald.memory();
  await stopRun(ctx, run, { workspaces: ws });
  await sleep(500);
  const l = m.latency;
  ctx.log(`  => ${mode}: p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms (n ${l.n}); ${describeCosts(m.costs)}`);
  return {
    mode, latency: l, complete: m.complete && (burst?.complete ?? true), pacedCosts: m.costs, burst,
    details: { ...m.details, burst: burst ?? null, peakRssMB: mem ? mb(mem.peak) : null },
  };
}

export const burst: Scenario = async (ctx) => {
  const { burst: B, burstRate, burstSeconds } = ctx.sizes;
  ctx.log(`burst: ${int(B)} events through the batch API (20 workspaces, one webhook each), then ${int(burstRate)} events/s ` +
    `through the single-event API for ${burstSeconds} s: once the burst is delivered (the target), while it drains, and on a fresh Herald without it`);
  const reference = await measure(ctx, 'reference');
  const after = await measure(ctx, 'after-drained');
  const during = await measure(ctx, 'while-draining');
  const scenario = 'burst';
  const ms = (measure: string, pick: (l: LatencySummary) => number | null, target: string, pass: (v: number) => boolean | null, m = after): Row => {
    const v = pick(m.latency);
    return { scenario, measure, unit: 'ms', herald: v, baseline: pick(reference.latency), baselineNote: '(no burst)', ratio: null, target, pass: v === null || !m.complete ? false : pass(v) };
  };
  const b = after.burst!;
  return {
    rows: [
      ms('after drained: p50', (l) => l.p50, '(none)', () => null),
      ms('after drained: p99', (l) => l.p99, '≤ 10 ms', (v) => v <= 10),
      ms('after drained: max', (l) => l.max, '(none)', () => null),
      ms('while draining: p99', (l) => l.p99, '(information)', () => null, during),
      { scenario, measure: 'burst drain deliveries/s', unit: '/s', herald: b.deliveriesPerSecond, baseline: null, ratio: null, target: '(none)', pass: null },
      ...costRows(scenario, b.costs, null, ctx.store).map((r) => ({ ...r, measure: `burst: ${r.measure}` })),
    ],
    details: {
      burst: B, rate: burstRate, seconds: burstSeconds, warmupSeconds: WARMUP_MS / 1000,
      baselineIs: 'a fresh Herald, same layout and paced run, no burst before it',
      afterDrained: after.details, whileDraining: during.details, reference: reference.details,
    },
  };
};
