// A full disk is reported, never swallowed: /readyz answers 503 and publishes 503 with a
// problem+json body (nothing of them stored), and Herald recovers by itself once space is
// back. The data directory lives on a small tmpfs that a filler file fills up; mounting needs
// root, so elsewhere the test is skipped with a message (but not on CI, where it must run).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createWebhook, createWorkspace, startHerald, waitUntil, type TestHerald } from '../helpers/herald.js';
import { mountTmpfs, unmount } from '../helpers/reliability.js';
import { Receiver } from '../helpers/receiver.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
after(async () => {
  while (cleanups.length) {
    try {
      await cleanups.pop()!();
    } catch {
      /* keep cleaning */
    }
  }
});

/** Writes to `path` until the file system says ENOSPC; returns the bytes written. */
function fill(path: string): number {
  const fd = openSync(path, 'w');
  let written = 0;
  try {
    for (const size of [1024 * 1024, 64 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(size, 0x5a);
      for (;;) {
        try {
          writeSync(fd, chunk);
          written += size;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

describe('disk full', { timeout: 120_000 }, () => {
  it('readyz and publishes answer 503 while the disk is full, and Herald recovers when space is back', async (t) => {
    const mnt = await mkdtemp(join(tmpdir(), 'herald-full-'));
    cleanups.push(() => rmdirSync(mnt));
    const refused = mountTmpfs(mnt, '16m');
    if (refused) {
      if (process.env.CI === 'true') assert.fail(`CI must be able to mount a tmpfs: ${refused}`);
      t.skip(`skipped: ${refused}`);
      return;
    }
    cleanups.push(() => unmount(mnt));

    const receiver = await Receiver.start();
    cleanups.push(() => receiver.close());
    const h: TestHerald = await startHerald({ leaseMs: 3_000, deliveryTimeoutMs: 2_000 }, join(mnt, 'data'));
    cleanups.push(() => h.stop());
    const ws = (await createWorkspace(h)).id as string;
    await createWebhook(h, ws, { topic: 'order_create', url: receiver.at('/orders') });
    assert.equal((await h.api('GET', '/readyz', undefined, null)).status, 200);
    const before = await h.api('POST', `/api/v1/workspaces/${ws}/events`, { topic: 'order_create', id: 'before-the-fault', data: { n: 0 } });
    assert.equal(before.status, 202);
    await waitUntil(() => receiver.count() >= 1, { timeoutMs: 15_000 });

    // The fault: no space left.
    const filler = join(mnt, 'filler');
    assert.ok(fill(filler) > 0);
    cleanups.push(() => {
      try {
        unlinkSync(filler);
      } catch {
        /* already gone */
      }
    });

    // SQLite may still reuse space inside its write-ahead log for a while; publishes then
    // succeed (and are durable). Keep publishing until the log needs room it cannot get.
    const big = 'x'.repeat(32 * 1024);
    let refusedPublish: { id: string; status: number; type: string | null; body: any } | null = null;
    for (let i = 0; i < 400 && refusedPublish === null; i++) {
      const id = `during-the-fault-${i}`;
      const res = await h.api('POST', `/api/v1/workspaces/${ws}/events`, { topic: 'order_create', id, data: { n: i, big } });
      if (res.status !== 202) refusedPublish = { id, status: res.status, type: res.headers.get('content-type'), body: res.body };
    }
    assert.ok(refusedPublish, 'every publish succeeded on a full disk');
    assert.equal(refusedPublish.status, 503);
    assert.match(refusedPublish.type ?? '', /^application\/problem\+json/);
    assert.equal(refusedPublish.body.status, 503);
    assert.equal(typeof refusedPublish.body.detail, 'string');

    const ready = await h.api('GET', '/readyz', undefined, null);
    assert.equal(ready.status, 503, `readyz while the disk is full: ${ready.text}`);
    assert.match(ready.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.match(ready.body.detail, /full/i);
    // Another write through the API is refused the same way, not with a 500.
    const ws2 = await h.api('POST', '/api/v1/workspaces', { name: 'Full Disk Bakery' });
    assert.equal(ws2.status, 503, ws2.text);
    // Reads still work.
    assert.equal((await h.api('GET', `/api/v1/workspaces/${ws}`)).status, 200);
    assert.equal((await h.api('GET', '/healthz', undefined, null)).status, 200);

    // The fault goes: everything comes back without a restart.
    unlinkSync(filler);
    await waitUntil(async () => (await h.api('GET', '/readyz', undefined, null)).status === 200, {
      timeoutMs: 15_000, message: 'readyz did not recover',
    });
    // The refused publish left nothing behind.
    assert.equal((await h.api('GET', `/api/v1/workspaces/${ws}/events/${refusedPublish.id}`)).status, 404);
    const afterFault = await h.api('POST', `/api/v1/workspaces/${ws}/events`, { topic: 'order_create', id: 'after-the-fault', data: { n: 'after' } });
    assert.equal(afterFault.status, 202, afterFault.text);
    await waitUntil(() => receiver.requests.some((s) => JSON.parse(s.body).n === 'after'), {
      timeoutMs: 20_000, message: 'an event published after the recovery was not delivered',
    });
    // Every event that was accepted, before or during the fault, is delivered (the results
    // that could not be recorded while the disk was full come back with their leases).
    const accepted = (await h.api('GET', `/api/v1/workspaces/${ws}/events?limit=500`)).body.data.map((e: any) => e.id) as string[];
    await waitUntil(
      async () => (await h.api('GET', `/api/v1/workspaces/${ws}/deliveries?status=pending&limit=1`)).body.data.length === 0,
      { timeoutMs: 30_000, message: 'deliveries stayed pending after the recovery' },
    );
    const arrived = new Set(receiver.requests.map((s) => JSON.parse(s.body).n));
    assert.equal(arrived.size, accepted.length, 'every accepted event arrived');
    assert.equal((await h.api('POST', '/api/v1/workspaces', { name: 'Recovered Bakery' })).status, 201);
  });
});
