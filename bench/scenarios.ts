// The five scenarios of issue 6 (and, from hanging.ts, the hanging-receiver ones of issue 15). Each runs the bare undici baseline and then Herald (a fresh
// child process with a fresh data directory) against the same receiver, and returns the rows
// of the results table plus the details that go into the JSON file. The baseline goes first so
// that it is not disturbed by what a Herald run leaves behind (a database checkpointing,
// sockets closing).

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HeraldApi, type Receiver } from './client.js';
import { blast, paced, publishAll, sleep, waitForCount, type Log } from './load.js';
import { TOPIC, deliveredBody, walletReward, wallNow } from './payload.js';
import { startHerald, type HeraldProcess } from './processes.js';
import { int, mb, round1, round3, summarise, type Row } from './report.js';
import { hanging } from './hanging.js';
// contracts.ts uses this file's helpers at run time only, so the import cycle is harmless.
import { contracts } from './contracts.js';
import { fifo } from './fifo.js';

export interface Sizes {
  events: number;
  batchSize: number;
  publishConcurrency: number;
  fanoutWebhooks: number;
  fanoutEvents: number;
  latencyRate: number;
  latencySeconds: number;
  backlog: number;
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
  sizes: Sizes;
  cpuProfile: boolean;
  keepData: boolean;
  profiles: string[];
  log: Log;
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

export const shopName = (i: number) => `Bench Shop ${i}`;
export const shopUri = (i: number) => `https://shop${i}.bench.example`;

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
  const schema = ctx.store === 'postgres' ? `${ctx.runId}_${scenario}`.toLowerCase() : undefined;
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

export function rss(herald: HeraldProcess): string {
  const m = herald.memory();
  return m ? `Herald RSS ${mb(m.rss)} MB` : '';
}

export async function shardedSetup(ctx: Ctx, api: HeraldApi, tag: string, urlOf: (i: number) => string, signing: 'hmac' | 'ed25519' = 'hmac'): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < SHARDS; i++) {
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

// ---- 1. throughput ---------------------------------------------------------------------------

export const throughput: Scenario = async (ctx) => {
  const { events: N, batchSize, publishConcurrency } = ctx.sizes;
  const recv = ctx.receiver.url;
  ctx.log(`throughput: ${int(N)} events through the batch API (${batchSize} per request, ${publishConcurrency} requests at once), ` +
    `${SHARDS} workspaces with one webhook each, one delivery per event`);

  // Baseline
  await ctx.receiver.reset();
  ctx.log(`  baseline: ${int(N)} POSTs, ${ctx.concurrency} at once`);
  const b0 = wallNow();
  const bareRun = blast({
    receiverUrl: recv, count: N, concurrency: ctx.concurrency, timeoutMs: ctx.timeoutMs,
    path: (i) => `/t/${Math.floor(i / batchSize) % SHARDS}`,
    body: (i) => {
      const shard = Math.floor(i / batchSize) % SHARDS;
      const data = walletReward(i);
      data.sent_at = wallNow();
      return deliveredBody(data, shopName(shard), shopUri(shard));
    },
  });
  const bareWait = waitForCount({
    receiver: ctx.receiver, prefix: 't', expected: N, label: 'throughput/baseline', log: ctx.log, startedAt: b0,
    stallMs: 60_000, deadline: deadlineFrom(ctx, b0),
  });
  const [bare, bareGot] = await Promise.all([bareRun, bareWait]);
  const bareStats = await ctx.receiver.stats({ latency: true });
  const bareRate = rate(bareGot.count, b0, bareGot.complete ? (bareStats.prefixes.t?.lastAt ?? bareGot.endedAt) : bareGot.endedAt);

  // Herald
  await ctx.receiver.reset();
  const run = await startRun(ctx, 'throughput', 'all');
  const ws = await shardedSetup(ctx, run.api, 'tp', (i) => `${recv}/t/${i}`);
  const t0 = wallNow();
  let published = 0;
  const publishing = publishAll(run.api, { events: N, batchSize, concurrency: publishConcurrency, workspaceOf: (k) => ws[k % SHARDS]! }, (p) => (published = p));
  const waiting = waitForCount({
    receiver: ctx.receiver, prefix: 't', expected: N, label: 'throughput/herald', log: ctx.log, startedAt: t0,
    stallMs: 60_000, deadline: deadlineFrom(ctx, t0), extra: () => `published ${int(published)}  ${rss(run.herald)}`, diagnose: diagnose(run), died: () => diedWithLog(run),
  });
  const [pub, got] = await guard(run, Promise.all([publishing, waiting]));
  const stats = await ctx.receiver.stats({ latency: true });
  const mem = run.herald.memory();
  await stopRun(ctx, run, { workspaces: ws });
  const lastAt = stats.prefixes.t?.lastAt ?? got.endedAt;
  const heraldRate = rate(got.count, t0, got.complete ? lastAt : got.endedAt);
  if (pub.deliveries !== N) ctx.log(`  warning: Herald queued ${pub.deliveries} deliveries for ${N} events`);

  ctx.throughput = { herald: heraldRate, baseline: bareRate };
  const ratio = heraldRate / bareRate;
  ctx.log(`  => Herald ${int(heraldRate)}/s, baseline ${int(bareRate)}/s, ratio ${(ratio * 100).toFixed(1)}%`);
  return {
    rows: [{ scenario: 'throughput', measure: 'deliveries/s', unit: '/s', herald: heraldRate, baseline: bareRate, ratio, target: '≥ 50% of bare', pass: ratio >= 0.5 && got.complete }],
    details: {
      events: N,
      herald: {
        deliveriesPerSecond: round1(heraldRate), received: got.count, complete: got.complete, reason: got.reason, seconds: round3((lastAt - t0) / 1000),
        publishSeconds: round3((pub.finishedAt - t0) / 1000), publishEventsPerSecond: round1(rate(N, t0, pub.finishedAt)),
        duplicates: stats.duplicates, peakRssMB: mem ? mb(mem.peak) : null, latencyUnderLoadMs: stats.latency,
      },
      baseline: {
        deliveriesPerSecond: round1(bareRate), received: bareGot.count, errors: bare.errors, complete: bareGot.complete,
        latencyUnderLoadMs: bareStats.latency,
      },
    },
  };
};

// ---- 2. fan-out ------------------------------------------------------------------------------

export const fanOut: Scenario = async (ctx) => {
  const H = ctx.sizes.fanoutWebhooks;
  const E = ctx.sizes.fanoutEvents;
  const N = H * E;
  const recv = ctx.receiver.url;
  ctx.log(`fan-out: one workspace, ${int(H)} webhooks on ${TOPIC}, ${int(E)} events = ${int(N)} deliveries`);

  await ctx.receiver.reset();
  ctx.log(`  baseline: ${int(N)} POSTs to ${int(H)} paths, ${ctx.concurrency} at once`);
  const b0 = wallNow();
  const bodies = new Map<number, string>();
  const bareRun = blast({
    receiverUrl: recv, count: N, concurrency: ctx.concurrency, timeoutMs: ctx.timeoutMs,
    path: (i) => `/f/${i % H}`,
    body: (i) => {
      // One body per event, as Herald sends the same bytes to each webhook of an event.
      const e = Math.floor(i / H);
      let b = bodies.get(e);
      if (b === undefined) {
        bodies.clear();
        const data = walletReward(e);
        data.sent_at = wallNow();
        b = deliveredBody(data, shopName(0), shopUri(0));
        bodies.set(e, b);
      }
      return b;
    },
  });
  const bareWait = waitForCount({
    receiver: ctx.receiver, prefix: 'f', expected: N, label: 'fan-out/baseline', log: ctx.log, startedAt: b0,
    stallMs: 60_000, deadline: deadlineFrom(ctx, b0),
  });
  const [bare, bareGot] = await Promise.all([bareRun, bareWait]);
  const bareStats = await ctx.receiver.stats();
  const bareRate = rate(bareGot.count, b0, bareGot.complete ? (bareStats.prefixes.f?.lastAt ?? bareGot.endedAt) : bareGot.endedAt);

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
  const t0 = wallNow();
  const batchSize = Math.max(1, Math.min(ctx.sizes.batchSize, Math.floor(100_000 / H)));
  let published = 0;
  const publishing = publishAll(run.api, { events: E, batchSize, concurrency: 2, workspaceOf: () => ws }, (p) => (published = p));
  const waiting = waitForCount({
    receiver: ctx.receiver, prefix: 'f', expected: N, label: 'fan-out/herald', log: ctx.log, startedAt: t0,
    stallMs: 60_000, deadline: deadlineFrom(ctx, t0), extra: () => `published ${int(published)}  ${rss(run.herald)}`, diagnose: diagnose(run), died: () => diedWithLog(run),
  });
  const [pub, got] = await guard(run, Promise.all([publishing, waiting]));
  const stats = await ctx.receiver.stats({ latency: true });
  const mem = run.herald.memory();
  await stopRun(ctx, run, { workspaces: [ws] });
  const heraldRate = rate(got.count, t0, got.complete ? (stats.prefixes.f?.lastAt ?? got.endedAt) : got.endedAt);
  if (pub.deliveries !== N) ctx.log(`  warning: Herald queued ${pub.deliveries} deliveries, expected ${N}`);

  const ratio = heraldRate / bareRate;
  ctx.log(`  => Herald ${int(heraldRate)}/s, baseline ${int(bareRate)}/s, ratio ${(ratio * 100).toFixed(1)}%`);
  return {
    rows: [{ scenario: 'fan-out', measure: 'deliveries/s', unit: '/s', herald: heraldRate, baseline: bareRate, ratio, target: '(none)', pass: null }],
    details: {
      webhooks: H, events: E, deliveries: N,
      herald: {
        deliveriesPerSecond: round1(heraldRate), received: got.count, complete: got.complete, reason: got.reason, duplicates: stats.duplicates,
        publishSeconds: round3((pub.finishedAt - t0) / 1000), peakRssMB: mem ? mb(mem.peak) : null, latencyUnderLoadMs: stats.latency,
      },
      baseline: { deliveriesPerSecond: round1(bareRate), received: bareGot.count, errors: bare.errors, complete: bareGot.complete },
    },
  };
};

// ---- 3. latency ------------------------------------------------------------------------------

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
  const apiMs: number[] = [];
  let accepted = 0;
  let rejected = 0;
  const path = `/api/v1/workspaces/${ws}/events`;
  const sent = await paced(R, durationMs, 2000, async (i) => {
    const data = walletReward(i);
    const t = wallNow();
    data.sent_at = t;
    try {
      await run.api.call('POST', path, { topic: TOPIC, data }, 10_000);
      apiMs.push(wallNow() - t);
      accepted++;
    } catch {
      rejected++;
    }
  }, (issued) => ctx.log(`  [latency/herald] published ${int(issued)}  ${rss(run.herald)}`));
  const got = await waitForCount({
    receiver: ctx.receiver, prefix: 'l', expected: accepted, label: 'latency/herald', log: ctx.log, startedAt: sent.startedAt,
    stallMs: 15_000, deadline: deadlineFrom(ctx, wallNow(), 120), diagnose: diagnose(run), died: () => diedWithLog(run),
  });
  const stats = await ctx.receiver.stats({ latency: true, since: sent.startedAt + warmupMs });
  const mem = run.herald.memory();
  await stopRun(ctx, run, { workspaces: [ws] });

  const h = stats.latency!;
  const b = bareStats.latency!;
  const complete = got.complete && sent.skipped === 0 && rejected === 0;
  ctx.log(`  => Herald p50 ${h.p50} ms, p95 ${h.p95} ms, p99 ${h.p99} ms; baseline p50 ${b.p50} ms, p95 ${b.p95} ms, p99 ${b.p99} ms`);
  const row = (measure: string, hv: number | null, bv: number | null, target: string, pass: boolean | null): Row =>
    ({ scenario: 'latency', measure, unit: 'ms', herald: hv, baseline: bv, ratio: null, target, pass });
  return {
    rows: [
      row('publish→receipt p50', h.p50, b.p50, '≤ 5 ms', h.p50 !== null && complete ? h.p50 <= 5 : false),
      row('publish→receipt p95', h.p95, b.p95, '(none)', null),
      row('publish→receipt p99', h.p99, b.p99, '≤ 25 ms', h.p99 !== null && complete ? h.p99 <= 25 : false),
    ],
    details: {
      rate: R, seconds: ctx.sizes.latencySeconds, warmupSeconds: warmupMs / 1000,
      herald: {
        issued: sent.issued, skipped: sent.skipped, accepted, rejected, received: got.count, complete: got.complete,
        publishToReceiptMs: h, publishApiMs: summarise(apiMs), duplicates: stats.duplicates, peakRssMB: mem ? mb(mem.peak) : null,
      },
      baseline: { issued: bareSent.issued, skipped: bareSent.skipped, ok: bareOk, errors: bareErrors, received: bareGot.count, requestToReceiptMs: b },
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
  await ctx.receiver.reset();
  ctx.log(`  baseline: ${int(B)} POSTs, ${ctx.concurrency} at once`);
  const b0 = wallNow();
  const bareRun = blast({
    receiverUrl: recv, count: B, concurrency: ctx.concurrency, timeoutMs: ctx.timeoutMs,
    path: (i) => `/b/${Math.floor(i / 1000) % SHARDS}`,
    body: (i) => {
      const shard = Math.floor(i / 1000) % SHARDS;
      return deliveredBody(walletReward(i), shopName(shard), shopUri(shard));
    },
  });
  const bareWait = waitForCount({
    receiver: ctx.receiver, prefix: 'b', expected: B, label: 'backlog/baseline', log: ctx.log, startedAt: b0,
    stallMs: 60_000, deadline: deadlineFrom(ctx, b0), progressEveryMs: 5000,
  });
  const [bare, bareGot] = await Promise.all([bareRun, bareWait]);
  const bareStats = await ctx.receiver.stats();
  const bareRate = rate(bareGot.count, b0, bareGot.complete ? (bareStats.prefixes.b?.lastAt ?? bareGot.endedAt) : bareGot.endedAt);

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
  ctx.log(`  => drain ${int(drainRate)}/s (baseline ${int(bareRate)}/s), peak RSS ${peakMB} MB, ` +
    `API while draining: publish p50 ${publish.p50} / p99 ${publish.p99} ms, healthz p50 ${health.p50} / p99 ${health.p99} ms`);
  return {
    rows: [
      { scenario: 'backlog', measure: 'drain deliveries/s', unit: '/s', herald: drainRate, baseline: bareRate, ratio: drainRate / bareRate, target: '(none)', pass: null },
      { scenario: 'backlog', measure: 'peak RSS', unit: 'MB', herald: peakMB, baseline: null, ratio: null, target: '≤ 256 MB', pass: got.complete && peakMB <= 256 },
      { scenario: 'backlog', measure: 'API p99: publish', unit: 'ms', herald: publish.p99, baseline: null, ratio: null, target: '< 50 ms', pass: publish.p99 !== null && probeFailures === 0 && publish.p99 < 50 },
      { scenario: 'backlog', measure: 'API p99: GET /healthz', unit: 'ms', herald: health.p99, baseline: null, ratio: null, target: '< 50 ms', pass: health.p99 !== null && probeFailures === 0 && health.p99 < 50 },
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
        rssTimelineMB: rssSamples.filter((_, i) => i % 8 === 0),
      },
      baseline: { deliveriesPerSecond: round1(bareRate), received: bareGot.count, errors: bare.errors, complete: bareGot.complete },
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

  await ctx.receiver.reset();
  ctx.log(`  baseline: the same ${int(N)} POSTs in the same order, ${ctx.concurrency} at once, same timeout`);
  const b0 = wallNow();
  const bareRun = blast({
    receiverUrl: recv, count: N, concurrency: ctx.concurrency, timeoutMs: ctx.timeoutMs, deadline: b0 + windowMs,
    path: (i) => {
      const shard = Math.floor(i / batchSize) % SHARDS;
      return hangs.has(shard) ? `/hang/${shard}` : `/ok/${shard}`;
    },
    body: (i) => {
      const shard = Math.floor(i / batchSize) % SHARDS;
      const data = walletReward(i);
      data.sent_at = wallNow();
      return deliveredBody(data, shopName(shard), shopUri(shard));
    },
  });
  const bareGot = await waitForCount({
    receiver: ctx.receiver, prefix: 'ok', expected: healthy, label: 'bad-neighbour/baseline', log: ctx.log, startedAt: b0,
    stallMs: Math.max(60_000, ctx.timeoutMs * 3), deadline: b0 + windowMs,
  });
  const bareStats = await ctx.receiver.stats();
  const bare = await bareRun; // returns once the last hanging requests time out
  const bareRate = rate(bareGot.count, b0, bareGot.complete ? (bareStats.prefixes.ok?.lastAt ?? bareGot.endedAt) : bareGot.endedAt);

  await ctx.receiver.reset();
  const run = await startRun(ctx, 'badneighbour', 'all');
  const ws = await shardedSetup(ctx, run.api, 'bn', (i) => (hangs.has(i) ? `${recv}/hang/${i}` : `${recv}/ok/${i}`));
  const t0 = wallNow();
  let published = 0;
  const publishing = publishAll(run.api, { events: N, batchSize, concurrency: publishConcurrency, workspaceOf: (k) => ws[k % SHARDS]! }, (p) => (published = p));
  const got = await waitForCount({
    receiver: ctx.receiver, prefix: 'ok', expected: healthy, label: 'bad-neighbour/herald', log: ctx.log, startedAt: t0,
    stallMs: Math.max(60_000, ctx.timeoutMs * 3), deadline: t0 + windowMs,
    extra: () => `published ${int(published)}  ${rss(run.herald)}`, diagnose: diagnose(run), died: () => diedWithLog(run),
  });
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
    rows: [{
      scenario: 'bad neighbour', measure: 'healthy deliveries/s', unit: '/s', herald: heraldRate, baseline: bareRate, ratio: share,
      ratioOf: 'of scen. 1', target: '≥ 90% of scen. 1', pass: share === null ? null : share >= 0.9,
    }],
    details: {
      events: N, healthyExpected: healthy, hangingWebhooks: hangs.size, webhooks: SHARDS, timeoutMs: ctx.timeoutMs, windowSeconds: windowMs / 1000,
      herald: {
        healthyPerSecond: round1(heraldRate), healthyReceived: got.count, complete: got.complete, reason: got.reason,
        hangingRequestsSeen: stats.hangTotal, shareOfThroughput: share === null ? null : round3(share),
      },
      baseline: {
        healthyPerSecond: round1(bareRate), healthyReceived: bareGot.count, complete: bareGot.complete, errors: bare.errors,
        hangingRequestsSeen: bareStats.hangTotal, shareOfThroughput: bareShare === null ? null : round3(bareShare),
      },
    },
  };
};

/** `onlyWhenAsked`: not part of a run without --only. */
export const SCENARIOS: { name: string; aliases: string[]; run: Scenario; onlyWhenAsked?: boolean }[] = [
  { name: 'throughput', aliases: ['tp'], run: throughput },
  { name: 'fanout', aliases: ['fan-out', 'fo'], run: fanOut },
  { name: 'latency', aliases: ['lat'], run: latency },
  { name: 'backlog', aliases: ['bl'], run: backlog },
  { name: 'fifo', aliases: ['ordered'], run: fifo },
  { name: 'badneighbour', aliases: ['bad-neighbour', 'badneighbor', 'bad-neighbor', 'bn'], run: badNeighbour },
  { name: 'hanging100', aliases: ['h100'], run: hanging(100, 5) },
  { name: 'hanging1000', aliases: ['h1000'], run: hanging(1000, 1) },
  { name: 'contracts', aliases: ['schema', 'signing'], run: contracts, onlyWhenAsked: true },
];
