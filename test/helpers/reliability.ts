// Helpers for the reliability suite (test/reliability) and the soak script: Herald as a
// child process that can be killed, a receiver that tracks every request and socket, raw
// HTTP requests (paths sent exactly as given), tmpfs mounts, and row counts of the store.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net, { type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { after } from 'node:test';
import { makeApi, sleep, startHerald, waitUntil, type Api, type ApiResponse, type TestHerald } from './herald.js';
import { DeliveryWorker } from '../../src/delivery/worker.js';
import { createLimiter, createSender } from '../../src/delivery/setup.js';
import { SecretBox } from '../../src/domain/secret-box.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CHILD_ADMIN_KEY = 'hrd_admin_reliability-test-admin-key-0123456789';

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ---- Herald as a child process ------------------------------------------------------------

export interface ChildHeraldOptions {
  dataDir: string;
  /** Default: a free port. Reuse the same port across restarts so URLs stay valid. */
  port?: number;
  adminKey?: string;
  /** Extra HERALD_* variables (strings). */
  env?: Record<string, string>;
  /** How long to wait for /healthz, default 90 s (a loaded machine is slow to start tsx). */
  readyTimeoutMs?: number;
}

export interface ChildHerald {
  url: string;
  port: number;
  adminKey: string;
  proc: ChildProcess;
  api: Api;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  /** Sends the signal and waits for the exit (SIGKILL after `graceMs` if it lingers). */
  kill(signal?: NodeJS.Signals, graceMs?: number): Promise<number | string>;
}

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
});

/**
 * Starts `node --import tsx src/cli/main.ts serve` with its own data directory and waits for
 * /healthz. Private targets are allowed and the log level is warn unless `env` says otherwise.
 */
export async function spawnHerald(options: ChildHeraldOptions): Promise<ChildHerald> {
  const port = options.port ?? (await freePort());
  const adminKey = options.adminKey ?? CHILD_ADMIN_KEY;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    HERALD_DATA_DIR: options.dataDir,
    HERALD_HOST: '127.0.0.1',
    HERALD_PORT: String(port),
    HERALD_ADMIN_KEY: adminKey,
    HERALD_ALLOW_PRIVATE_TARGETS: 'true',
    HERALD_LOG_LEVEL: 'warn',
    ...options.env,
  };
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  let out = '';
  const keep = (chunk: Buffer) => {
    out += chunk.toString('utf8');
    // Bounded: a debug log of a long run must not eat the test's memory.
    if (out.length > 64 * 1024 * 1024) out = out.slice(-32 * 1024 * 1024);
  };
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const exited = new Promise<number | string>((resolve) => {
    proc.once('exit', (code, signal) => {
      children.delete(proc);
      resolve(code ?? signal ?? 'unknown');
    });
  });
  let gone = false;
  void exited.then(() => (gone = true));

  const url = `http://127.0.0.1:${port}`;
  const child: ChildHerald = {
    url, port, adminKey, proc, exited,
    api: makeApi(url, adminKey),
    output: () => out,
    async kill(signal: NodeJS.Signals = 'SIGTERM', graceMs = 30_000) {
      if (!gone) proc.kill(signal);
      const timer = setTimeout(() => {
        if (!gone) proc.kill('SIGKILL');
      }, graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  try {
    await waitUntil(
      async () => {
        if (gone) throw new Error(`Herald exited before it was ready:\n${out}`);
        try {
          const res = await fetch(`${url}/healthz`);
          return res.status === 200;
        } catch {
          return false;
        }
      },
      { timeoutMs: options.readyTimeoutMs ?? 90_000, intervalMs: 100, message: () => `Herald did not answer /healthz:\n${out}` },
    );
  } catch (err) {
    await child.kill('SIGKILL');
    throw err;
  }
  return child;
}

// ---- a receiver that tracks requests, overlaps and sockets ---------------------------------

export interface Seen {
  /** The webhook-id header (the delivery id). */
  id: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** Date.now() when the body had arrived. */
  at: number;
  /** Date.now() when the exchange ended (answered, or the connection closed); null while open. */
  endedAt: number | null;
}

/** Answers (or not) through `res`; whatever it returns is ignored (a rejection answers 599). */
export type Handler = (seen: Seen, res: http.ServerResponse) => unknown;

/**
 * A receiver that counts receipts per webhook-id, how many exchanges were open at once
 * (overall, and for the same webhook-id), and how many sockets were open at once. Its handler
 * decides the answer; the default answers 200 at once.
 */
export class TrackingReceiver {
  readonly seen: Seen[] = [];
  readonly byId = new Map<string, number>();
  open = 0;
  maxOpen = 0;
  sockets = 0;
  maxSockets = 0;
  /** The same webhook-id had two exchanges open at once. */
  readonly overlaps: string[] = [];
  private readonly openIds = new Map<string, number>();
  private readonly socketSet = new Set<Socket>();
  handler: Handler = (_s, res) => void res.end('{"ok":true}');

  private constructor(private readonly server: http.Server, readonly url: string) {}

  static async start(handler?: Handler): Promise<TrackingReceiver> {
    const server = http.createServer();
    server.keepAliveTimeout = 60_000;
    server.headersTimeout = 120_000;
    server.requestTimeout = 0;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const r = new TrackingReceiver(server, `http://127.0.0.1:${port}`);
    if (handler) r.handler = handler;
    server.on('connection', (socket) => {
      r.socketSet.add(socket);
      r.sockets++;
      r.maxSockets = Math.max(r.maxSockets, r.sockets);
      socket.on('close', () => {
        r.socketSet.delete(socket);
        r.sockets--;
      });
    });
    server.on('request', (req, res) => r.handle(req, res));
    return r;
  }

  at(path: string): string {
    return this.url + path;
  }

  /** Webhook-ids received more than once. */
  duplicates(): string[] {
    return [...this.byId].filter(([, n]) => n > 1).map(([id]) => id);
  }

  count(path?: string): number {
    return path === undefined ? this.seen.length : this.seen.filter((s) => s.path === path).length;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    req.on('end', () => {
      const id = String(req.headers['webhook-id'] ?? '');
      const seen: Seen = {
        id, path: (req.url ?? '').split('?')[0]!, headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now(), endedAt: null,
      };
      this.seen.push(seen);
      this.byId.set(id, (this.byId.get(id) ?? 0) + 1);
      this.open++;
      this.maxOpen = Math.max(this.maxOpen, this.open);
      const already = this.openIds.get(id) ?? 0;
      if (already > 0 && id !== '') this.overlaps.push(id);
      this.openIds.set(id, already + 1);
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        seen.endedAt = Date.now();
        this.open--;
        this.openIds.set(id, (this.openIds.get(id) ?? 1) - 1);
      };
      res.once('finish', end);
      res.once('close', end);
      Promise.resolve(this.handler(seen, res)).catch(() => {
        if (!res.headersSent) res.writeHead(599);
        res.end();
      });
    });
  }

  async close(): Promise<void> {
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.socketSet) s.destroy();
    this.server.closeAllConnections();
    await done;
  }
}

// ---- raw HTTP -----------------------------------------------------------------------------

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  body: any;
}

/**
 * One request with the path sent exactly as given (no URL normalisation), any headers and any
 * body bytes. Connection errors reject.
 */
export function rawRequest(
  baseUrl: string,
  options: { method: string; path: string; headers?: Record<string, string | number>; body?: string | Buffer; timeoutMs?: number },
): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: hostname, port: Number(port), method: options.method, path: options.path, headers: options.headers, agent: false, insecureHTTPParser: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: any = null;
          try {
            body = text === '' ? null : JSON.parse(text);
          } catch {
            body = text;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
        });
      },
    );
    req.setTimeout(options.timeoutMs ?? 30_000, () => req.destroy(new Error('raw request timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}

// ---- tmpfs --------------------------------------------------------------------------------

/** Mounts a tmpfs of `size` (e.g. "8m") on `dir`; returns a reason when that is not possible. */
export function mountTmpfs(dir: string, size: string): string | null {
  if (process.getuid?.() !== 0) return 'not running as root, so a tmpfs cannot be mounted';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
    return null;
  } catch (err) {
    return `mount -t tmpfs failed: ${String((err as { stderr?: Buffer }).stderr ?? err).trim()}`;
  }
}

export async function unmount(dir: string): Promise<void> {
  for (let i = 0; i < 20; i++) {
    try {
      execFileSync('umount', [dir], { stdio: 'pipe' });
      return;
    } catch {
      await sleep(250); // still busy: a database handle closing
    }
  }
  execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
}

// ---- the store's rows -----------------------------------------------------------------------

export interface RowCounts {
  workspaces: number;
  api_keys: number;
  topics: number;
  webhooks: number;
  events: number;
  deliveries: number;
  attempts: number;
}

/** Row counts straight from a SQLite database handle (better-sqlite3). */
export function rowCounts(db: { prepare(sql: string): { get(): unknown } }): RowCounts {
  const n = (table: string) => (db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  return {
    workspaces: n('workspaces'), api_keys: n('api_keys'), topics: n('topics'), webhooks: n('webhooks'),
    events: n('events'), deliveries: n('deliveries'), attempts: n('attempts'),
  };
}

/** Counts of deliveries by status in a workspace, through the API (every page). */
export async function deliveryStatusCounts(api: Api, ws: string, query: Record<string, string> = {}): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let cursor: string | null = null;
  do {
    const q: URLSearchParams = new URLSearchParams({ ...query, limit: '500', ...(cursor ? { cursor } : {}) });
    const res: ApiResponse = await api('GET', `/api/v1/workspaces/${ws}/deliveries?${q}`);
    if (res.status !== 200) throw new Error(`listing deliveries: ${res.status} ${res.text}`);
    for (const d of res.body.data) counts[d.status] = (counts[d.status] ?? 0) + 1;
    cursor = res.body.next_cursor;
  } while (cursor);
  return counts;
}

/** True when the workspace has no pending delivery left. */
export async function queueDrained(api: Api, ws: string): Promise<boolean> {
  const res = await api('GET', `/api/v1/workspaces/${ws}/deliveries?status=pending&limit=1`);
  if (res.status !== 200) return false;
  return res.body.data.length === 0;
}

/**
 * Publishes `ids` as events (client ids, so a repeat is idempotent) from `parallel` concurrent
 * streams, `batch` events per request (1: POST …/events, more: POST …/events/batch); calls
 * `onAccepted` for each event of a 202. Stops early when `stop()` says so. Connection errors
 * and other answers leave the ids unaccepted.
 */
export async function streamEvents(
  api: Api,
  ws: string,
  topic: string,
  ids: string[],
  options: { parallel: number; batch?: number; stop?: () => boolean; onAccepted?: (id: string) => void; data?: (id: string) => Record<string, unknown> },
): Promise<{ accepted: Set<string>; failed: number }> {
  const accepted = new Set<string>();
  const size = Math.max(1, options.batch ?? 1);
  const data = options.data ?? ((id: string) => ({ n: id }));
  let failed = 0;
  let next = 0;
  const stream = async () => {
    while (next < ids.length && !options.stop?.()) {
      const chunk = ids.slice(next, next + size);
      next += chunk.length;
      try {
        const res =
          size === 1
            ? await api('POST', `/api/v1/workspaces/${ws}/events`, { topic, id: chunk[0], data: data(chunk[0]!) })
            : await api('POST', `/api/v1/workspaces/${ws}/events/batch`, { events: chunk.map((id) => ({ topic, id, data: data(id) })) });
        if (res.status === 202) {
          for (const id of chunk) {
            accepted.add(id);
            options.onAccepted?.(id);
          }
        } else failed += chunk.length;
      } catch {
        failed += chunk.length;
        await sleep(20);
      }
    }
  };
  await Promise.all(Array.from({ length: options.parallel }, stream));
  return { accepted, failed };
}

// ---- a second worker on the same database ---------------------------------------------------

export interface ExtraWorker {
  worker: DeliveryWorker;
  /** Attempts this worker made (results it recorded). */
  results(): number;
  stop(): Promise<void>;
}

/**
 * Another delivery worker on an in-process Herald's database, as a second node would be:
 * its own sender, limiter and concurrency, competing for the same queue under the same leases.
 */
export function startExtraWorker(h: TestHerald, options: { concurrency: number; maxIdleMs?: number }): ExtraWorker {
  const c = h.config;
  const { sender, runner } = createSender(c, new SecretBox(c.encryptionKey));
  let results = 0;
  const worker = new DeliveryWorker(
    h.herald.store, runner,
    createLimiter(c),
    { concurrency: options.concurrency, leaseMs: c.leaseMs, maxIdleMs: options.maxIdleMs ?? 200 },
    pino({ level: 'silent' }),
    { onResult: () => void results++ },
  );
  worker.start();
  let stopped = false;
  return {
    worker,
    results: () => results,
    async stop() {
      if (stopped) return;
      stopped = true;
      await worker.stop();
      await sender.close();
    },
  };
}

/**
 * What a test file starts and must stop: Heralds, tracking receivers and anything else handed
 * to `defer`, all stopped (newest first) after the file's tests.
 */
export function fileScope() {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  after(async () => {
    while (cleanups.length) await Promise.resolve().then(cleanups.pop()!).catch(() => undefined);
  });
  const defer = (...fns: (() => Promise<unknown> | unknown)[]) => void cleanups.push(...fns);
  return {
    defer,
    async herald(overrides: Parameters<typeof startHerald>[0]): Promise<TestHerald> {
      const h = await startHerald(overrides);
      defer(() => h.stop());
      return h;
    },
    async receiver(handler?: Handler): Promise<TrackingReceiver> {
      const r = await TrackingReceiver.start(handler);
      defer(() => r.close());
      return r;
    },
  };
}
