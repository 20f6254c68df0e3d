// The fifo scenario (issue 13): many ordered webhooks (ordering "fifo") on one topic, each
// getting every event one at a time in publish order. What bounds one fifo webhook is one
// round trip per event (send, record, claim the next); many run side by side, so the
// aggregate rate is what this measures, beside the plain throughput scenario's when it ran.
import { publishAll, waitForCount } from './load.js';
import { TOPIC } from './payload.js';
import { int, round1, round3 } from './report.js';
import { costRows, describeCosts, meter } from './costs.js';
import { deadlineFrom, diagnose, diedWithLog, guard, heraldPids, rate, startRun, stopRun, type Scenario } from './scenarios.js';

export const fifo: Scenario = async (ctx) => {
  const webhooks = Math.min(100, ctx.sizes.fanoutWebhooks);
  const events = Math.min(1000, Math.max(50, Math.round(ctx.sizes.events / 100)));
  const expected = webhooks * events;
  ctx.log(`fifo: ${webhooks} fifo webhooks × ${int(events)} events on one topic = ${int(expected)} ordered deliveries`);
  await ctx.receiver.reset();
  const run = await startRun(ctx, 'fifo', 'all');
  const ws = `${ctx.runId}-fifo`;
  await run.api.workspace(ws, 'Bench FIFO', 'https://fifo.bench.example');
  for (let i = 0; i < webhooks; i++) {
    const id = await run.api.webhook(ws, TOPIC, `${ctx.receiver.url}/f/${i}`);
    await run.api.call('PATCH', `/api/v1/workspaces/${ws}/webhooks/${id}`, { ordering: 'fifo' });
  }
  const costs = await meter(heraldPids(run), ctx.databaseUrl);
  const t0 = Date.now();
  const publishing = publishAll(run.api, { events, batchSize: Math.min(100, ctx.sizes.batchSize), concurrency: 1, workspaceOf: () => ws });
  const waiting = waitForCount({
    receiver: ctx.receiver, prefix: 'f', expected, label: 'fifo', log: ctx.log, startedAt: t0, stallMs: 60_000,
    deadline: deadlineFrom(ctx, t0), diagnose: diagnose(run), died: () => diedWithLog(run),
  });
  const [, got] = await guard(run, Promise.all([publishing, waiting]));
  const cost = await costs.finish(got.count);
  const stats = await ctx.receiver.stats({ prefix: 'f' });
  await stopRun(ctx, run, { workspaces: [ws] });
  const lastAt = stats.prefixes.f?.lastAt ?? got.endedAt;
  const fifoRate = rate(got.count, t0, got.complete ? lastAt : got.endedAt);
  const plain = ctx.throughput?.herald ?? null;
  ctx.log(`  => fifo ${int(fifoRate)} deliveries/s (${round1(fifoRate / webhooks)}/s per webhook)${plain ? `, plain throughput ${int(plain)}/s` : ''}; ${describeCosts(cost)}`);
  return {
    rows: [{
      scenario: 'fifo', measure: 'deliveries/s', unit: '/s', herald: fifoRate, baseline: plain, ratio: plain ? fifoRate / plain : null, ratioOf: plain ? 'of plain throughput' : undefined,
      target: 'ordered; one round trip per event per webhook', pass: got.complete && stats.duplicates === 0,
    }, ...costRows('fifo', cost, null, ctx.store)],
    details: {
      webhooks, events, received: got.count, complete: got.complete, duplicates: stats.duplicates, seconds: round3((lastAt - t0) / 1000),
      deliveriesPerSecond: round1(fifoRate), perWebhookPerSecond: round1(fifoRate / webhooks), plainThroughput: plain, costs: cost,
    },
  };
};
