// The SQLite store's hot path on its own, in one thread: publishing events, claiming their
// deliveries and recording their results, with the statements, transactions and disk writes
// Herald runs, and nothing else (no HTTP, no threads, no receiver). Its figures move with the
// store's code, not with what else the machine runs, so changes of a few microseconds per
// delivery show here when a full `npm run bench` cannot tell them from noise.
//
//     npm run bench:store [-- --events 20000 --rounds 5 --claim 128 --group 1]
//     npm run bench:store -- --pages     (one round: the WAL's pages per step, by b-tree)
//
// Each round uses a new database in a temporary directory: 20 workspaces with one webhook each
// (the throughput layout), events published in batches of 100 (--group of them per commit, as
// the publisher groups requests that arrive together), then claims of --claim and the
// results of each claim recorded (every attempt a 200, with the headers a real attempt sends).
// Printed per delivery: the time of each step (the median and the best of the rounds) and the
// bytes the process wrote (/proc/self/io, the WAL and its checkpoints).

import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { newId } from '../src/domain/ids.js';
import { signAttempt, signingSecret } from '../src/domain/signing.js';
import { sentAndStored } from '../src/domain/sent-headers.js';
import { SqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { AttemptResult, ClaimedDelivery } from '../src/store/store.js';
import { ioBytes } from './costs.js';
import { TOPIC, shopName, shopUri, walletReward } from './payload.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '20000' },
    rounds: { type: 'string', default: '5' },
    claim: { type: 'string', default: '128' },
    group: { type: 'string', default: '1' },
    pages: { type: 'boolean', default: false },
  },
});
const EVENTS = Number(values.events);
const ROUNDS = Number(values.rounds);
const CLAIM = Number(values.claim);
/** Publish requests (of BATCH events each) that share one commit, as the publisher groups them. */
const GROUP = Number(values.group);
const WORKSPACES = 20;
const BATCH = 100;
const HEALTH = { threshold: 5, cooldownMs: 30_000, maxCooldownMs: 600_000, disableAfterMs: 5 * 86_400_000 };
const SECRET = signingSecret('whsec_' + Buffer.from('bench-store-secret-0123456789abc').toString('base64'));

interface Round {
  publishUs: number;
  claimUs: number;
  recordUs: number;
  /** Written while publishing, while claiming and recording, and in all (with the last checkpoint). */
  publishBytes: number;
  deliverBytes: number;
  bytes: number;
}

/** This process's write_bytes so far (the full benchmark's reading, costs.ts). */
function writeBytes(): number {
  return ioBytes(process.pid)?.writeBytes ?? 0;
}

/** What the attempt runner hands the store for a 200: the headers it sent, signed as it signs them, and their stored form. */
function succeeded(d: ClaimedDelivery, startedAt: number): AttemptResult {
  const signed = signAttempt({
    prefix: 'x-nector', topic: d.webhook.prefix + d.topic, deliveryId: d.id, timestamp: Math.floor(startedAt / 1000),
    body: d.body, secrets: [SECRET], userAgent: 'Herald/bench',
  });
  const sent = sentAndStored(d.webhook.headers, signed, { deliveryId: d.id, topic: d.topic, startedAt }, null);
  return {
    seq: d.seq, claim: d.claim, webhookId: d.webhook.id, url: d.webhook.url, status: 'succeeded', nextAttemptAt: null,
    attempt: {
      deliveryId: d.id, topic: d.topic, number: d.attempts + 1, startedAt, durationMs: 2, statusCode: 200, error: null,
      responseBody: 'ok', requestHeaders: sent.headers, storedHeaders: sent.stored,
    },
  };
}

/**
 * What each step appends to the WAL, by b-tree (--pages): SQLite writes a whole page (a
 * frame: 24 + 4,096 bytes) for every page a commit changed, and the checkpoint writes it again.
 */
class WalPages {
  private readonly frames = new Map<string, Map<string, number>>();
  private readonly items = new Map<string, number>();
  private from = 0;
  constructor(private readonly store: SqliteStore, private readonly wal: string) {
    store.db.pragma('wal_autocheckpoint = 0'); // frames are read back from the WAL: nothing may start it over
  }

  before(): void {
    this.from = statSync(this.wal).size;
  }

  /** Counts the frames appended since before() by the b-tree their page belongs to. */
  after(step: string, items: number): void {
    const wal = readFileSync(this.wal);
    const size = this.store.db.pragma('page_size', { simple: true }) as number;
    const owner = new Map<number, string>();
    for (const r of this.store.db.prepare('SELECT name, pageno FROM dbstat').all() as { name: string; pageno: number }[]) owner.set(r.pageno, r.name);
    const counts = this.frames.get(step) ?? new Map<string, number>();
    for (let at = Math.max(this.from, 32); at + 24 + size <= wal.length; at += 24 + size) {
      const tree = owner.get(wal.readUInt32BE(at)) ?? '(free or new)';
      counts.set(tree, (counts.get(tree) ?? 0) + 1);
    }
    this.frames.set(step, counts);
    this.items.set(step, (this.items.get(step) ?? 0) + items);
  }

  print(): void {
    const size = (this.store.db.pragma('page_size', { simple: true }) as number) + 24;
    console.log('WAL bytes per delivery by b-tree (whole pages, before the checkpoint writes them again):');
    for (const [step, counts] of this.frames) {
      const per = (n: number) => (n * size) / this.items.get(step)!;
      const total = [...counts.values()].reduce((a, b) => a + b, 0);
      const parts = [...counts].sort((a, b) => b[1] - a[1]).map(([tree, n]) => `${tree} ${per(n).toFixed(0)}`);
      console.log(`  ${step.padEnd(8)} ${per(total).toFixed(0).padStart(5)} B: ${parts.join(', ')}`);
    }
  }
}

async function round(pages = false): Promise<Round> {
  const dir = mkdtempSync(join(tmpdir(), 'herald-bench-store-'));
  const store = new SqliteStore({ path: join(dir, 'herald.db') });
  try {
    await store.migrate();
    const wal = pages ? new WalPages(store, join(dir, 'herald.db-wal')) : null;
    const t0 = Date.now();
    const workspaces: string[] = [];
    for (let w = 0; w < WORKSPACES; w++) {
      const id = `shop${w}`;
      workspaces.push(id);
      await store.createWorkspace({ id, name: shopName(w), uri: shopUri(w), webhooksEnabled: true, createdAt: t0, updatedAt: t0 });
      await store.createWebhook({
        id: newId('wh', t0), workspaceId: id, topic: TOPIC, url: `http://127.0.0.1:9/in/${w}`, secret: SECRET.secret, prefix: '',
        filter: null, headers: {}, description: null, enabled: true, disabledReason: null, rateLimit: null, previousSecrets: [],
        signing: 'hmac', signingKey: null, publicKey: null, previousSigningKeys: [], ordering: 'none', paused: false,
        createdAt: t0, updatedAt: t0,
      });
    }
    const bytes0 = writeBytes();
    let publishNs = 0n;
    for (let k = 0; k * BATCH < EVENTS; k += GROUP) {
      const now = Date.now();
      const batches = [];
      for (let g = k; g < k + GROUP && g * BATCH < EVENTS; g++) {
        const inputs = [];
        for (let i = g * BATCH; i < Math.min(EVENTS, (g + 1) * BATCH); i++) {
          const data = walletReward(i);
          inputs.push({ id: newId('evt', now), clientId: false, idempotencyKey: null, topic: TOPIC, data, dataJson: JSON.stringify(data) });
        }
        batches.push({ workspaceId: workspaces[g % WORKSPACES]!, inputs });
      }
      wal?.before();
      const start = process.hrtime.bigint();
      await store.publish(batches, now);
      publishNs += process.hrtime.bigint() - start;
      wal?.after('publish', batches.reduce((n, b) => n + b.inputs.length, 0));
    }
    const bytesPublished = writeBytes();
    let claimNs = 0n;
    let recordNs = 0n;
    let delivered = 0;
    for (;;) {
      const now = Date.now();
      wal?.before();
      let start = process.hrtime.bigint();
      const claimed = await store.claimDue(now, CLAIM, now + 60_000);
      claimNs += process.hrtime.bigint() - start;
      if (claimed.length === 0) break;
      wal?.after('claim', claimed.length);
      const results = claimed.map((d) => succeeded(d, now));
      wal?.before();
      start = process.hrtime.bigint();
      await store.recordResults(results, Date.now(), HEALTH);
      recordNs += process.hrtime.bigint() - start;
      wal?.after('record', claimed.length);
      delivered += claimed.length;
    }
    if (delivered !== EVENTS) throw new Error(`delivered ${delivered} of ${EVENTS}`);
    wal?.print();
    const us = (ns: bigint) => Number(ns) / 1000 / EVENTS;
    const bytesDelivered = writeBytes();
    await store.close(); // its last checkpoint counts: the WAL's pages are written again into the database
    const b = (from: number, to: number) => (to - from) / EVENTS;
    return {
      publishUs: us(publishNs), claimUs: us(claimNs), recordUs: us(recordNs),
      publishBytes: b(bytes0, bytesPublished), deliverBytes: b(bytesPublished, bytesDelivered), bytes: b(bytes0, writeBytes()),
    };
  } finally {
    await store.close().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (values.pages) {
  // A round of its own: reading the WAL back after every step costs time, and without
  // checkpoints the bytes differ from Herald's.
  await round(true);
  process.exit(0);
}
const rounds: Round[] = [];
for (let r = 0; r < ROUNDS; r++) rounds.push(await round());
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const show = (name: string, pick: (r: Round) => number, unit: string) => {
  const xs = rounds.map(pick);
  console.log(`${name.padEnd(24)} median ${median(xs).toFixed(2).padStart(8)} ${unit}   best ${Math.min(...xs).toFixed(2).padStart(8)} ${unit}`);
};
console.log(`SQLite store, ${EVENTS} events to ${WORKSPACES} webhooks, claims of ${CLAIM}, ${ROUNDS} rounds; per delivery:`);
show('publish (event + delivery)', (r) => r.publishUs, 'µs');
show('claim', (r) => r.claimUs, 'µs');
show('record', (r) => r.recordUs, 'µs');
show('claim + record', (r) => r.claimUs + r.recordUs, 'µs');
show('bytes written: publish', (r) => r.publishBytes, 'B ');
show('  claim + record', (r) => r.deliverBytes, 'B ');
show('  in all', (r) => r.bytes, 'B ');
