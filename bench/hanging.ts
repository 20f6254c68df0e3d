// The hanging-receiver scenarios of issue 15: N webhooks whose receivers misbehave in five
// ways (bench/receiver.ts: never answer, answer after 11 s, drip the body, drip the headers,
// announce a huge body), in a workspace of their own whose events go to all of them, beside
// 10 healthy webhooks (a workspace each) published to at a steady rate. Each runs Herald twice,
// without the hanging webhooks and with them, and compares the healthy deliveries: latency
// (publish → receipt p50, p99, max) and rate. The healthy webhooks answer for a couple of
// seconds before the hanging ones get their first event (they are established webhooks).

import { HeraldApi } from './client.js';
import { paced, sleep, waitForCount } from './load.js';
import { TOPIC, walletReward, wallNow } from './payload.js';
import { costRows, meter, type Costs } from './costs.js';
import { int, round1, type Row } from './report.js';
import { deadlineFrom, diagnose, diedWithLog, guard, heraldPids, rate, rss, shopName, shopUri, startRun, stopRun, type Ctx, type Scenario } from './scenarios.js';

const HEALTHY = 10;
const KINDS = ['never', 'late', 'dripbody', 'dripheads', 'huge'] as const;
const WARMUP_MS = 2_000;

interface Measured {
  p50: number | null;
  p99: number | null;
  max: number | null;
  perSecond: number;
  received: number;
  expected: number;
  complete: boolean;
  hangingRequests: number;
  hangingEvents: number;
  skipped: number;
  costs: Costs;
}

async function createWebhooks(api: HeraldApi, ws: string, urls: string[]): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < urls.length) await api.webhook(ws, TOPIC, urls[next++]!);
  }));
}

/** Publishes `rate` single events per second to the workspace(s) for `ms`; returns how many were accepted. */
async function publishAt(api: HeraldApi, workspaces: string[], perSecond: number, ms: number, first: number) {
  let accepted = 0;
  let failed = 0;
  const sent = await paced(perSecond, ms, 2000, async (i) => {
    const data = walletReward(first + i);
    data.sent_at = wallNow();
    try {
      await api.call('POST', `/api/v1/workspaces/${workspaces[i % workspaces.length]}/events`, { topic: TOPIC, data }, 30_000);
      accepted++;
    } catch {
      failed++;
    }
  });
  return { accepted, failed, skipped: sent.skipped };
}

async function measure(ctx: Ctx, label: string, hangingCount: number, hangingRate: number): Promise<Measured> {
  const recv = ctx.receiver.url;
  const seconds = ctx.sizes.hangSeconds;
  await ctx.receiver.reset();
  const run = await startRun(ctx, label, 'all');
  const healthy: string[] = [];
  for (let i = 0; i < HEALTHY; i++) {
    const ws = `${ctx.runId}-${label.replace(/_/g, '-')}-ok${i}`;
    await run.api.workspace(ws, shopName(i), shopUri(i));
    await run.api.webhook(ws, TOPIC, `${recv}/hok/${i}`);
    healthy.push(ws);
  }
  const bad = `${ctx.runId}-${label.replace(/_/g, '-')}-bad`;
  if (hangingCount > 0) {
    await run.api.workspace(bad, shopName(99), shopUri(99));
    const t = wallNow();
    await createWebhooks(run.api, bad, Array.from({ length: hangingCount }, (_, i) => `${recv}/hang/${KINDS[i % KINDS.length]}/${i}`));
    ctx.log(`  ${int(hangingCount)} hanging webhooks created in ${((wallNow() - t) / 1000).toFixed(1)} s`);
  }
  const healthyRate = ctx.sizes.hangHealthyRate;
  const warm = await guard(run, publishAt(run.api, healthy, healthyRate, WARMUP_MS, 0));
  const costs = await meter(heraldPids(run), ctx.databaseUrl);
  const since = wallNow();
  ctx.log(`  [${label}] ${seconds} s: ${int(healthyRate)} healthy events/s` +
    (hangingCount > 0 ? `, ${hangingRate} events/s to the ${int(hangingCount)} hanging webhooks (${int(hangingRate * hangingCount)} deliveries/s)` : ''));
  const [good, hung] = await guard(run, Promise.all([
    publishAt(run.api, healthy, healthyRate, seconds * 1000, 1_000_000),
    hangingCount > 0 ? publishAt(run.api, [bad], hangingRate, seconds * 1000, 2_000_000) : Promise.resolve({ accepted: 0, failed: 0, skipped: 0 }),
  ]));
  const expected = warm.accepted + good.accepted;
  const got = await waitForCount({
    receiver: ctx.receiver, prefix: 'hok', expected, label, log: ctx.log, startedAt: since,
    stallMs: 30_000, deadline: deadlineFrom(ctx, wallNow(), 120),
    extra: () => rss(run.herald), diagnose: diagnose(run), died: () => diedWithLog(run),
  });
  // Per healthy delivery (counted from `since`): the hanging webhooks' attempts are what it carries here.
  const cost = await costs.finish(got.count - warm.accepted);
  const stats = await ctx.receiver.stats({ latency: true, since, prefix: 'hok' });
  await stopRun(ctx, run, { graceMs: ctx.timeoutMs + 5000 });
  const lat = stats.latency!;
  const lastAt = stats.prefixes.hok?.lastAt ?? got.endedAt;
  const failed = warm.failed + good.failed + hung.failed;
  if (failed > 0) ctx.log(`  warning: ${failed} publishes failed`);
  return {
    p50: lat.p50, p99: lat.p99, max: lat.max, perSecond: rate(lat.n, since, lastAt), received: got.count, expected,
    complete: got.complete && failed === 0 && good.skipped === 0 && hung.skipped === 0,
    hangingRequests: stats.hangTotal, hangingEvents: hung.accepted, skipped: warm.skipped + good.skipped + hung.skipped, costs: cost,
  };
}

/** The scenario with `count` hanging webhooks, whose workspace gets `perSecond` events a second. */
export function hanging(count: number, perSecond: number): Scenario {
  return async (ctx) => {
    const name = `hanging${count}`;
    ctx.log(`${name}: ${HEALTHY} healthy webhooks at ${int(ctx.sizes.hangHealthyRate)} events/s, without and then beside ${int(count)} hanging ` +
      `webhooks (${KINDS.join(', ')}) getting ${perSecond} events/s each; ${ctx.timeoutMs} ms timeout`);
    const without = await measure(ctx, `${name}_ref`, 0, 0);
    ctx.log(`  => without: healthy p50 ${without.p50} ms, p99 ${without.p99} ms, max ${without.max} ms, ${int(without.perSecond)}/s`);
    await sleep(1000);
    const beside = await measure(ctx, name, count, perSecond);
    const share = beside.perSecond / without.perSecond;
    ctx.log(`  => beside ${int(count)} hanging: healthy p50 ${beside.p50} ms, p99 ${beside.p99} ms, max ${beside.max} ms, ` +
      `${int(beside.perSecond)}/s (${(share * 100).toFixed(1)}%); ${int(beside.hangingRequests)} hanging requests`);
    const scenario = `${name}`;
    const ms = (measure: string, h: number | null, b: number | null, target: string, pass: boolean | null): Row =>
      ({ scenario, measure: `healthy ${measure}`, unit: 'ms', herald: h, baseline: b, ratio: null, target, pass });
    const ok = beside.complete;
    return {
      rows: [
        ms('p50', beside.p50, without.p50, '(none)', null),
        ms('p99', beside.p99, without.p99, '≤ 100 ms', ok && beside.p99 !== null && beside.p99 <= 100),
        ms('max', beside.max, without.max, '≤ 1000 ms', ok && beside.max !== null && beside.max <= 1000),
        {
          scenario, measure: 'healthy deliveries/s', unit: '/s', herald: beside.perSecond, baseline: without.perSecond, ratio: share,
          ratioOf: 'of without', target: '≥ 90% of without', pass: ok && share >= 0.9,
        },
        // Beside the hanging webhooks, per healthy delivery; the "bare" column is the run without them.
        ...costRows(scenario, beside.costs, without.costs.cpuPerItemUs, ctx.store).map((r) => ({
          ...r, measure: r.measure.replace('delivery (bare: /POST)', 'healthy delivery').replace('/delivery', '/healthy delivery'), target: '(none)', pass: null, ratioOf: 'of without',
        })),
      ],
      details: {
        hangingWebhooks: count, kinds: KINDS, hangingEventsPerSecond: perSecond, healthyWebhooks: HEALTHY,
        healthyEventsPerSecond: ctx.sizes.hangHealthyRate, seconds: ctx.sizes.hangSeconds, timeoutMs: ctx.timeoutMs,
        without: { ...without, perSecond: round1(without.perSecond) },
        beside: { ...beside, perSecond: round1(beside.perSecond) },
      },
    };
  };
}
