// The bare baseline's client, in a process of its own (started by processes.ts): what delivery
// costs with nothing else — no API, no database, no signing — POSTing the same bodies to the
// same receiver. A process of its own so that the orchestrator's polling and publishing do not
// take its CPU, and so that its CPU time per POST can be read from /proc like Herald's.
//
// Protocol: one JSON line per command on stdin ({"blast": BareTraffic}), one JSON line per
// answer on stdout ({"ready": pid} first, then {"done": BlastResult} per command).

import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Pool, type Dispatcher } from 'undici';
import { deliveredBody, shopName, shopUri, walletReward, wallNow } from './payload.js';

/** What to send: serialisable, so that the orchestrator can describe it to this process. */
export interface BareTraffic {
  receiverUrl: string;
  count: number;
  /** Connections of the pool, and requests in flight (one per connection, no pipelining). */
  connections: number;
  timeoutMs: number;
  /** Request i goes to /<prefix>/<shard> (or /hang/<shard> for a shard in hangShards). */
  prefix: string;
  shards: number;
  /**
   * "grouped": shard = floor(i / group) % shards, as batches of `group` events round-robin over
   * workspaces; "fanout": one event per `shards` requests (event floor(i / shards), one body
   * for all of them, as Herald sends the same bytes to each webhook), request i to shard i % shards.
   */
  layout: 'grouped' | 'fanout';
  group: number;
  hangShards?: number[];
  /** Put the send time into each body's sent_at, for the receiver's latency. */
  stamp: boolean;
  /** Stop starting requests after this wall-clock time (ms). */
  deadline?: number;
  /**
   * Headers to send instead of a lone content-type (Herald's signed set: what parsing them costs
   * the receiver); webhook-id, when there, is made unique per request, as the receiver counts
   * repeats of one.
   */
  headers?: Record<string, string>;
}

export interface BlastResult {
  ok: number;
  errors: number;
  started: number;
  /** Wall-clock times of the first request and of the last answer. */
  startedAt: number;
  finishedAt: number;
}

/**
 * undici's low-level dispatch with one small handler per request, as Herald's sender does:
 * no response stream or AbortSignal per request (the pool's headers/body timeouts bound it).
 */
class Exchange implements Dispatcher.DispatchHandler {
  private status = 0;
  constructor(private readonly done: (ok: boolean) => void) {}
  onRequestStart(): void {}
  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number): void {
    this.status = statusCode;
  }
  onResponseData(): void {}
  onResponseEnd(): void {
    this.done(this.status >= 200 && this.status < 300);
  }
  onResponseError(): void {
    this.done(false);
  }
}

export async function blast(t: BareTraffic): Promise<BlastResult> {
  const pool = new Pool(t.receiverUrl, {
    connections: t.connections,
    pipelining: 1,
    keepAliveTimeout: 30_000,
    headersTimeout: t.timeoutMs,
    bodyTimeout: t.timeoutMs,
  });
  const hang = new Set(t.hangShards ?? []);
  const plain = { 'content-type': 'application/json' };
  const headersOf = (i: number): Record<string, string> =>
    !t.headers ? plain : t.headers['webhook-id'] === undefined ? t.headers : { ...t.headers, 'webhook-id': `${t.headers['webhook-id']}${i}` };
  let lastEvent = -1;
  let lastBody = '';
  const request = (i: number): { path: string; body: string } => {
    if (t.layout === 'fanout') {
      const e = Math.floor(i / t.shards);
      if (e !== lastEvent) {
        const data = walletReward(e);
        if (t.stamp) data.sent_at = wallNow();
        lastBody = deliveredBody(data, shopName(0), shopUri(0));
        lastEvent = e;
      }
      return { path: `/${t.prefix}/${i % t.shards}`, body: lastBody };
    }
    const shard = Math.floor(i / t.group) % t.shards;
    const data = walletReward(i);
    if (t.stamp) data.sent_at = wallNow();
    return { path: `/${hang.has(shard) ? 'hang' : t.prefix}/${shard}`, body: deliveredBody(data, shopName(shard), shopUri(shard)) };
  };
  let next = 0;
  let ok = 0;
  let errors = 0;
  const startedAt = wallNow();
  const send = (i: number): Promise<void> => new Promise((resolve) => {
    const { path, body } = request(i);
    const handler = new Exchange((good) => {
      if (good) ok++;
      else errors++;
      resolve();
    });
    try {
      pool.dispatch({ path, method: 'POST', headers: headersOf(i), body }, handler);
    } catch {
      errors++;
      resolve();
    }
  });
  const lane = async () => {
    for (;;) {
      if (t.deadline !== undefined && wallNow() > t.deadline) return;
      const i = next++;
      if (i >= t.count) return;
      await send(i);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(t.connections, t.count) }, lane));
  } finally {
    await pool.destroy();
  }
  return { ok, errors, started: Math.min(next, t.count), startedAt, finishedAt: wallNow() };
}

// Run as a script (by processes.ts), not when imported for its types.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // The orchestrator's end of stdin closes when it dies: do not outlive it.
  const lines = createInterface({ input: process.stdin });
  lines.on('close', () => process.exit(0));
  let queue = Promise.resolve();
  lines.on('line', (line) => {
    const command = JSON.parse(line) as { blast: BareTraffic };
    queue = queue.then(async () => {
      const result = await blast(command.blast);
      process.stdout.write(JSON.stringify({ done: result }) + '\n');
    });
  });
  process.stdout.write(JSON.stringify({ ready: process.pid }) + '\n');
}
