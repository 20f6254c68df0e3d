// HTTP clients of the benchmark: Herald's public API (kept-alive undici Pool) and the
// receiver's control API. Only 127.0.0.1 is ever contacted.

import { Pool } from 'undici';
import { wallNow } from './payload.js';

export interface ReceiverStats {
  total: number;
  duplicates: number;
  hangTotal: number;
  hangingOpen: number;
  distinctPaths: number;
  prefixes: Record<string, { count: number; firstAt: number; lastAt: number }>;
  samples: number;
  rssBytes: number;
  latency?: LatencySummary;
}

export interface LatencySummary {
  n: number;
  mean: number | null;
  min: number | null;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  p999: number | null;
  max: number | null;
}

function assertLocal(url: string): void {
  const host = new URL(url).hostname;
  if (host !== '127.0.0.1') throw new Error(`the benchmark only talks to 127.0.0.1, not ${host}`);
}

export class Receiver {
  private readonly pool: Pool;
  constructor(readonly url: string) {
    assertLocal(url);
    this.pool = new Pool(url, { connections: 2 });
  }

  async stats(options: { latency?: boolean; since?: number; prefix?: string } = {}): Promise<ReceiverStats> {
    const q = new URLSearchParams();
    if (options.latency) q.set('lat', '1');
    if (options.since !== undefined) q.set('since', String(options.since));
    if (options.prefix !== undefined) q.set('prefix', options.prefix);
    const res = await this.pool.request({ path: `/_stats?${q}`, method: 'GET', headersTimeout: 30_000, bodyTimeout: 30_000 });
    return (await res.body.json()) as ReceiverStats;
  }

  async reset(): Promise<void> {
    const res = await this.pool.request({ path: '/_reset', method: 'POST', headersTimeout: 10_000 });
    await res.body.dump();
  }

  count(s: ReceiverStats, prefix: string): number {
    return s.prefixes[prefix]?.count ?? 0;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly body: string, what: string) {
    super(`${what}: HTTP ${status} ${body.slice(0, 500)}`);
  }
}

/** Herald's REST API, as a client of the platform would use it. */
export class HeraldApi {
  readonly pool: Pool;
  constructor(readonly url: string, private readonly key: string, connections = 32) {
    assertLocal(url);
    this.pool = new Pool(url, { connections, keepAliveTimeout: 60_000, headersTimeout: 60_000, bodyTimeout: 60_000 });
  }

  async call<T = any>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, timeoutMs = 60_000): Promise<T> {
    const res = await this.pool.request({
      path,
      method,
      headers: {
        authorization: `Bearer ${this.key}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await res.body.text();
    if (res.statusCode >= 300) throw new ApiError(res.statusCode, text, `${method} ${path}`);
    return (text ? JSON.parse(text) : null) as T;
  }

  /** A workspace with webhooks switched on. */
  async workspace(id: string, name: string, uri: string): Promise<void> {
    await this.call('POST', '/api/v1/workspaces', { id, name, uri });
    await this.call('PATCH', `/api/v1/workspaces/${id}`, { webhooks_enabled: true });
  }

  async webhook(ws: string, topic: string, url: string, signing: 'hmac' | 'ed25519' = 'hmac'): Promise<string> {
    const w = await this.call<{ id: string }>('POST', `/api/v1/workspaces/${ws}/webhooks`, {
      topic,
      url,
      secret: `whsec_${Buffer.from(`bench-secret-${ws}-${url}`.padEnd(32, '.').slice(0, 32)).toString('base64')}`,
      description: 'benchmark',
      // Only when asked: a Herald from before signing existed (--herald-root) refuses the field.
      ...(signing === 'hmac' ? {} : { signing }),
    });
    return w.id;
  }

  async deleteWorkspace(id: string): Promise<void> {
    await this.call('DELETE', `/api/v1/workspaces/${id}`).catch(() => undefined);
  }

  /** Publishes a batch; returns the number of deliveries queued. */
  async publishBatch(ws: string, events: { topic: string; data: Record<string, unknown> }[]): Promise<number> {
    const r = await this.call<{ data: { deliveries: number }[] }>('POST', `/api/v1/workspaces/${ws}/events/batch`, { events });
    let n = 0;
    for (const e of r.data) n += e.deliveries;
    return n;
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}

/** Runs fn(i) for i in [0, n) with at most `concurrency` at once. */
export async function runPool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown = null;
  const lane = async () => {
    while (failed === null) {
      const i = next++;
      if (i >= n) return;
      try {
        await fn(i);
      } catch (err) {
        failed = err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane));
  if (failed !== null) throw failed;
}

/** Milliseconds a promise took, with wall-clock stamps. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t = wallNow();
  const value = await fn();
  return { value, ms: wallNow() - t };
}
