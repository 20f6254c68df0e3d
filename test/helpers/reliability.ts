// Helpers for the reliability suite (test/reliability) and the soak script: raw HTTP requests
// (paths sent exactly as given), tmpfs mounts, row counts of the store, streams of events, a
// second worker on the same database, and a file's scope of things to stop.
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import pino from 'pino';
import { after } from 'node:test';
import { sleep, startHerald, type Api, type ApiResponse, type TestHerald } from './herald.js';
import { Receiver, type Responder } from './receiver.js';
import { DeliveryWorker } from '../../src/delivery/worker.js';
import { createLimiter, createSender } from '../../src/delivery/setup.js';
import { SecretBox } from '../../src/domain/secret-box.js';

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
 * What a test file starts and must stop: Heralds, receivers and anything else handed
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
    async receiver(responder?: Responder): Promise<Receiver> {
      const r = await Receiver.start(responder);
      defer(() => r.close());
      return r;
    },
  };
}
