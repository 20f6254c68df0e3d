// Helpers for the multi-node suite: Herald nodes as real child processes (`herald serve` with
// HERALD_ROLE=api or worker) sharing one PostgreSQL schema of their own, and the suite's skip
// rule (PostgreSQL unreachable: skipped with the reason, except with CI=true, where that fails).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { sleep, type Api } from '../helpers/herald.js';
import { DATABASE_URL, unreachable } from '../helpers/postgres.js';
import { ROOT, spawnHerald, type HeraldProcess } from '../helpers/process.js';

export { DATABASE_URL, ROOT };

/**
 * describe(name, body) when PostgreSQL is reachable; otherwise one skipped test that says why,
 * or, with CI=true, one failing test (CI must not go green without running these).
 */
export async function multinodeSuite(name: string, body: () => void): Promise<void> {
  const reason = await unreachable();
  if (reason === null) {
    describe(name, body);
  } else if (process.env.CI === 'true') {
    it(`${name}: PostgreSQL is reachable (required when CI=true)`, () => assert.fail(`PostgreSQL is unreachable at ${DATABASE_URL}: ${reason}`));
  } else {
    it(name, { skip: `PostgreSQL is unreachable at ${DATABASE_URL} (${reason}); set HERALD_TEST_DATABASE_URL to run the multi-node tests` }, () => {});
  }
}

// ---- nodes -------------------------------------------------------------------------------

/** A node: a `herald serve` process with HERALD_ROLE api or worker. */
export type HeraldNode = HeraldProcess & { role: 'api' | 'worker' };

/** Settings of every test node; a test's own env wins. */
const NODE_ENV: Record<string, string> = {
  HERALD_DATABASE_POOL_SIZE: '4',
  HERALD_RETRY_BASE_MS: '200',
  HERALD_RETRY_FACTOR: '2',
  HERALD_DELIVERY_TIMEOUT_MS: '3000',
  HERALD_LEASE_MS: '5000',
};

/**
 * A deployment of Herald nodes on one fresh PostgreSQL schema (herald_mn_<pid>_<random>).
 * close() stops every node it started and drops the schema.
 */
export class Cluster {
  readonly schema = `herald_mn_${process.pid}_${randomBytes(3).toString('hex')}`;
  readonly db = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  readonly nodes: HeraldNode[] = [];
  private readonly dirs: string[] = [];

  /** The Herald API of the first API node. */
  get api(): Api {
    const node = this.nodes.find((n) => n.url !== null);
    if (!node) throw new Error('no API node');
    return node.api;
  }

  /** Starts a node; resolves once it listens (api) or says it started (worker). */
  async start(role: 'api' | 'worker', env: Record<string, string> = {}, readyTimeoutMs = 60_000): Promise<HeraldNode> {
    const dir = await mkdtemp(join(tmpdir(), 'herald-mn-'));
    this.dirs.push(dir);
    const child = await spawnHerald({
      dataDir: dir,
      readyTimeoutMs,
      env: { ...NODE_ENV, HERALD_DATABASE_URL: DATABASE_URL, HERALD_DATABASE_SCHEMA: this.schema, HERALD_ROLE: role, ...env },
    });
    const node: HeraldNode = Object.assign(child, { role });
    this.nodes.push(node);
    return node;
  }

  /** One API node, then `workers` worker nodes started together. */
  async startAll(workers: number, env: Record<string, string> = {}): Promise<void> {
    // The API node migrates the schema first; the workers then find it done.
    await this.start('api', env);
    await Promise.all(Array.from({ length: workers }, () => this.start('worker', env)));
  }

  /** One value of one row from SQL run in this cluster's schema. */
  async query<T = any>(text: string, values: unknown[] = []): Promise<T[]> {
    const client = await this.db.connect();
    try {
      await client.query(`SET search_path TO ${this.schema}`);
      return (await client.query(text, values)).rows as T[];
    } finally {
      await client.query('RESET search_path').catch(() => undefined);
      client.release();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
    await this.db.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
    await this.db.end();
    await Promise.all(this.dirs.map((d) => rm(d, { recursive: true, force: true })));
  }
}

// ---- publishing ----------------------------------------------------------------------------

/** Creates a workspace with webhooks on; returns its id. */
export async function workspace(api: Api, id: string): Promise<string> {
  const created = await api('POST', '/api/v1/workspaces', { id, name: `Shop ${id}`, uri: `https://${id}.example` });
  assert.equal(created.status, 201, created.text);
  const on = await api('PATCH', `/api/v1/workspaces/${id}`, { webhooks_enabled: true });
  assert.equal(on.status, 200, on.text);
  return id;
}

export async function webhook(api: Api, ws: string, body: Record<string, unknown>): Promise<{ id: string }> {
  const res = await api('POST', `/api/v1/workspaces/${ws}/webhooks`, { topic: 'walletreward_create', ...body });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

/** Publishes `count` events through the batch API, 1000 at a time, `parallel` batches at once. */
export async function publishMany(api: Api, ws: string, topic: string, count: number, tag: string, parallel = 4): Promise<void> {
  const batches: { topic: string; data: Record<string, unknown> }[][] = [];
  for (let i = 0; i < count; i += 1000) {
    batches.push(Array.from({ length: Math.min(1000, count - i) }, (_, j) => ({ topic, data: { n: i + j, tag, amount: (i + j) % 500 } })));
  }
  let next = 0;
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < batches.length) {
      const events = batches[next++]!;
      const res = await api('POST', `/api/v1/workspaces/${ws}/events/batch`, { events });
      assert.equal(res.status, 202, res.text);
      assert.ok(res.body.data.every((e: { deliveries: number }) => e.deliveries >= 1), 'every event was queued');
    }
  }));
}

/** The most requests within any `windowMs` (a sliding window starting at each request). */
export function busiestWindow(times: number[], windowMs = 1000): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while (sorted[end]! - sorted[start]! >= windowMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/** Polls until `probe` is truthy; fails with `message()` after the timeout. */
export async function until(probe: () => boolean | Promise<boolean>, timeoutMs: number, message: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(message());
    await sleep(100);
  }
}
