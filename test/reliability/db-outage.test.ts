// PostgreSQL going away under load is a 503 with Retry-After, never a 500, and Herald comes
// back by itself. The shared server stays up (other tests use it): Herald gets a database of
// its own, whose connections are terminated (as a server shutdown does: 57P01, connections
// reset) and which then refuses new ones (ALLOW_CONNECTIONS false, as a server that is
// starting up or shutting down does) while workspaces publish in a loop.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createWorkspace, sleep, startHerald, waitUntil, type ApiResponse, type TestHerald } from '../helpers/herald.js';
import { DATABASE_URL, unreachable } from '../helpers/postgres.js';

const reason = await unreachable();
const database = `herald_outage_${randomBytes(4).toString('hex')}`;
const admin = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });

function urlOf(name: string): string {
  const url = new URL(DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Ends every connection to Herald's database (not those of other tests). */
async function terminateHerald(): Promise<number> {
  const { rows } = await admin.query('SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database]);
  return Number(rows[0].n);
}

after(async () => {
  if (reason !== null) return admin.end();
  await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch(() => undefined);
  await admin.end();
});

describe('database outage', { timeout: 120_000, skip: reason !== null && process.env.CI !== 'true' ? `PostgreSQL is unreachable: ${reason}` : false }, () => {
  it('every request answers 202 or 503 with Retry-After while the database is away, and publishes succeed again afterwards', async (t) => {
    await admin.query(`CREATE DATABASE ${database}`);
    let h: TestHerald | null = null;
    try {
      h = await startHerald({ databaseUrl: urlOf(database), databasePoolSize: 4 });
      const herald = h;
      const ws = (await createWorkspace(herald)).id as string;
      const answers: ApiResponse[] = [];
      let stop = false;
      const publisher = async (n: number) => {
        for (let i = 0; !stop; i++) {
          const res = await herald.api('POST', `/api/v1/workspaces/${ws}/events`, { topic: 'walletreward_create', data: { n, i } });
          answers.push(res);
          // A read too: the workspace lookup of every workspace route goes to the database.
          if (i % 5 === 0) answers.push(await herald.api('GET', `/api/v1/workspaces/${ws}/events?limit=1`));
          if (res.status !== 202) await sleep(20);
        }
      };
      const loops = [0, 1, 2, 3].map(publisher);

      await sleep(500);
      // Connections killed under running queries, several times.
      for (let i = 0; i < 5; i++) {
        await terminateHerald();
        await sleep(150);
      }
      // Then a database that refuses connections for a while.
      await admin.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS false`);
      await terminateHerald();
      await sleep(2_000);
      const refusedUntil = answers.length;
      await admin.query(`ALTER DATABASE ${database} ALLOW_CONNECTIONS true`);

      // Herald recovers by itself: publishes succeed again without a restart.
      await waitUntil(() => answers.slice(refusedUntil).filter((a) => a.status === 202).length >= 20, { timeoutMs: 20_000 });
      stop = true;
      await Promise.all(loops);

      const byStatus = new Map<number, number>();
      for (const a of answers) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
      const summary = JSON.stringify(Object.fromEntries(byStatus));
      t.diagnostic(`answers by status: ${summary}`);
      const wrong = answers.filter((a) => a.status !== 202 && a.status !== 200 && a.status !== 503);
      assert.deepEqual(wrong.map((a) => `${a.status} ${a.text}`), [], `answers by status: ${summary}`);
      const unavailable = answers.filter((a) => a.status === 503);
      assert.ok(unavailable.length > 0, `the outage was seen: ${summary}`);
      for (const a of unavailable) {
        assert.equal(a.headers.get('retry-after'), '1', a.text);
        assert.match(a.headers.get('content-type') ?? '', /^application\/problem\+json/);
        assert.equal(a.body.status, 503);
      }
      const tail = answers.slice(-10);
      assert.ok(tail.every((a) => a.status === 202 || a.status === 200), `after the outage: ${tail.map((a) => a.status).join(' ')}`);
    } finally {
      await h?.stop();
    }
  });
});
