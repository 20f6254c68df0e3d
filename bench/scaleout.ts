// The scaleout scenario (issue 16, PostgreSQL only): the throughput layout (--events through
// the batch API, 20 workspaces with one webhook each) on an API node plus 1, 2 and 4 worker
// processes (--scaleout-workers), each count on fresh processes and a fresh schema, in one
// invocation. Per count: deliveries/s, CPU per delivery summed over every Herald process (API
// node and workers), and PostgreSQL WAL bytes per delivery. One bare sweep goes first, as in
// throughput, so the rates read against the machine's limit. Two workers must not deliver less
// than one.

import { bareSweep, sweepDetails } from './baseline.js';
import { costRows } from './costs.js';
import { int, round3, type Row } from './report.js';
import { SHARDS, measureThroughput, startRun, stopRun, throughputTraffic, type Scenario } from './scenarios.js';

export const scaleout: Scenario = async (ctx) => {
  if (ctx.store !== 'postgres') {
    throw new Error('scaleout runs on PostgreSQL only (worker processes share the database): set HERALD_DATABASE_URL=postgres://… to a dedicated database');
  }
  const counts = ctx.sizes.scaleoutWorkers;
  ctx.log(`scaleout: the throughput layout (${int(ctx.sizes.events)} events, ${SHARDS} webhooks) on an API node plus ${counts.join(', ')} worker processes`);
  const bare = await bareSweep(ctx, 'scaleout', throughputTraffic(ctx, SHARDS, 'so'));
  const rows: Row[] = [];
  const details: Record<string, unknown> = { events: ctx.sizes.events, webhooks: SHARDS, baseline: sweepDetails(bare) };
  let one: number | null = null;
  for (const workers of counts) {
    const label = `scaleout ${workers}w`;
    await ctx.receiver.reset();
    const run = await startRun({ ...ctx, workers }, `scaleout${workers}`, 'all');
    const herald = await measureThroughput(ctx, run, { webhooks: SHARDS, prefix: 'so', label });
    await stopRun(ctx, run, { workspaces: herald.workspaces });
    if (workers === 1) one = herald.perSecond;
    const ratio = herald.perSecond / bare.best.perSecond;
    ctx.log(`  => ${workers} worker${workers === 1 ? '' : 's'}: ${int(herald.perSecond)}/s (${(ratio * 100).toFixed(1)}% of best bare)`);
    rows.push(
      {
        scenario: label, measure: 'deliveries/s', unit: '/s', herald: herald.perSecond, baseline: bare.best.perSecond, baselineNote: `@${bare.best.connections}`, ratio,
        // Issue 16: more workers must not deliver less than one.
        target: workers > 1 ? '≥ 1 worker\'s rate' : '(none)', pass: workers > 1 && one !== null ? herald.complete && herald.perSecond >= one : herald.complete ? null : false,
      },
      ...costRows(label, herald.costs, bare.best.cpuPerPostUs, ctx.store),
    );
    details[`workers${workers}`] = { ...herald.details, shareOfBest: round3(ratio) };
  }
  return { rows, details };
};
