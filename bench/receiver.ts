// The benchmark's webhook receiver: a separate process, so that its CPU use is not charged
// to the process that publishes or to Herald. Start it with
//
//     node --import tsx bench/receiver.ts [--port 0]
//
// It listens on 127.0.0.1 only and prints one JSON line, {"port": N}, once it listens.
//
// Receiving: any POST answers 200 "ok" as soon as its body has arrived. Requests are counted
// per path and per prefix (the first path segment: /t/3 counts under "t"), with the wall-clock
// time of the first and the last. A body that contains "sent_at": <ms> (a high-resolution
// wall-clock stamp, performance.timeOrigin + performance.now(), set by the publisher) gives one
// latency sample: receipt time minus sent_at. Paths under /hang/ misbehave until the client
// gives up and closes the socket: /hang/<kind>/… with kind
//   never     — never answers (also any other /hang/… path);
//   late      — answers 200 after 11 s (past Herald's default 10 s time limit);
//   dripbody  — sends the status and headers, then one byte of the body a second;
//   dripheads — sends the status line, then one header line a second, never ending them;
//   huge      — announces a 10 GB body, sends 100 bytes of it and stops.
// Each counts in hangTotal and hangingOpen.
//
// Control (same server):
//   GET  /_stats            counts per prefix, first/last receipt, duplicates, open hangs
//   GET  /_stats?lat=1&since=<ms>&prefix=<p>   plus latency percentiles of the samples whose
//                           sent_at >= since (and whose path is under prefix, when given)
//   GET  /_stats?paths=1    plus the count per full path
//   POST /_reset            forgets everything (and closes requests left hanging)
//   POST /_shutdown         closes the server and exits

import http from 'node:http';
import type { Socket } from 'node:net';

const wallNow = (): number => performance.timeOrigin + performance.now();

const MAX_SAMPLES = 4_000_000;

interface PrefixStats {
  count: number;
  firstAt: number;
  lastAt: number;
}

let total = 0;
let duplicates = 0;
let hangTotal = 0;
const byPrefix = new Map<string, PrefixStats>();
const byPath = new Map<string, number>();
const seenIds = new Set<string>();
const hanging = new Set<http.ServerResponse>();
// Latency samples: receipt latency, the publisher's stamp, and the prefix index of the path.
let latency = new Float64Array(1 << 16);
let sentAt = new Float64Array(1 << 16);
let prefixOf = new Uint16Array(1 << 16);
let samples = 0;
const prefixIndex = new Map<string, number>();

function reset(): void {
  total = 0;
  duplicates = 0;
  hangTotal = 0;
  byPrefix.clear();
  byPath.clear();
  seenIds.clear();
  samples = 0;
  for (const res of hanging) res.destroy();
  hanging.clear();
}

function prefixFor(path: string): string {
  const end = path.indexOf('/', 1);
  return end === -1 ? path.slice(1) : path.slice(1, end);
}

function count(path: string, prefix: string, at: number): void {
  total++;
  byPath.set(path, (byPath.get(path) ?? 0) + 1);
  let p = byPrefix.get(prefix);
  if (!p) {
    p = { count: 0, firstAt: at, lastAt: at };
    byPrefix.set(prefix, p);
  }
  p.count++;
  p.lastAt = at;
}

function addSample(prefix: string, stamp: number, at: number): void {
  if (samples >= MAX_SAMPLES) return;
  if (samples === latency.length) {
    const grow = <T extends Float64Array | Uint16Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(a.length * 2);
      b.set(a);
      return b;
    };
    latency = grow(latency);
    sentAt = grow(sentAt);
    prefixOf = grow(prefixOf);
  }
  let index = prefixIndex.get(prefix);
  if (index === undefined) {
    index = prefixIndex.size;
    prefixIndex.set(prefix, index);
  }
  latency[samples] = at - stamp;
  sentAt[samples] = stamp;
  prefixOf[samples] = index;
  samples++;
}

const SENT_AT = Buffer.from('"sent_at":');

/**
 * The number after "sent_at": in a JSON body, found in the bytes: neither decoding the body to a
 * string nor parsing it (this receiver must cost about what a counting one does, for Herald and
 * for the bare baseline alike).
 */
function findSentAt(body: Buffer): number | null {
  const key = body.indexOf(SENT_AT);
  if (key === -1) return null;
  const from = key + SENT_AT.length;
  const value = Number.parseFloat(body.toString('latin1', from, Math.min(body.length, from + 30)));
  return Number.isFinite(value) ? value : null;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

function latencyStats(since: number, prefix: string | null) {
  const wanted = prefix === null ? -1 : (prefixIndex.get(prefix) ?? -2);
  const picked = new Float64Array(samples);
  let n = 0;
  let sum = 0;
  for (let i = 0; i < samples; i++) {
    if (sentAt[i]! < since) continue;
    if (wanted !== -1 && prefixOf[i] !== wanted) continue;
    picked[n++] = latency[i]!;
    sum += latency[i]!;
  }
  const sorted = picked.subarray(0, n).sort();
  const round = (v: number) => Math.round(v * 1000) / 1000;
  return {
    n,
    mean: n ? round(sum / n) : null,
    min: n ? round(sorted[0]!) : null,
    p50: n ? round(percentile(sorted, 50)) : null,
    p90: n ? round(percentile(sorted, 90)) : null,
    p95: n ? round(percentile(sorted, 95)) : null,
    p99: n ? round(percentile(sorted, 99)) : null,
    p999: n ? round(percentile(sorted, 99.9)) : null,
    max: n ? round(sorted[n - 1]!) : null,
  };
}

function stats(query: URLSearchParams) {
  const out: Record<string, unknown> = {
    total,
    duplicates,
    hangTotal,
    hangingOpen: hanging.size,
    distinctPaths: byPath.size,
    prefixes: Object.fromEntries(byPrefix),
    samples,
    rssBytes: process.memoryUsage.rss(),
  };
  if (query.get('lat') === '1') {
    out.latency = latencyStats(Number(query.get('since') ?? '0') || 0, query.get('prefix'));
  }
  if (query.get('paths') === '1') out.paths = Object.fromEntries(byPath);
  return out;
}

function json(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const DRIP_MS = 1000;

/** The answers of /hang/<kind>/… (see the top of this file); `timer` registers what to clear on close. */
function misbehave(kind: string, req: http.IncomingMessage, res: http.ServerResponse, timer: (t: NodeJS.Timeout) => void): void {
  const every = (ms: number, fn: () => void) => timer(setInterval(fn, ms));
  switch (kind) {
    case 'late':
      timer(setTimeout(() => res.end('ok'), 11_000));
      return;
    case 'dripbody':
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '1000000' });
      every(DRIP_MS, () => res.write('.'));
      return;
    case 'dripheads':
      // Written on the socket itself: node:http would send the whole head at once.
      req.socket.write('HTTP/1.1 200 OK\r\n');
      every(DRIP_MS, () => req.socket.write('x-drip: .\r\n'));
      return;
    case 'huge':
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(10 * 1024 ** 3) });
      res.write(Buffer.alloc(100, 'x'));
      return;
    default: // never
  }
}

const server = http.createServer((req, res) => {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);

  if (path.startsWith('/_')) {
    req.resume();
    req.on('end', () => {
      if (path === '/_stats' && req.method === 'GET') return json(res, 200, stats(new URLSearchParams(q === -1 ? '' : url.slice(q + 1))));
      if (path === '/_reset' && req.method === 'POST') {
        reset();
        return json(res, 200, { ok: true });
      }
      if (path === '/_shutdown' && req.method === 'POST') {
        json(res, 200, { ok: true });
        shutdown();
        return;
      }
      json(res, 404, { error: 'unknown control path' });
    });
    return;
  }

  if (path.startsWith('/hang/')) {
    hangTotal++;
    hanging.add(res);
    req.resume(); // read the body, then misbehave
    const timers: NodeJS.Timeout[] = [];
    res.on('close', () => {
      hanging.delete(res);
      for (const t of timers) clearTimeout(t);
    });
    misbehave(path.split('/')[2] ?? '', req, res, (t) => timers.push(t));
    return;
  }

  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const at = wallNow();
    const prefix = prefixFor(path);
    count(path, prefix, at);
    const id = req.headers['webhook-id'];
    if (typeof id === 'string') {
      if (seenIds.has(id)) duplicates++;
      else seenIds.add(id);
    }
    const stamp = findSentAt(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
    if (stamp !== null) addSample(prefix, stamp, at);
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    res.end('ok');
  });
});

// Keep client connections open as long as a client wants; never time out a slow request here
// (the hang paths rely on the client's own timeout).
server.keepAliveTimeout = 120_000;
server.headersTimeout = 130_000;
server.requestTimeout = 0;
server.maxHeadersCount = 200;

const sockets = new Set<Socket>();
server.on('connection', (s) => {
  sockets.add(s);
  s.on('close', () => sockets.delete(s));
});

function shutdown(): void {
  server.close();
  for (const res of hanging) res.destroy();
  setTimeout(() => {
    for (const s of sockets) s.destroy();
    process.exit(0);
  }, 50).unref();
}

process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
// The orchestrator's end of our stdin closes when it dies: do not outlive it.
process.stdin.on('end', shutdown);
process.stdin.on('error', shutdown);
process.stdin.resume();

const portArg = process.argv.indexOf('--port');
const port = portArg === -1 ? 0 : Number(process.argv[portArg + 1]);
server.listen(port, '127.0.0.1', () => {
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  process.stdout.write(JSON.stringify({ port: actual, pid: process.pid }) + '\n');
});
