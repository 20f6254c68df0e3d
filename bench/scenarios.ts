// The five scenarios of issue 6 (and, from hanging.ts, the hanging-receiver ones of issue 15). Each runs the bare undici baseline and then Herald (a fresh
// child process with a fresh data directory) against the same receiver, and returns the rows
// of the results table plus the details that go into the JSON file. The baseline goes first so
// that it is not disturbed by what a Herald run leaves behind (a database checkpointing,
// sockets closing).

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HeraldApi, type Receiver } from './client.js';
import { bareSweep, sweepDetails, type SweepTraffic } from './baseline.js';
import { costRows, describeCosts, meter } from './costs.js';
import { paced, publishAll, sleep, waitForCount, type Log } from './load.js';
import { TOPIC, deliveredBody, shopName, shopUri, walletReward, wallNow } from './payload.js';
import { startHerald, type HeraldProcess } from './processes.js';
import { int, mb, round1, round3, summarise, type Row } from './report.js';
import { hanging } from './hanging.js';
// contracts.ts, fifo.ts, burst.ts and scaleout.ts use this file's helpers at run time only, so the import cycles are harmless.
import { contracts } from './contracts.js';
import { fifo } from './fifo.js';
import { burst } from './burst.js';
import { scaleout } from './scaleout.js';

export interface Sizes {
  events: number;
  batchSize: number;
  publishConcurrency: number;
  fanoutWebhooks: number;
  fanoutEvents: number;
  latencyRate: number;
  latencySeconds: number;
  backlog: number;
  /** Burst scenario: events of the burst, then the paced run's rate and seconds. */
  burst: number;
  burstRate: number;
  burstSeconds: number;
  /** Scaleout scenario: worker process counts beside the API node. */
  scaleoutWorkers: number[];
  badEvents: number;
  badWindowSeconds: number;
  /** Hanging scenarios: seconds measured, and healthy events per second. */
  hangSeconds: number;
  hangHealthyRate: number;
  /** Upper bound on any one wait for deliveries. */
  maxWaitSeconds: number;
}

export interface Ctx {
  root: string;
  runId: string;
  tmpRoot: string;
  resultsDir: string;
  stamp: string;
  store: 'sqlite' | 'postgres';
  databaseUrl?: string;
  adminKey: string;
  concurrency: number;
  /** With PostgreSQL: run an API node plus this many worker processes instead of one node. */
  workers: number;
  timeoutMs: number;
  receiver: Receiver;
  /** The receiver's process, whose CPU per request shows whether it is what limits a run. */
  receiverPid: number;
  sizes: Sizes;
  cpuProfile: boolean;
  keepData: boolean;
  profiles: string[];
  log: Log;
  benchDir: string;
  /** Connection counts of the bare baseline's sweep (--bare-sweep). */
  bareSweep: number[];
  /** One line per sweep run, printed under the table. */
  sweeps: { scenario: string; line: string }[];
  /** Set by the throughput scenario; bad neighbour compares against it. */
  throughput?: { herald: number; baseline: number };
}

export interface ScenarioResult {
  rows: Row[];
  details: Record<string, unknown>;
}

export type Scenario = (ctx: Ctx) => Promise<ScenarioResult>;

/** Workspaces of the sharded layouts: each gets one webhook on walletreward_create. */
export const SHARDS = 20;

export { shopName, shopUri };

// ---- Herald's lifecycle within a scenario ---------------------------------------------------

export interface Run {
  herald: HeraldProcess;
  /** Worker processes beside an API node (--workers). */
  workers: HeraldProcess[];
  api: HeraldApi;
  dataDir: string;
  /** PostgreSQL schema of this run's tables (HERALD_DATABASE_SCHEMA), or undefined on SQLite. */
  schema?: string;
}

let starts = 0;

export async function startRun(ctx: Ctx, scenario: string, role: 'all' | 'api', dataDir?: string, connections = 32): Promise<Run> {
  const dir = dataDir ?? mkdtempSync(join(ctx.tmpRoot, `${scenario}-`));
  mkdirSync(join(ctx.tmpRoot, 'logs'), { recursive: true });
  const n = ++starts;
  // On PostgreSQL every scenario gets a schema of its own (Herald creates it), dropped afterwards.
  const schema = ctx.store === 'postgres' ? `${ctx.runId}_${scenario}`.toLowerCase().replace(/[^a-z0-9_]/g, '_') : undefined;
  const profileDir = join(ctx.resultsDir, `${ctx.stamp}-${ctx.store}-${scenario}-${role}-profiles`);
  const split = role === 'all' && ctx.workers > 0 && ctx.store === 'postgres';
  const herald = await startHerald({
    root: ctx.root,
    dataDir: dir,
    role: split ? 'api' : role,
    adminKey: ctx.adminKey,
    concurrency: ctx.concurrency,
    databaseUrl: ctx.databaseUrl,
    env: {
      HERALD_DELIVERY_TIMEOUT_MS: String(ctx.timeoutMs),
      ...(schema ? { HERALD_DATABASE_SCHEMA: schema } : {}),
    },
    cpuProfileDir: ctx.cpuProfile ? profileDir : undefined,
    logFile: join(ctx.tmpRoot, 'logs', `herald-${n}-${scenario}-${role}.log`),
  });
  if (ctx.cpuProfile) ctx.profiles.push(profileDir);
  ctx.log(`  Herald started (role ${split ? 'api' : role}, pid ${herald.pid}, ${herald.url})`);
  const workers: HeraldProcess[] = [];
  for (let i = 0; split && i < ctx.workers; i++) {
    const w = await startHerald({
      root: ctx.root, dataDir: dir, role: 'worker', adminKey: ctx.adminKey, concurrency: ctx.concurrency, databaseUrl: ctx.databaseUrl,
      env: { HERALD_DELIVERY_TIMEOUT_MS: String(ctx.timeoutMs), ...(schema ? { HERALD_DATABASE_SCHEMA: schema } : {}) },
      logFile: join(ctx.tmpRoot, 'logs', `herald-${n}-${scenario}-worker${i + 1}.log`),
    });
    ctx.log(`  worker ${i + 1} started (pid ${w.pid})`);
    workers.push(w);
  }
  return { herald, workers, api: new HeraldApi(herald.url, ctx.adminKey, connections), dataDir: dir, schema };
}

export async function stopRun(ctx: Ctx, run: Run, options: { workspaces?: string[]; keepDir?: boolean; graceMs?: number } = {}): Promise<void> {
  await run.api.close().catch(() => undefined);
  await Promise.all(run.workers.map((w) => w.stop(options.graceMs ?? 15_000)));
  await run.herald.stop(options.graceMs ?? 15_000);
  if (options.keepDir || ctx.keepData) return;
  rmSync(run.dataDir, { recursive: true, force: true });
  if (run.schema && ctx.databaseUrl) await dropSchema(ctx, run.schema);
}

async function dropSchema(ctx: Ctx, schema: string): Promise<void> {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: ctx.databaseUrl });
  try {
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } catch (err) {
    ctx.log(`  warning: could not drop schema ${schema}: ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether Herald's event loop still answers: a stalled delivery count is often a starved loop. */
export function diagnose(run: Run): () => Promise<string> {
  return async () => {
    const t = wallNow();
    try {
      await run.api.call('GET', '/healthz', undefined, 5000);
      return `Herald answers GET /healthz in ${(wallNow() - t).toFixed(1)} ms; ${rss(run.herald)}`;
    } catch (err) {
      return `Herald does not answer GET /healthz within 5 s (${(err as Error).message.slice(0, 80)}): its event loop is blocked or it is stuck; ${rss(run.herald)}`;
    }
  };
}

/** Where Herald's memory is, from its Prometheus default metrics (V8 heap, external, RSS), in MB. */
async function memoryBreakdown(run: Run): Promise<Record<string, number> | null> {
  try {
    const res = await run.api.pool.request({ path: '/metrics', method: 'GET', headersTimeout: 10_000, bodyTimeout: 10_000 });
    const text = await res.body.text();
    const out: Record<string, number> = {};
    const wanted: Record<string, string> = {
      heapUsedMB: 'nodejs_heap_size_used_bytes',
      heapTotalMB: 'nodejs_heap_size_total_bytes',
      externalMB: 'nodejs_external_memory_bytes',
      residentMB: 'process_resident_memory_bytes',
    };
    for (const [key, metric] of Object.entries(wanted)) {
      const m = new RegExp(`^\\w*${metric}(?:\\{[^}]*\\})? ([0-9.e+]+)`, 'm').exec(text);
      if (m) out[key] = mb(Number(m[1]));
    }
    return Object.keys(out).length ? out : null;
  } catch {
    return null;
  }
}

/** Rejections while Herald is dead say so (with its last output) rather than "connection refused". */
export async function guard<T>(run: Run, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    await sleep(200); // let the exit event arrive
    const death = diedWithLog(run);
    if (death !== null) throw new Error(death, { cause: err });
    throw err;
  }
}

/** Herald's death, with the end of its output, or null while it lives. */
export function diedWithLog(run: Run): string | null {
  const death = run.herald.died();
  return death === null ? null : `${death}\n--- Herald output ---\n${run.herald.logTail(30)}\n---`;
}

/** Every process of a run: the node (or API node) and its worker processes. */
export const heraldPids = (run: Run): number[] => [run.herald.pid, ...run.workers.map((w) => w.pid)];

export function rss(herald: HeraldProcess): string {
  const m = herald.memory();
  return m ? `Herald RSS ${mb(m.rss)} MB` : '';
}

export async function shardedSetup(ctx: Ctx, api: HeraldApi, tag: string, urlOf: (i: number) => string, signing: 'hmac' | 'ed25519' = 'hmac', count = SHARDS): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = `${ctx.runId}-${tag}-${i}`;
    await api.workspace(id, shopName(i), shopUri(i));
    await api.webhook(id, TOPIC, urlOf(i), signing);
    ids.push(id);
  }
  return ids;
}

export function deadlineFrom(ctx: Ctx, start: number, seconds?: number): number {
  return start + 1000 * Math.min(ctx.sizes.maxWaitSeconds, seconds ?? ctx.sizes.maxWaitSeconds);
}

export const rate = (count: number, fromMs: number, toMs: number) => (count * 1000) / Math.max(1, toMs - fromMs);

// ---- 1. throughput (20 webhooks) and throughput1 (one) ---------------------------------------

/**
 * Events through the batch API, one delivery each, to `webhooks` workspaces with one webhook each
 * (batches round-robin over them); the bare baseline sends the same bodies to the same paths.
 * Also used by the scaleout scenario (bench/scaleout.ts) with its own Herald processes.
 */
export async function measureThroughput(ctx: Ctx, run: Run, o: { webhooks: number; prefix: string; label: string }) {
  const { events: N, batchSize, publishConcurrency } = ctx.sizes;
  const ws = await shardedSetup(ctx, run.api, o.prefix, (i) => `${ctx.receiver.url}/${o.prefix}/${i}`, 'hmac', o.webhooks);
  const costs = await meter(heraldPids(run), ctx.databaseUrl);
  const receiverCosts = await meter([ctx.receiverPid]);
  const t0 = wallNow();
  let published = 0;
  const publishing = publishAll(run.api, { events: N, batchSize, concurrency: publishConcurrency, workspaceOf: (k) => ws[k % ws.length]! }, (p) => (published = p));
  const waiting = waitForCount({
    receiver: ctx.receiver, prefix: o.prefix, expected: N, label: `${o.label}/herald`, log: ctx.log, startedAt: t0,
    stallMs: 60_000, deadline: deadlineFrom(ctx, t0), extra: () => `published ${int(published)}  ${rss(run.herald)}`, diagnose: diagnose(run), died: () => diedWithLog(run),
  });
  const [pub, got] = await guard(run, Promise.all([publishing, waiting]));
  const cost = await costs.finish(got.count);
  const receiverCpuPerRequestUs = (await receiverCosts.finish(got.count)).cpuPerItemUs;
  const stats = await ctx.receiver.stats({ latency: true });
  const mem = run.herald.memory();
  const lastAt = stats.prefixes[o.prefix]?.lastAt ?? got.endedAt;
  const perSecond = rate(got.count, t0, got.complete ? lastAt : got.endedAt);
  if (pub.deliveries !== N) ctx.log(`  warning: Herald queued ${pub.deliveries} deliveries for ${N} events`);
  ctx.log(`  Herald: ${int(perSecond)} deliveries/s; ${describeCosts(cost)}`);
  return {
    perSecond, complete: got.complete, costs: cost, workspaces: ws,
    details: {
      deliveriesPerSecond: round1(perSecond), received: got.count, complete: got.complete, reason: got.reason, seconds: round3((lastAt - t0) / 1000),
      publishSeconds: round3((pub.finishedAt - t0) / 1000), publishEventsPerSecond: round1(rate(N, t0, pub.finishedAt)),
      duplicates: stats.duplicates, peakRssMB: mem ? mb(mem.peak) : null, latencyUnderLoadMs: stats.latency, costs: cost, receiverCpuPerRequestUs,
    },
  };
}

/** The bare traffic of the throughput layout: batches of batchSize round-robin over `webhooks` paths. */
export const throughputTraffic = (ctx: Ctx, webhooks: number, prefix: string): SweepTraffic =>
  ({ count: ctx.sizes.events, prefix, shards: webhooks, layout: 'grouped', group: ctx.sizes.batchSize, stamp: true });

function throughputOf(name: string, webhooks: number, prefix: string, target: number): Scenario {
  return async (ctx) => {
    const { events: N, batchSize, publishConcurrency } = ctx.sizes;
    ctx.log(`${name}: ${int(N)} events through the batch API (${batchSize} per request, ${publishConcurrency} requests at once), ` +
      `${webhooks === 1 ? 'one workspace with one webhook' : `${webhooks} workspaces with one webhook each`}, one delivery per event`);
    const bare = await bareSweep(ctx, name, throughputTraffic(ctx, webhooks, prefix), { latency: true, heraldHeaders: true });
    await ctx.receiver.reset();
    const run = await startRun(ctx, name, 'all');
    const herald = await measureThroughput(ctx, run, { webhooks, prefix, label: name });
    await stopRun(ctx, run, { workspaces: herald.workspaces });
    const bareRate = bare.best.perSecond;
    if (webhooks === SHARDS) ctx.throughput = { herald: herald.perSecond, baseline: bareRate };
    const ratio = herald.perSecond / bareRate;
    ctx.log(`  => Herald ${int(herald.perSecond)}/s, best bare ${int(bareRate)}/s (${bare.best.connections} connections), ratio ${(ratio * 100).toFixed(1)}%`);
    const targetText = `≥ ${Math.round(target * 100)}% of best bare`;
    return {
      rows: [
        {
          scenario: name, measure: 'deliveries/s', unit: '/s', herald: herald.perSecond, baseline: bareRate, baselineNote: `@${bare.best.connections}`, ratio,
          target: targetText, pass: ratio >= target && herald.complete,
        },
        ...costRows(name, herald.costs, bare.best.cpuPerPostUs, ctx.store),
      ],
      details: { events: N, webhooks, herald: herald.details, baseline: sweepDetails(bare) },
    };
  };
}

/** PostgreSQL's throughput target (issue 16) is lower: the database server shares the 2 cores. */
const throughputTarget = (ctx: Ctx, sqlite: number) => (ctx.store === 'postgres' ? 0.3 : sqlite);

export const throughput: Scenario = (ctx) => throughputOf('throughput', SHARDS, 't', throughputTarget(ctx, 0.5))(ctx);
export const throughput1: Scenario = (ctx) => throughputOf('throughput1', 1, 'one', throughputTarget(ctx, 0.45))(ctx);

// ---- 2. fan-out ------------------------------------------------------------------------------

export const fanOut: Scenario = async (ctx) => {
  const H = ctx.sizes.fanoutWebhooks;
  const E = ctx.sizes.fanoutEvents;
  const N = H * E;
  const recv = ctx.receiver.url;
  ctx.log(`fan-out: one workspace, ${int(H)} webhooks on ${TOPIC}, ${int(E)} events = ${int(N)} deliveries`);

  const bare = await bareSweep(ctx, 'fanout', { count: N, prefix: 'f', shards: H, layout: 'fanout', group: 1, stamp: true });
  const bareRate = bare.best.perSecond;

  await ctx.receiver.reset();
  const run = await startRun(ctx, 'fanout', 'all');
  const ws = `${ctx.runId}-fo`;
  await run.api.workspace(ws, shopName(0), shopUri(0));
  const setup0 = wallNow();
  let made = 0;
  await Promise.all(Array.from({ length: 8 }, async (_, lane) => {
    for (let j = lane; j < H; j += 8) {
      await run.api.webhook(ws, TOPIC, `${recv}/f/${j}`);
      made++;
    }
  }));
  ctx.log(`  ${int(made)} webhooks created in ${((wallNow() - setup0) / 1000).toFixed(1)} s`);
  const costs = await meter(heraldPids(run), ctx.databaseUrl);
  const t0 = wallNow();
  const batchSize = Math.max(1, Math.min(ctx.sizes.batchSize, Math.floor(100_000 / H)));
  let published = 0;
  const publishing = publishAll(run.api, { events: E, batchSize, concurrency: 2, workspaceOf: () => ws }, (p) => (published = p));
  const waiting = waitForCount({
    receiver: ctx.receiver, prefix: 'f', expected: N, label: 'fan-out/herald', log: ctx.log, startedAt: t0,
    stallMs: 60_000, deadline: deadlineFrom(ctx, t0), extra: () => `published ${int(published)}  ${rss(run.herald)}`, diagnose: diagnose(run), died: () => diedWithLog(run),
  });
  const [pub, got] = await guard(run, Promise.all([publishing, waiting]));
  const cost = await costs.finish(got.count);
  const stats = await ctx.receiver.stats({ latency: true });
  const mem = run.herald.memory();
  await stopRun(ctx, run, { workspaces: [ws] });
  const heraldRate = rate(got.count, t0, got.complete ? (stats.prefixes.f?.lastAt ?? got.endedAt) : got.endedAt);
  if (pub.deliveries !== N) ctx.log(`  warning: Herald queued ${pub.deliveries} deliveries, expected ${N}`);

  const ratio = heraldRate / bareRate;
  ctx.log(`  => Herald ${int(heraldRate)}/s, best bare ${int(bareRate)}/s (${bare.best.connections} connections), ratio ${(ratio * 100).toFixed(1)}%; ${describeCosts(cost)}`);
  return {
    rows: [
      { scenario: 'fan-out', measure: 'deliveries/s', unit: '/s', herald: heraldRate, baseline: bareRate, baselineNote: `@${bare.best.connections}`, ratio, target: '(none)', pass: null },
      ...costRows('fan-out', cost, bare.best.cpuPerPostUs, ctx.store),
    ],
    details: {
      webhooks: H, events: E, deliveries: N,
      herald: {
        deliveriesPerSecond: round1(heraldRate), received: got.count, complete: got.complete, reason: got.reason, duplicates: stats.duplicates,
        publishSeconds: round3((pub.finishedAt - t0) / 1000), peakRssMB: mem ? mb(mem.peak) : null, latencyUnderLoadMs: stats.latency, costs: cost,
      },
      baseline: sweepDetails(bare),
    },
  };
};

// ---- 3. latency ------------------------------------------------------------------------------

/**
 * Publishes `rate` single events per second through the single-event API for `durationMs`
 * (round-robin over the workspaces; open loop), waits for their receipts under `prefix` (beyond
 * the `already` counted there) and returns publish→receipt latency of those sent after the
 * first `warmupMs`, and Herald's costs over the run. Used by latency and burst.
 */
export async function pacedLatency(ctx: Ctx, run: Run, o: { workspaces: string[]; prefix: string; rate: number; durationMs: number; warmupMs: number; label: string; already?: number; firstSeq?: number }) {
  const apiMs: number[] = [];
  let accepted = 0;
  let rejected = 0;
  const costs = await meter(heraldPids(run), ctx.databaseUrl);
  const sent = await paced(o.rate, o.durationMs, 2000, async (i) => {
    const data = walletReward((o.firstSeq ?? 0) + i);
    const t = wallNow();
    data.sent_at = t;
    try {
      await run.api.call('POST', `/api/v1/workspaces/${o.workspaces[i % o.workspaces.length]}/events`, { topic: TOPIC, data }, 10_000);
      apiMs.push(wallNow() - t);
      accepted++;
    } catch {
      rejected++;
    }
  }, (issued) => ctx.log(`  [${o.label}] published ${int(issued)}  ${rss(run.herald)}`));
  const got = await waitForCount({
    receiver: ctx.receiver, prefix: o.prefix, expected: (o.already ?? 0) + accepted, label: o.label, log: ctx.log, startedAt: sent.startedAt,
    stallMs: 15_000, deadline: deadlineFrom(ctx, wallNow(), 120), diagnose: diagnose(run), died: () => diedWithLog(run),
  });
  const cost = await costs.finish(got.count - (o.already ?? 0));
  const stats = await ctx.receiver.stats({ latency: true, since: sent.startedAt + o.warmupMs, prefix: o.prefix });
  const latency = stats.latency!;
  const complete = got.complete && sent.skipped === 0 && rejected === 0;
  return {
    latency, complete, costs: cost,
    details: {
      issued: sent.issued, skipped: sent.skipped, accepted, rejected, received: got.count - (o.already ?? 0), complete: got.complete,
      publishToReceiptMs: latency, publishApiMs: summarise(apiMs), duplicates: stats.duplicates, costs: cost,
    },
  };
}

/** Connections of the latency publisher (Herald and baseline alike): enough that the client's pool is never what queues. */
const LATENCY_CONNECTIONS = 128;

export const latency: Scenario = async (ctx) => {
  const R = ctx.sizes.latencyRate;
  const durationMs = ctx.sizes.latencySeconds * 1000;
  const warmupMs = Math.min(2000, durationMs / 5);
  const recv = ctx.receiver.url;
  ctx.log(`latency: ${int(R)} events/s through the single-event API for ${ctx.sizes.latencySeconds} s ` +
    `(first ${(warmupMs / 1000).toFixed(1)} s not counted)`);

  await ctx.receiver.reset();
  ctx.log(`  baseline: ${int(R)} POSTs/s straight to the receiver for ${ctx.sizes.latencySeconds} s`);
  const { Pool } = await import('undici');
  const pool = new Pool(recv, { connections: LATENCY_CONNECTIONS, keepAliveTimeout: 30_000 });
  let bareErrors = 0;
  let bareOk = 0;
  const bareMeter = await meter([process.pid]);
  const bareSent = await paced(R, durationMs, 2000, async (i) => {
    const data = walletReward(i);
    data.sent_at = wallNow();
    try {
      const res = await pool.request({ path: '/l/0', method: 'POST', headers: { 'content-type': 'application/json' }, body: deliveredBody(data, shopName(0), shopUri(0)) });
      await res.body.dump();
      bareOk++;
    } catch {
      bareErrors++;
    }
  });
  const bareCost = await bareMeter.finish(bareSent.issued);
  await pool.close();
  const bareGot = await waitForCount({
    receiver: ctx.receiver, prefix: 'l', expected: bareOk, label: 'latency/baseline', log: ctx.log, startedAt: bareSent.startedAt,
    stallMs: 15_000, deadline: deadlineFrom(ctx, wallNow(), 60),
  });
  const bareStats = await ctx.receiver.stats({ latency: true, since: bareSent.startedAt + warmupMs });

  await ctx.receiver.reset();
  const run = await startRun(ctx, 'latency', 'all', undefined, LATENCY_CONNECTIONS);
  const ws = `${ctx.runId}-lat`;
  await run.api.workspace(ws, shopName(0), shopUri(0));
  await run.api.webhook(ws, TOPIC, `${recv}/l/0`);
  const m = await pacedLatency(ctx, run, { workspaces: [ws], prefix: 'l', rate: R, durationMs, warmupMs, label: 'latency/herald' });
  const mem = run.herald.memory();
  await stopRun(ctx, run, { workspaces: [ws] });

  const h = m.latency;
  const b = bareStats.latency!;
  const complete = m.complete;
  ctx.log(`  => Herald p50 ${h.p50} ms, p95 ${h.p95} ms, p99 ${h.p99} ms; baseline p50 ${b.p50} ms, p95 ${b.p95} ms, p99 ${b.p99} ms; ${describeCosts(m.costs)}`);
  const row = (measure: string, hv: number | null, bv: number | null, target: string, pass: boolean | null): Row =>
    ({ scenario: 'latency', measure, unit: 'ms', herald: hv, baseline: bv, ratio: null, target, pass });
  return {
    rows: [
      row('publish→receipt p50', h.p50, b.p50, '≤ 2 ms', h.p50 !== null && complete ? h.p50 <= 2 : false),
      row('publish→receipt p95', h.p95, b.p95, '(none)', null),
      row('publish→receipt p99', h.p99, b.p99, '≤ 10 ms', h.p99 !== null && complete ? h.p99 <= 10 : false),
      ...costRows('latency', m.costs, bareCost.cpuPerItemUs, ctx.store, false),
    ],
    details: {
      rate: R, seconds: ctx.sizes.latencySeconds, warmupSeconds: warmupMs / 1000,
      herald: { ...m.details, peakRssMB: mem ? mb(mem.peak) : null },
      baseline: {
        issued: bareSent.issued, skipped: bareSent.skipped, ok: bareOk, errors: bareErrors, received: bareGot.count, requestToReceiptMs: b,
        // Measured on the orchestrator, which sends this paced baseline itself.
        costs: bareCost,
      },
    },
  };
};

// ---- 4. backlog ------------------------------------------------------------------------------

export const backlog: Scenario = async (ctx) => {
  const B = ctx.sizes.backlog;
  const recv = ctx.receiver.url;
  ctx.log(`backlog: ${int(B)} deliveries queued by an API-only Herald (no worker), then drained by a fresh Herald (role all) ` +
    `while the API is probed every 50 ms`);

  // Phase 1: queue.
  // Baseline: the same number of POSTs, bare.
  const bare = await bareSweep(ctx, 'backlog', { count: B, prefix: 'b', shards: SHARDS, layout: 'grouped', group: 1000, stamp: false });
  const bareRate = bare.best.perSecond;

  await ctx.receiver.reset();
  const queueRun = await startRun(ctx, 'backlog', 'api');
  const ws = await shardedSetup(ctx, queueRun.api, 'bl', (i) => `${recv}/b/${i}`);
  const q0 = wallNow();
  let lastPrint = q0;
  const pub = await guard(queueRun, publishAll(queueRun.api, { events: B, batchSize: 1000, concurrency: 4, workspaceOf: (k) => ws[k % SHARDS]! }, (p) => {
    if (wallNow() - lastPrint > 2000) {
      lastPrint = wallNow();
      ctx.log(`  [backlog/queue] ${int(p)} / ${int(B)} queued, ${int(rate(p, q0, lastPrint))}/s  ${rss(queueRun.herald)}`);
    }
  }));
  const queueMem = queueRun.herald.memory();
  ctx.log(`  queued ${int(pub.deliveries)} deliveries in ${((pub.finishedAt - q0) / 1000).toFixed(1)} s (${int(rate(B, q0, pub.finishedAt))} events/s)`);
  await stopRun(ctx, queueRun, { keepDir: true });
  const early = await ctx.receiver.stats();
  if (early.total > 0) ctx.log(`  warning: ${early.total} requests reached the receiver while queueing`);

  // Phase 2: drain.
  await ctx.receiver.reset();
  const run = await startRun(ctx, 'backlog', 'all', queueRun.dataDir);
  // From the moment Herald listens (its start-up, migrations and recovery are not counted).
  const costs = await meter(heraldPids(run), ctx.databaseUrl);
  const t0 = run.herald.startedAt;
  const healthMs: number[] = [];
  const publishMs: number[] = [];
  let probeFailures = 0;
  let probesAccepted = 0;
  let probing = true;
  let outstanding = 0;
  let peakRss = 0;
  const rssSamples: { t: number; mb: number }[] = [];
  const sampler = setInterval(() => {
    const m = run.herald.memory();
    if (!m) return;
    peakRss = Math.max(peakRss, m.peak, m.rss);
    rssSamples.push({ t: round1((wallNow() - t0) / 1000), mb: mb(m.rss) });
  }, 250);
  const probePath = `/api/v1/workspaces/${ws[0]}/events`;
  let seq = B;
  const probeLoop = (async () => {
    while (probing) {
      if (outstanding < 20) {
        outstanding += 2;
        const h0 = wallNow();
        run.api.call('GET', '/healthz', undefined, 10_000).then(
          () => healthMs.push(wallNow() - h0),
          () => probeFailures++,
        ).finally(() => outstanding--);
        const data = walletReward(seq++);
        const p0 = wallNow();
        data.sent_at = p0;
        run.api.call('POST', probePath, { topic: TOPIC, data }, 10_000).then(
          () => {
            publishMs.push(wallNow() - p0);
            probesAccepted++;
          },
          () => probeFailures++,
        ).finally(() => outstanding--);
      }
      await sleep(50);
    }
  })();
  let got;
  try {
    got = await waitForCount({
      receiver: ctx.receiver, prefix: 'b', expected: () => (probing ? B : B + probesAccepted), label: 'backlog/drain', log: ctx.log,
      startedAt: t0, stallMs: 60_000, deadline: deadlineFrom(ctx, t0),
      extra: () => `${rss(run.herald)} (peak ${mb(peakRss)} MB)  API p99 so far: publish ${summarise(publishMs.slice(-2000)).p99} ms`,
      progressEveryMs: 5000, diagnose: diagnose(run), died: () => diedWithLog(run),
    });
    // The backlog is through; stop probing and let the last probes' deliveries arrive.
    probing = false;
    await probeLoop;
    const settle = wallNow() + 10_000;
    while (outstanding > 0 && wallNow() < settle) await sleep(10);
    if (got.complete) {
      got = await waitForCount({
        receiver: ctx.receiver, prefix: 'b', expected: B + probesAccepted, label: 'backlog/drain', log: ctx.log,
        startedAt: t0, stallMs: 30_000, deadline: wallNow() + 60_000,
      });
    }
  } finally {
    probing = false;
    clearInterval(sampler);
  }
  const cost = await costs.finish(got.count);
  const stats = await ctx.receiver.stats();
  const end = run.herald.memory();
  if (end) peakRss = Math.max(peakRss, end.peak);
  const breakdown = await memoryBreakdown(run);
  if (breakdown) ctx.log(`  Herald memory at the end of the drain: ${JSON.stringify(breakdown)} (MB)`);
  await stopRun(ctx, run, { workspaces: ws });
  const lastAt = stats.prefixes.b?.lastAt ?? got.endedAt;
  const firstAt = stats.prefixes.b?.firstAt ?? t0;
  const drainRate = rate(got.count, t0, got.complete ? lastAt : got.endedAt);

  const health = summarise(healthMs);
  const publish = summarise(publishMs);
  const peakMB = mb(peakRss);
  const drainShare = drainRate / bareRate;
  ctx.log(`  => drain ${int(drainRate)}/s (best bare ${int(bareRate)}/s, ${bare.best.connections} connections: ${(drainShare * 100).toFixed(1)}%), peak RSS ${peakMB} MB, ` +
    `${describeCosts(cost)}, ` +
    `API while draining: publish p50 ${publish.p50} / p99 ${publish.p99} ms, healthz p50 ${health.p50} / p99 ${health.p99} ms`);
  return {
    rows: [
      {
        scenario: 'backlog', measure: 'drain deliveries/s', unit: '/s', herald: drainRate, baseline: bareRate, baselineNote: `@${bare.best.connections}`, ratio: drainShare,
        target: '≥ 60% of best bare', pass: got.complete && drainShare >= 0.6,
      },
      { scenario: 'backlog', measure: 'peak RSS', unit: 'MB', herald: peakMB, baseline: null, ratio: null, target: '≤ 256 MB', pass: got.complete && peakMB <= 256 },
      { scenario: 'backlog', measure: 'API p99: publish', unit: 'ms', herald: publish.p99, baseline: null, ratio: null, target: '< 50 ms', pass: publish.p99 !== null && probeFailures === 0 && publish.p99 < 50 },
      { scenario: 'backlog', measure: 'API p99: GET /healthz', unit: 'ms', herald: health.p99, baseline: null, ratio: null, target: '< 50 ms', pass: health.p99 !== null && probeFailures === 0 && health.p99 < 50 },
      ...costRows('backlog', cost, bare.best.cpuPerPostUs, ctx.store),
    ],
    details: {
      backlog: B,
      queue: {
        events: B, deliveriesQueued: pub.deliveries, seconds: round3((pub.finishedAt - q0) / 1000),
        eventsPerSecond: round1(rate(B, q0, pub.finishedAt)), peakRssMB: queueMem ? mb(queueMem.peak) : null,
      },
      herald: {
        drainDeliveriesPerSecond: round1(drainRate), received: got.count, expected: B + probesAccepted, complete: got.complete, reason: got.reason,
        secondsToFirstDelivery: round3((firstAt - t0) / 1000), drainSeconds: round3(((got.complete ? lastAt : got.endedAt) - t0) / 1000),
        duplicates: stats.duplicates, peakRssMB: peakMB, memoryAtEndMB: breakdown, probes: { accepted: probesAccepted, failures: probeFailures },
        apiWhileDrainingMs: { publish, healthz: health },
        rssTimelineMB: rssSamples.filter((_, i) => i % 8 === 0), costs: cost,
      },
      baseline: sweepDetails(bare),
    },
  };
};

// ---- 5. bad neighbour ------------------------------------------------------------------------

export const badNeighbour: Scenario = async (ctx) => {
  const N = ctx.sizes.badEvents;
  const { batchSize, publishConcurrency } = ctx.sizes;
  const windowMs = ctx.sizes.badWindowSeconds * 1000;
  const recv = ctx.receiver.url;
  const hangs = new Set([0, SHARDS / 2]); // 2 of 20 webhooks: 10 %
  const batches = Math.ceil(N / batchSize);
  let healthy = 0;
  for (let k = 0; k < batches; k++) if (!hangs.has(k % SHARDS)) healthy += Math.min(N, (k + 1) * batchSize) - k * batchSize;
  ctx.log(`bad neighbour: like throughput (${int(N)} events, ${SHARDS} webhooks) but ${hangs.size} of the ${SHARDS} webhooks ` +
    `never answer (${ctx.timeoutMs} ms timeout); healthy deliveries counted for at most ${ctx.sizes.badWindowSeconds} s`);

  // One bare run, not a sweep: it shows what one shared pool with Herald's slots does when 10 %
  // of the requests hang (they hold the slots), and a sweep would wait out the window per count.
  ctx.log(`  baseline: the same ${int(N)} POSTs in the same order, ${ctx.concurrency} at once, same timeout`);
  const bare = await bareSweep(ctx, 'badneighbour', {
    count: N, prefix: 'ok', shards: SHARDS, layout: 'grouped', group: batchSize, hangShards: [...hangs], stamp: true,
  }, { connections: [ctx.concurrency], expected: healthy, windowMs, stallMs: Math.max(60_000, ctx.timeoutMs * 3) });
  const bareRate = bare.best.perSecond;

  await ctx.receiver.reset();
  const run = await startRun(ctx, 'badneighbour', 'all');
  const ws = await shardedSetup(ctx, run.api, 'bn', (i) => (hangs.has(i) ? `${recv}/hang/${i}` : `${recv}/ok/${i}`));
  const costs = await meter(heraldPids(run), ctx.databaseUrl);
  const t0 = wallNow();
  let published = 0;
  const publishing = publishAll(run.api, { events: N, batchSize, concurrency: publishConcurrency, workspaceOf: (k) => ws[k % SHARDS]! }, (p) => (published = p));
  const got = await waitForCount({
    receiver: ctx.receiver, prefix: 'ok', expected: healthy, label: 'bad-neighbour/herald', log: ctx.log, startedAt: t0,
    stallMs: Math.max(60_000, ctx.timeoutMs * 3), deadline: t0 + windowMs,
    extra: () => `published ${int(published)}  ${rss(run.herald)}`, diagnose: diagnose(run), died: () => diedWithLog(run),
  });
  // Per healthy delivery: the hung attempts' cost is part of what the healthy ones carry here.
  const cost = await costs.finish(got.count);
  const stats = await ctx.receiver.stats();
  await guard(run, publishing);
  await stopRun(ctx, run, { workspaces: ws, graceMs: ctx.timeoutMs + 5000 });
  const okLast = stats.prefixes.ok?.lastAt ?? got.endedAt;
  const heraldRate = rate(got.count, t0, got.complete ? okLast : got.endedAt);

  const share = ctx.throughput ? heraldRate / ctx.throughput.herald : null;
  const bareShare = ctx.throughput ? bareRate / ctx.throughput.baseline : null;
  ctx.log(`  => healthy Herald ${int(heraldRate)}/s (${share === null ? 'n/a' : (share * 100).toFixed(1) + '% of throughput'}), ` +
    `baseline ${int(bareRate)}/s (${bareShare === null ? 'n/a' : (bareShare * 100).toFixed(1) + '% of its throughput'})`);
  return {
    rows: [
      {
        scenario: 'bad neighbour', measure: 'healthy deliveries/s', unit: '/s', herald: heraldRate, baseline: bareRate, ratio: share,
        ratioOf: 'of scen. 1', target: '≥ 90% of scen. 1', pass: share === null ? null : share >= 0.9,
      },
      ...costRows('bad neighbour', cost, bare.best.cpuPerPostUs, ctx.store, false).map((r) => ({ ...r, measure: r.measure.replace('/delivery', '/healthy delivery') })),
    ],
    details: {
      events: N, healthyExpected: healthy, hangingWebhooks: hangs.size, webhooks: SHARDS, timeoutMs: ctx.timeoutMs, windowSeconds: windowMs / 1000,
      herald: {
        healthyPerSecond: round1(heraldRate), healthyReceived: got.count, complete: got.complete, reason: got.reason,
        hangingRequestsSeen: stats.hangTotal, shareOfThroughput: share === null ? null : round3(share), costs: cost,
      },
      baseline: {
        ...sweepDetails(bare), healthyPerSecond: round1(bareRate), healthyReceived: bare.best.received, complete: bare.best.complete, errors: bare.best.errors,
        hangingRequestsSeen: bare.best.hangRequests, shareOfThroughput: bareShare === null ? null : round3(bareShare),
      },
    },
  };
};

/** `onlyWhenAsked`: not part of a run without --only. */
export const SCENARIOS: { name: string; aliases: string[]; run: Scenario; onlyWhenAsked?: boolean }[] = [
  { name: 'throughput', aliases: ['tp'], run: throughput },
  { name: 'throughput1', aliases: ['tp1'], run: throughput1 },
  { name: 'fanout', aliases: ['fan-out', 'fo'], run: fanOut },
  { name: 'latency', aliases: ['lat'], run: latency },
  { name: 'burst', aliases: ['bu'], run: burst },
  { name: 'backlog', aliases: ['bl'], run: backlog },
  { name: 'fifo', aliases: ['ordered'], run: fifo },
  { name: 'badneighbour', aliases: ['bad-neighbour', 'badneighbor', 'bad-neighbor', 'bn'], run: badNeighbour },
  { name: 'hanging100', aliases: ['h100'], run: hanging(100, 5) },
  { name: 'hanging1000', aliases: ['h1000'], run: hanging(1000, 1) },
  { name: 'contracts', aliases: ['schema', 'signing'], run: contracts, onlyWhenAsked: true },
  { name: 'scaleout', aliases: ['scale-out', 'so'], run: scaleout, onlyWhenAsked: true },
];
