// Crash safety: Herald runs as a child process, events stream into it while a real receiver
// counts what arrives, and the process is killed mid-stream (SIGKILL, then separately
// SIGTERM), started again on the same data directory, and the stream finished. Every event
// answered 202 must arrive at least once; after SIGKILL only attempts that were in flight
// may arrive twice (at most HERALD_WORKER_CONCURRENCY webhook-ids), after SIGTERM none.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitUntil } from '../helpers/herald.js';
import { queueDrained, streamEvents } from '../helpers/reliability.js';
import { Receiver } from '../helpers/receiver.js';
import { spawnHerald, type HeraldProcess } from '../helpers/process.js';

const CONCURRENCY = 16;
const EVENTS = 3000;
const TOPIC = 'walletreward_create';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

const ENV = {
  HERALD_WORKER_CONCURRENCY: String(CONCURRENCY),
  HERALD_DELIVERY_TIMEOUT_MS: '2000',
  HERALD_LEASE_MS: '3000',
  HERALD_RETRY_BASE_MS: '200',
  HERALD_RETRY_FACTOR: '2',
};

/**
 * A memory-backed temporary directory when the machine has one. A killed process loses
 * nothing that it wrote (the kernel keeps it), so fsync only matters for power loss, not for
 * this test; and a busy shared disk would make the stream crawl.
 */
function fastTmp(): string {
  return existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
}

async function setup(h: HeraldProcess, receiverUrl: string): Promise<string> {
  const ws = await h.api('POST', '/api/v1/workspaces', { name: 'Crash Test Coffee', uri: 'https://crash.example' });
  assert.equal(ws.status, 201, ws.text);
  const on = await h.api('PATCH', `/api/v1/workspaces/${ws.body.id}`, { webhooks_enabled: true });
  assert.equal(on.status, 200, on.text);
  const wh = await h.api('POST', `/api/v1/workspaces/${ws.body.id}/webhooks`, { topic: TOPIC, url: receiverUrl });
  assert.equal(wh.status, 201, wh.text);
  return ws.body.id;
}

async function crashRun(signal: 'SIGKILL' | 'SIGTERM') {
  const dataDir = await mkdtemp(join(fastTmp(), 'herald-crash-'));
  cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  // A receiver that answers after 0-4 ms, so that some attempts are always in flight.
  const receiver = await Receiver.start(() => ({ delayMs: Math.floor(Math.random() * 5) }));
  cleanups.push(() => receiver.close());
  const eventsOf = new Map<string, Set<string>>(); // event id -> webhook-ids that carried it
  const receipts = () => {
    for (const s of receiver.requests.splice(0)) {
      const n = JSON.parse(s.body).n as string;
      let ids = eventsOf.get(n);
      if (!ids) eventsOf.set(n, (ids = new Set()));
      ids.add(s.id);
    }
  };

  let h = await spawnHerald({ dataDir, env: ENV });
  cleanups.push(() => h.kill('SIGKILL'));
  const ws = await setup(h, receiver.at('/hook'));
  const ids = Array.from({ length: EVENTS }, (_, i) => `evt-${signal}-${i}`);

  // Phase 1: stream (small batches from 8 clients) until the kill.
  let killed = false;
  let killedAt = { accepted: 0, received: 0 };
  let killing: Promise<unknown> | null = null;
  let acceptedSoFar = 0;
  const phase1 = await streamEvents(h.api, ws, TOPIC, ids, {
    parallel: 8,
    batch: 5,
    stop: () => killed,
    onAccepted: () => {
      acceptedSoFar++;
      // Kill once deliveries are well under way and the stream is still going.
      if (killing === null && acceptedSoFar >= EVENTS * 0.4 && (receiver.byId.size >= 100 || acceptedSoFar >= EVENTS * 0.8)) {
        killedAt = { accepted: acceptedSoFar, received: receiver.byId.size };
        killing = h.kill(signal).then(() => (killed = true));
      }
    },
  });
  assert.ok(killing, `the kill never happened (accepted ${phase1.accepted.size}, received ${receiver.byId.size})`);
  await killing;
  assert.ok(killedAt.accepted < EVENTS && killedAt.received > 0, 'the kill came mid-stream, with deliveries under way');
  const exit = await h.exited;
  if (signal === 'SIGTERM') assert.equal(exit, 0, `a SIGTERM'd Herald exits cleanly:\n${h.output()}`);
  else assert.equal(exit, 'SIGKILL');

  // Phase 2: the same data directory and port; the events never answered 202 are sent again
  // with the same ids (any that were stored before the kill come back without a new delivery).
  h = await spawnHerald({ dataDir, port: h.port, env: ENV });
  cleanups.push(() => h.kill('SIGKILL'));
  const rest = ids.filter((id) => !phase1.accepted.has(id));
  const phase2 = await streamEvents(h.api, ws, TOPIC, rest, { parallel: 8, batch: 5 });
  assert.equal(phase2.accepted.size, rest.length, `every event is accepted after the restart (${phase2.failed} failed)`);
  const accepted = new Set([...phase1.accepted, ...phase2.accepted]);
  assert.equal(accepted.size, EVENTS);

  await waitUntil(
    () => {
      receipts();
      return [...accepted].every((id) => eventsOf.has(id));
    },
    { timeoutMs: 60_000, intervalMs: 100, message: () => `${[...accepted].filter((id) => !eventsOf.has(id)).length} accepted events never arrived` },
  );
  // Nothing pending is nothing in flight either: every request that will come has come.
  await waitUntil(() => queueDrained(h.api, ws), { timeoutMs: 60_000, intervalMs: 200, message: 'deliveries still pending' });
  receipts();

  // Each event went out as one delivery (one webhook-id), however often it was published.
  const multi = [...eventsOf].filter(([, whIds]) => whIds.size !== 1);
  assert.deepEqual(multi, [], 'an event was queued twice');
  // A webhook-id seen more often than Herald recorded attempts for it was sent by an attempt
  // whose result the crash lost (an ordinary retry after a failed attempt is recorded).
  const recorded = await recordedAttempts(h, ws);
  const dups = receiver.duplicates().filter((id) => (receiver.byId.get(id) ?? 0) > (recorded.get(id) ?? 0));
  await h.kill('SIGTERM');
  return { dups, killedAt, phase1: phase1.accepted.size, receivedIds: receiver.byId.size };
}

/** Every delivery's recorded attempt count, by delivery id (the webhook-id receivers see). */
async function recordedAttempts(h: HeraldProcess, ws: string): Promise<Map<string, number>> {
  const attempts = new Map<string, number>();
  let cursor: string | null = null;
  do {
    const res: { status: number; text: string; body: any } = await h.api('GET', `/api/v1/workspaces/${ws}/deliveries?limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(res.status, 200, res.text);
    for (const d of res.body.data) attempts.set(d.id, d.attempts);
    cursor = res.body.next_cursor;
  } while (cursor);
  return attempts;
}

describe('crash safety (Herald as a child process)', { timeout: 240_000 }, () => {
  it('SIGKILL mid-stream: every 202 is delivered at least once; duplicates only for attempts in flight', async () => {
    const r = await crashRun('SIGKILL');
    assert.ok(r.dups.length <= CONCURRENCY, `${r.dups.length} webhook-ids arrived twice; at most ${CONCURRENCY} attempts can be in flight`);
    process.stderr.write(`# SIGKILL after ${r.killedAt.accepted} accepted / ${r.killedAt.received} received: ${r.dups.length} duplicate(s)\n`);
  });

  it('SIGTERM mid-stream: every 202 is delivered, and nothing twice', async () => {
    const r = await crashRun('SIGTERM');
    assert.deepEqual(r.dups, [], 'a graceful stop records every attempt it made');
    process.stderr.write(`# SIGTERM after ${r.killedAt.accepted} accepted / ${r.killedAt.received} received: no duplicates\n`);
  });
});
