// npm run soak [-- --duration 180 --rate 40 --kill-every 20]
//
// A longer mixed load against a real Herald process: every event fans out to five receivers
// on 127.0.0.1 — healthy, flaky (30 % answered 500), failing (always 500), hanging (never
// answers) and redirecting (302, which Herald must not follow) — while Herald is killed with
// SIGKILL every so often and started again on the same data directory. At the end it prints
// what was sent, what arrived, duplicates and losses, and exits 1 if anything accepted was lost.
// Nothing leaves the machine; the run is bounded by --duration plus a bounded drain.
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { deliveryStatusCounts } from '../test/helpers/reliability.js';
import { spawnHerald, type HeraldProcess as ChildHerald } from '../test/helpers/process.js';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '180' },
    rate: { type: 'string', default: '40' },
    'kill-every': { type: 'string', default: '20' },
    concurrency: { type: 'string', default: '64' },
    'drain-timeout': { type: 'string', default: '120' },
    keep: { type: 'boolean', default: false },
  },
});
const DURATION_MS = seconds(args.duration!, '--duration') * 1000;
const RATE = seconds(args.rate!, '--rate');
const KILL_EVERY_MS = seconds(args['kill-every']!, '--kill-every') * 1000;
const CONCURRENCY = Math.max(1, Math.floor(seconds(args.concurrency!, '--concurrency')));
const DRAIN_MS = seconds(args['drain-timeout']!, '--drain-timeout') * 1000;

function seconds(raw: string, flag: string): number {
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`${flag} must be a positive number, got "${raw}"`);
    process.exit(2);
  }
  return n;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const t0 = Date.now();
const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s]`;
const say = (line: string) => console.log(`${stamp()} ${line}`);

// ---- receivers ------------------------------------------------------------------------------

type Kind = 'healthy' | 'flaky' | 'failing' | 'hanging' | 'redirect';
const KINDS: Kind[] = ['healthy', 'flaky', 'failing', 'hanging', 'redirect'];

/** Lean bookkeeping: per webhook-id how often it came, per event when it first came / first got a 2xx. */
class SoakReceiver {
  requests = 0;
  readonly byDelivery = new Map<string, number>();
  readonly firstSeen = new Map<string, number>();
  readonly answered2xx = new Set<string>();
  /** webhook-id → how often it was answered 2xx (more than once: delivered twice). */
  readonly okByDelivery = new Map<string, number>();
  strays = 0;
  private readonly sockets = new Set<Socket>();
  private constructor(readonly kind: Kind, private readonly server: http.Server, readonly url: string) {}

  static async start(kind: Kind, redirectTo?: () => string): Promise<SoakReceiver> {
    const server = http.createServer();
    server.keepAliveTimeout = 60_000;
    server.requestTimeout = 0;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const r = new SoakReceiver(kind, server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/${kind}`);
    server.on('connection', (s) => {
      r.sockets.add(s);
      s.on('close', () => r.sockets.delete(s));
    });
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('error', () => undefined);
      res.on('error', () => undefined);
      req.on('end', () => {
        if (!req.url?.startsWith(`/${kind}`)) {
          r.strays++; // e.g. a followed redirect
          res.end('{}');
          return;
        }
        r.requests++;
        const id = String(req.headers['webhook-id'] ?? '');
        r.byDelivery.set(id, (r.byDelivery.get(id) ?? 0) + 1);
        let n: string | null = null;
        try {
          n = String(JSON.parse(Buffer.concat(chunks).toString('utf8')).n);
        } catch {
          /* not one of ours */
        }
        if (n !== null && !r.firstSeen.has(n)) r.firstSeen.set(n, Date.now());
        const ok = () => {
          if (n !== null) r.answered2xx.add(n);
          r.okByDelivery.set(id, (r.okByDelivery.get(id) ?? 0) + 1);
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"ok":true}');
        };
        switch (kind) {
          case 'healthy':
            setTimeout(ok, Math.floor(Math.random() * 20));
            return;
          case 'flaky':
            if (Math.random() < 0.3) {
              res.writeHead(500);
              res.end('{"error":"flaky"}');
            } else ok();
            return;
          case 'failing':
            res.writeHead(500);
            res.end('{"error":"always"}');
            return;
          case 'hanging':
            return; // never answers
          case 'redirect':
            res.writeHead(302, { location: redirectTo!() });
            res.end();
            return;
        }
      });
    });
    return r;
  }

  /** Webhook-ids answered 2xx more than once: delivered twice. */
  duplicates(): number {
    let n = 0;
    for (const c of this.okByDelivery.values()) if (c > 1) n++;
    return n;
  }

  /** Requests beyond the first of each webhook-id (retries after failures, and duplicates). */
  repeats(): number {
    return this.requests - this.byDelivery.size;
  }

  async close(): Promise<void> {
    const done = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    await done;
  }
}

// ---- the run ----------------------------------------------------------------------------------

async function main(): Promise<number> {
  const dataDir = await mkdtemp(join(tmpdir(), 'herald-soak-'));
  const receivers = {} as Record<Kind, SoakReceiver>;
  for (const kind of KINDS) receivers[kind] = await SoakReceiver.start(kind, () => `${receivers.healthy.url.replace(/\/healthy$/, '')}/followed-redirect`);
  const env = {
    HERALD_WORKER_CONCURRENCY: String(CONCURRENCY),
    HERALD_DELIVERY_TIMEOUT_MS: '2000',
    HERALD_LEASE_MS: '4000',
    HERALD_RETRY_BASE_MS: '500',
    HERALD_RETRY_FACTOR: '2',
    HERALD_MAX_RETRIES: '5',
    HERALD_CIRCUIT_COOLDOWN_MS: '2000',
    HERALD_LOG_LEVEL: 'warn',
  };
  let h: ChildHerald = await spawnHerald({ dataDir, env });
  say(`Herald started on ${h.url} (data in ${dataDir}); ${args.duration} s, ~${RATE} events/s, a SIGKILL about every ${KILL_EVERY_MS / 1000} s`);
  const herald = { current: h, restarting: false };

  let exitCode = 0;
  try {
    const ws = (await h.api('POST', '/api/v1/workspaces', { name: 'Soak Supplies', uri: 'https://soak.example' })).body.id as string;
    await h.api('PATCH', `/api/v1/workspaces/${ws}`, { webhooks_enabled: true });
    const webhookIds = {} as Record<Kind, string>;
    for (const kind of KINDS) {
      const res = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks`, { topic: 'order_create', url: receivers[kind].url, description: kind });
      if (res.status !== 201) throw new Error(`creating the ${kind} webhook: ${res.status} ${res.text}`);
      webhookIds[kind] = res.body.id;
    }

    // Publisher: batches of 1-10 events with client ids, from a few parallel streams at about
    // RATE events/s; a batch that fails (Herald down, 503) goes back in the queue, same ids.
    const acceptedAt = new Map<string, number>();
    const queue: string[][] = [];
    let generated = 0;
    let publishErrors = 0;
    let generating = true;
    const deadline = t0 + DURATION_MS;
    const generator = (async () => {
      const started = Date.now();
      while (Date.now() < deadline) {
        const due = Math.floor(((Date.now() - started) / 1000) * RATE);
        while (generated < due) {
          const size = Math.min(due - generated, 1 + Math.floor(Math.random() * 10));
          queue.push(Array.from({ length: size }, (_, i) => `soak-${generated + i}`));
          generated += size;
        }
        await sleep(50);
      }
      generating = false;
    })();
    const streams = Array.from({ length: 4 }, async () => {
      const giveUpAt = () => deadline + 30_000;
      while (generating || (queue.length > 0 && Date.now() < giveUpAt())) {
        const batch = queue.shift();
        if (!batch) {
          await sleep(20);
          continue;
        }
        try {
          const res = await herald.current.api('POST', `/api/v1/workspaces/${ws}/events/batch`, {
            events: batch.map((id) => ({ topic: 'order_create', id, data: { n: id, sent_at: Date.now() } })),
          });
          if (res.status === 202) {
            const now = Date.now();
            for (const id of batch) if (!acceptedAt.has(id)) acceptedAt.set(id, now);
            continue;
          }
          publishErrors++;
        } catch {
          publishErrors++;
        }
        queue.unshift(batch);
        await sleep(100);
      }
    });

    // Killer: SIGKILL, then start again on the same directory and port.
    let kills = 0;
    const killer = (async () => {
      for (;;) {
        const wait = KILL_EVERY_MS * (0.75 + Math.random() * 0.5);
        if (Date.now() + wait > deadline - 5_000) break;
        await sleep(wait);
        const inFlight = receivers.hanging.requests;
        await herald.current.kill('SIGKILL');
        kills++;
        say(`SIGKILL #${kills} (accepted so far ${acceptedAt.size}, healthy received ${receivers.healthy.firstSeen.size}, hanging requests ${inFlight})`);
        herald.current = await spawnHerald({ dataDir, env, port: h.port });
        say('restarted');
      }
    })();

    let lastReport = Date.now();
    while (generating) {
      await sleep(500);
      if (Date.now() - lastReport >= 10_000) {
        lastReport = Date.now();
        say(`accepted ${acceptedAt.size}/${generated}, healthy ${receivers.healthy.firstSeen.size}, flaky ${receivers.flaky.answered2xx.size}, queue ${queue.length}`);
      }
    }
    await generator;
    await Promise.all(streams);
    await killer;
    const accepted = [...acceptedAt.keys()];
    say(`publishing done: ${accepted.length} of ${generated} events accepted; draining (at most ${DRAIN_MS / 1000} s)`);

    // Drain: every accepted event reaches the healthy receiver and gets a 2xx from the flaky one
    // (or its delivery there has used up its retries).
    const drainDeadline = Date.now() + DRAIN_MS;
    let flakyFailed = 0;
    for (;;) {
      const healthyMissing = accepted.filter((id) => !receivers.healthy.firstSeen.has(id)).length;
      let flakyDone = false;
      if (healthyMissing === 0) {
        const counts = await deliveryStatusCounts(herald.current.api, ws, { webhook_id: webhookIds.flaky }).catch(() => ({}) as Record<string, number>);
        flakyFailed = counts.failed ?? 0;
        flakyDone = (counts.pending ?? 0) === 0;
      }
      if ((healthyMissing === 0 && flakyDone) || Date.now() > drainDeadline) break;
      await sleep(1000);
    }
    say('drained');

    // ---- the report ----
    const statuses = {} as Record<Kind, Record<string, number>>;
    for (const kind of KINDS) statuses[kind] = await deliveryStatusCounts(herald.current.api, ws, { webhook_id: webhookIds[kind] });
    const own = await herald.current.api('GET', `/api/v1/workspaces/${ws}/events?topic=delivery.failed&limit=500`);
    const elapsed = (Date.now() - t0) / 1000;
    const latencies = accepted.map((id) => receivers.healthy.firstSeen.get(id)! - acceptedAt.get(id)!).filter((n) => Number.isFinite(n)).sort((a, b) => a - b);
    const pct = (p: number) => (latencies.length ? `${latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]} ms` : '-');

    console.log('');
    console.log(`Herald soak: ${elapsed.toFixed(0)} s in all, ${kills} SIGKILL(s) each followed by a restart, worker concurrency ${CONCURRENCY}`);
    console.log(`events: generated ${generated}, accepted (202) ${accepted.length}, never accepted ${generated - accepted.length}, publish attempts refused or cut off ${publishErrors}`);
    console.log('');
    console.log('receiver   requests  events reached  delivered (2xx)  repeats  duplicates  never reached  deliveries by status (API)');
    const lost = {} as Record<Kind, number>;
    for (const kind of KINDS) {
      const r = receivers[kind];
      lost[kind] = accepted.filter((id) => !r.firstSeen.has(id)).length;
      console.log(
        `${kind.padEnd(9)}  ${String(r.requests).padStart(8)}  ${String(r.firstSeen.size).padStart(14)}  ${String(r.answered2xx.size).padStart(15)}  ${String(r.repeats()).padStart(7)}  ${String(r.duplicates()).padStart(10)}  ${String(lost[kind]).padStart(13)}  ${JSON.stringify(statuses[kind])}`,
      );
    }
    console.log('(repeats: requests after the first of a delivery — retries, and duplicates; duplicates: deliveries answered 2xx twice;');
    console.log(' for failing, hanging and redirect, "never reached" means still waiting behind an open circuit, not lost)');
    console.log('');
    console.log(`healthy: publish → first arrival p50 ${pct(50)}, p99 ${pct(99)}, max ${latencies.length ? latencies.at(-1) + ' ms' : '-'}`);
    const dups = receivers.healthy.duplicates() + receivers.flaky.duplicates();
    console.log(`duplicates (healthy + flaky): ${dups} (bound: ${kills} kills × ${CONCURRENCY} in flight = ${kills * CONCURRENCY})`);
    console.log(`flaky: ${receivers.flaky.answered2xx.size} of ${accepted.length} events answered 2xx; ${flakyFailed} deliveries used up their retries (30 %^6 ≈ 0.07 % expected)`);
    console.log(`redirects followed: ${receivers.healthy.strays} (must be 0); delivery.failed events emitted: ${own.body?.data?.length ?? '?'}${own.body?.next_cursor ? '+' : ''}`);

    const problems: string[] = [];
    if (lost.healthy > 0) problems.push(`${lost.healthy} accepted events never reached the healthy receiver`);
    if (lost.flaky > 0) problems.push(`${lost.flaky} accepted events never reached the flaky receiver`);
    if (dups > kills * CONCURRENCY) problems.push('more duplicates than attempts that can be in flight at the kills');
    if (receivers.healthy.strays > 0) problems.push('a redirect was followed');
    if (generated - accepted.length > 0) problems.push(`${generated - accepted.length} events were never accepted`);
    console.log('');
    console.log(problems.length === 0 ? 'verdict: OK — nothing accepted was lost' : `verdict: FAILED — ${problems.join('; ')}`);
    exitCode = problems.length === 0 ? 0 : 1;
  } finally {
    await herald.current.kill('SIGTERM', 15_000).catch(() => undefined);
    for (const r of Object.values(receivers)) await r.close();
    if (!args.keep) await rm(dataDir, { recursive: true, force: true });
  }
  return exitCode;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
