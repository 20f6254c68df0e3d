// Helpers for the multi-node suite: Herald nodes as real child processes (`herald serve` with
// HERALD_ROLE=api or worker) sharing one PostgreSQL schema of their own, a receiver light
// enough for tens of thousands of requests, and the suite's skip rule (PostgreSQL unreachable:
// skipped with the reason, except with CI=true, where that fails).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { ADMIN_KEY, makeApi, sleep, watchChild, type Api } from '../helpers/herald.js';
import { DATABASE_URL, unreachable } from '../helpers/postgres.js';

export { DATABASE_URL };
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

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

export interface HeraldNode {
  role: 'api' | 'worker';
  child: ChildProcess;
  /** http://127.0.0.1:<port> for an API node, null for a worker. */
  url: string | null;
  exited: Promise<number | string>;
  output(): string;
  /** SIGTERM (a clean stop: attempts in flight finish), SIGKILL if it lingers; resolves on exit. */
  stop(): Promise<number | string>;
  /** SIGKILL: a crash, with whatever it had in flight. */
  kill(): Promise<number | string>;
}

/** Settings of every test node; a test's own env wins. */
const NODE_ENV: Record<string, string> = {
  HERALD_HOST: '127.0.0.1',
  HERALD_PORT: '0',
  HERALD_ADMIN_KEY: ADMIN_KEY,
  HERALD_ALLOW_PRIVATE_TARGETS: 'true',
  HERALD_LOG_LEVEL: 'warn',
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
    return makeApi(node.url!, ADMIN_KEY);
  }

  /** Starts a node; resolves once it listens (api) or says it started (worker). */
  async start(role: 'api' | 'worker', env: Record<string, string> = {}, timeoutMs = 60_000): Promise<HeraldNode> {
    const dir = await mkdtemp(join(tmpdir(), 'herald-mn-'));
    this.dirs.push(dir);
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'serve'], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...NODE_ENV,
        HERALD_DATA_DIR: dir,
        HERALD_DATABASE_URL: DATABASE_URL,
        HERALD_DATABASE_SCHEMA: this.schema,
        HERALD_ROLE: role,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const { output, exited } = watchChild(child);
    const ending = (signal: NodeJS.Signals, graceMs: number) => async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const code = await exited;
        clearTimeout(timer);
        return code;
      }
      return exited;
    };
    const node: HeraldNode = {
      role, child, url: null, exited, output, stop: ending('SIGTERM', 15_000), kill: ending('SIGKILL', 5_000),
    };
    this.nodes.push(node);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const listening = /listening on (http:\/\/\S+)/.exec(output());
      if (role === 'api' && listening) {
        node.url = listening[1]!.replace(/\/$/, '');
        return node;
      }
      if (role === 'worker' && /worker started/.test(output())) return node;
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`herald serve (${role}) exited before starting:\n${output()}`);
      if (Date.now() > deadline) throw new Error(`herald serve (${role}) did not start within ${timeoutMs} ms:\n${output()}`);
      await sleep(50);
    }
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

// ---- the receiver ------------------------------------------------------------------------

/** A local receiver that counts requests by path and by webhook-id, with arrival times. */
export class CountingReceiver {
  /** Requests per path, in arrival order (ms). */
  readonly times = new Map<string, number[]>();
  /** webhook-id → how many requests carried it. */
  readonly ids = new Map<string, number>();
  total = 0;
  /** Status to answer per path (default 200). */
  readonly status = new Map<string, number>();
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly server: http.Server, readonly url: string) {}

  static async start(): Promise<CountingReceiver> {
    const server = http.createServer();
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const receiver = new CountingReceiver(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('connection', (s) => {
      receiver.sockets.add(s);
      s.on('close', () => receiver.sockets.delete(s));
    });
    server.on('request', (req, res) => {
      const at = Date.now();
      req.resume();
      req.on('end', () => {
        const path = req.url ?? '/';
        receiver.total++;
        const list = receiver.times.get(path);
        if (list) list.push(at);
        else receiver.times.set(path, [at]);
        const id = String(req.headers['webhook-id']);
        receiver.ids.set(id, (receiver.ids.get(id) ?? 0) + 1);
        res.writeHead(receiver.status.get(path) ?? 200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
    return receiver;
  }

  at(path: string): string {
    return this.url + path;
  }

  count(path: string): number {
    return this.times.get(path)?.length ?? 0;
  }

  /** Requests that repeated a webhook-id already seen. */
  duplicates(): number {
    return this.total - this.ids.size;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
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
