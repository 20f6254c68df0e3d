// Scenario "contracts" (issue 14): what a topic schema and Ed25519 signing cost end to end.
// The throughput layout (events through the batch API, 20 workspaces with one webhook each,
// one delivery per event) is run three times on fresh Herald processes: plain (HMAC only, no
// schema), with a JSON Schema on the topic (every event's data validated at publish), and
// with the schema and `signing: "ed25519"` on every webhook (a v1a signature per attempt).
// The plain run is the baseline column; there is no bare-undici run here.

import { publishAll, waitForCount } from './load.js';
import { TOPIC, wallNow } from './payload.js';
import { int, mb, round1, round3, type Row } from './report.js';
import { costRows, meter, type Costs } from './costs.js';
import { deadlineFrom, diagnose, diedWithLog, guard, heraldPids, rate, rss, shardedSetup, startRun, stopRun, type Ctx, type ScenarioResult } from './scenarios.js';

/** A schema for the walletreward_create data that bench/payload.ts sends: every field typed, most required, one pattern. */
export const WALLET_REWARD_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  properties: {
    id: { type: 'string', minLength: 1 },
    lead_id: { type: 'string' },
    customer_id: { type: 'string', pattern: '^[0-9]{1,20}$' },
    name: { type: 'string', maxLength: 200 },
    metadetail: {
      type: 'object',
      properties: { email: { type: 'string' }, mobile: { type: 'string' }, country: { type: 'string' }, dob: { type: 'string', format: 'date' } },
    },
    referral_code: { type: 'string' },
    title: { type: 'string' },
    description: { type: 'string' },
    amount: { type: 'integer', minimum: 0 },
    operation: { enum: ['cr', 'dr'] },
    type: { type: 'string' },
    hash: { type: 'string' },
    status: { enum: ['pending', 'available', 'expired'] },
    wallet: { type: 'object', properties: { available: { type: 'number' } }, required: ['available'] },
    pending: { type: 'number' },
    created_at: { type: 'string', format: 'date-time' },
    seq: { type: 'integer' },
    sent_at: { type: 'number' },
  },
  required: ['id', 'customer_id', 'amount', 'operation', 'status', 'created_at'],
} as const;

interface Variant {
  name: string;
  schema: boolean;
  signing: 'hmac' | 'ed25519';
}

const VARIANTS: Variant[] = [
  { name: 'plain', schema: false, signing: 'hmac' },
  { name: 'schema', schema: true, signing: 'hmac' },
  { name: 'schema+ed25519', schema: true, signing: 'ed25519' },
];

interface Measured {
  deliveriesPerSecond: number;
  publishEventsPerSecond: number;
  complete: boolean;
  reason: string;
  received: number;
  seconds: number;
  peakRssMB: number | null;
  /** Signatures seen on one stored attempt's webhook-signature header. */
  signatures: string | null;
  costs: Costs;
}

async function runVariant(ctx: Ctx, v: Variant): Promise<Measured> {
  const { events: N, batchSize, publishConcurrency } = ctx.sizes;
  await ctx.receiver.reset();
  const run = await startRun(ctx, `contracts-${v.name.replace('+', '-')}`, 'all');
  if (v.schema) await run.api.call('PATCH', `/api/v1/topics/${TOPIC}`, { schema: WALLET_REWARD_SCHEMA });
  const ws = await shardedSetup(ctx, run.api, `ct${VARIANTS.indexOf(v)}`, (i) => `${ctx.receiver.url}/c/${i}`, v.signing);
  const costs = await meter(heraldPids(run), ctx.databaseUrl);
  const t0 = wallNow();
  let published = 0;
  const publishing = publishAll(run.api, { events: N, batchSize, concurrency: publishConcurrency, workspaceOf: (k) => ws[k % ws.length]! }, (p) => (published = p));
  const waiting = waitForCount({
    receiver: ctx.receiver, prefix: 'c', expected: N, label: `contracts/${v.name}`, log: ctx.log, startedAt: t0,
    stallMs: 60_000, deadline: deadlineFrom(ctx, t0), extra: () => `published ${int(published)}  ${rss(run.herald)}`, diagnose: diagnose(run), died: () => diedWithLog(run),
  });
  const [pub, got] = await guard(run, Promise.all([publishing, waiting]));
  const cost = await costs.finish(got.count);
  const stats = await ctx.receiver.stats();
  const mem = run.herald.memory();
  // What was sent, from one stored attempt: "v1" or "v1 v1a".
  const [first] = (await run.api.call<{ data: { id: string }[] }>('GET', `/api/v1/workspaces/${ws[0]}/deliveries?limit=1`)).data;
  const detail = first ? await run.api.call<{ attempts: { request_headers: Record<string, string> }[] }>('GET', `/api/v1/workspaces/${ws[0]}/deliveries/${first.id}`) : null;
  const header = detail?.attempts[0]?.request_headers['webhook-signature'];
  await stopRun(ctx, run, { workspaces: ws });
  const lastAt = stats.prefixes.c?.lastAt ?? got.endedAt;
  return {
    deliveriesPerSecond: rate(got.count, t0, got.complete ? lastAt : got.endedAt),
    publishEventsPerSecond: rate(N, t0, pub.finishedAt),
    complete: got.complete,
    reason: got.reason,
    received: got.count,
    seconds: round3(((got.complete ? lastAt : got.endedAt) - t0) / 1000),
    peakRssMB: mem ? mb(mem.peak) : null,
    signatures: header ? header.split(' ').map((s) => s.slice(0, s.indexOf(','))).join(' ') : null,
    costs: cost,
  };
}

export async function contracts(ctx: Ctx): Promise<ScenarioResult> {
  ctx.log(`contracts: ${int(ctx.sizes.events)} events through the batch API, three runs: ${VARIANTS.map((v) => v.name).join(', ')}`);
  const results: Record<string, Measured> = {};
  for (const v of VARIANTS) {
    results[v.name] = await runVariant(ctx, v);
    const r = results[v.name]!;
    ctx.log(`  => ${v.name}: ${int(r.deliveriesPerSecond)} deliveries/s, publish ${int(r.publishEventsPerSecond)} events/s, signatures "${r.signatures}"`);
  }
  const plain = results.plain!;
  const rows: Row[] = [];
  for (const v of VARIANTS.slice(1)) {
    const r = results[v.name]!;
    rows.push(
      {
        scenario: `contracts: ${v.name}`, measure: 'publish events/s', unit: '/s', herald: r.publishEventsPerSecond, baseline: plain.publishEventsPerSecond,
        ratio: r.publishEventsPerSecond / plain.publishEventsPerSecond, ratioOf: 'of plain', target: 'report', pass: null,
      },
      {
        scenario: `contracts: ${v.name}`, measure: 'deliveries/s', unit: '/s', herald: r.deliveriesPerSecond, baseline: plain.deliveriesPerSecond,
        ratio: r.deliveriesPerSecond / plain.deliveriesPerSecond, ratioOf: 'of plain', target: 'report', pass: r.complete ? null : false,
      },
      // The "bare" column is the plain run's CPU per delivery here.
      ...costRows(`contracts: ${v.name}`, r.costs, plain.costs.cpuPerItemUs, ctx.store).map((row) => ({
        ...row, measure: row.measure.replace(' (bare: /POST)', ''), baseline: row.unit === 'B' ? plain.costs.bytesPerItem : row.baseline,
        ratioOf: 'of plain', target: 'report', pass: null,
      })),
    );
  }
  const details: Record<string, unknown> = { events: ctx.sizes.events, webhooks: 20 };
  for (const [name, r] of Object.entries(results)) {
    details[name] = { ...r, deliveriesPerSecond: round1(r.deliveriesPerSecond), publishEventsPerSecond: round1(r.publishEventsPerSecond) };
  }
  return { rows, details };
}
