// The Store conformance cases against PostgresStore, plus what only PostgreSQL has (LISTEN/
// NOTIFY, concurrent migrations). Each case gets a schema of its own, herald_test_<pid>_<n>,
// dropped afterwards. The server is HERALD_TEST_DATABASE_URL (default: the local one with
// trust auth). Unreachable, the file is skipped with the reason — except under CI=true, where
// that is a failure: CI must not go green without having tested this adapter.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DATABASE_URL, unreachable } from '../helpers/postgres.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import type { Store } from '../../src/store/store.js';
import { storeCases, type StoreFixture } from './store.cases.js';

const T0 = 1_700_000_000_000;

const run = `${process.pid}_${randomBytes(3).toString('hex')}`;
let count = 0;
const created = new Set<string>();
let admin: pg.Pool | null = null;

function adminPool(): pg.Pool {
  admin ??= new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
  return admin;
}

function newSchema(): string {
  const schema = `herald_test_${run}_${++count}`;
  created.add(schema);
  return schema;
}

async function dropSchema(schema: string): Promise<void> {
  await adminPool().query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  created.delete(schema);
}

/** Children before parents, so that plain DELETEs satisfy the foreign keys; tables that later migrations add go last. */
const TABLE_ORDER = ['attempts', 'deliveries', 'events', 'webhook_health', 'webhooks', 'api_keys', 'workspaces', 'topics'];

/**
 * The conformance cases share one schema, migrated once: each case empties its tables
 * (DELETE in one transaction: much quicker than TRUNCATE or a schema of its own for tables
 * this small) and gets its own store, so pools, prepared statements and listeners never
 * outlive a case.
 */
let shared: string | null = null;
async function fresh(): Promise<StoreFixture> {
  if (shared === null) {
    const schema = newSchema();
    const first = new PostgresStore({ connectionString: DATABASE_URL, schema });
    await first.migrate();
    await first.close();
    shared = schema;
  }
  const schema = shared;
  const { rows } = await adminPool().query(`SELECT tablename FROM pg_tables WHERE schemaname = $1 AND tablename <> 'schema_migrations'`, [schema]);
  const rank = (t: string) => (TABLE_ORDER.includes(t) ? TABLE_ORDER.indexOf(t) : TABLE_ORDER.length);
  const tables = rows.map((r) => r.tablename as string).sort((a, b) => rank(a) - rank(b));
  await adminPool().query(`BEGIN; ${tables.map((t) => `DELETE FROM ${schema}.${t};`).join(' ')} COMMIT;`);
  const store = new PostgresStore({ connectionString: DATABASE_URL, schema, poolSize: 8 });
  await store.migrate();
  return { store, cleanup: () => store.close() };
}

/** A store in a schema of its own, dropped by cleanup(). */
async function isolated(): Promise<StoreFixture & { schema: string; store: PostgresStore }> {
  const schema = newSchema();
  const store = new PostgresStore({ connectionString: DATABASE_URL, schema, poolSize: 4 });
  await store.migrate();
  return {
    store,
    schema,
    async cleanup() {
      await store.close();
      await dropSchema(schema);
    },
  };
}

const reason = await unreachable();

if (reason !== null && process.env.CI !== 'true') {
  it('PostgresStore', { skip: `PostgreSQL is unreachable at ${DATABASE_URL} (${reason}); set HERALD_TEST_DATABASE_URL to run these cases` }, () => {});
} else {
  after(async () => {
    // The shared schema, and those of cases that failed before their cleanup ran.
    for (const schema of [...created]) await dropSchema(schema).catch(() => undefined);
    await admin?.end();
  });

  describe('PostgresStore', () => {
    if (reason !== null) {
      it('PostgreSQL is reachable (required when CI=true)', () => {
        assert.fail(`PostgreSQL is unreachable at ${DATABASE_URL}: ${reason}`);
      });
      return;
    }

    storeCases(fresh);

    describe('only on PostgreSQL', () => {
      it('several stores migrating one schema at once apply each migration once', async () => {
        const schema = newSchema();
        const stores = Array.from({ length: 4 }, () => new PostgresStore({ connectionString: DATABASE_URL, schema, poolSize: 2 }));
        try {
          await Promise.all(stores.map((s) => s.migrate()));
          const { rows } = await stores[0]!.pool.query('SELECT version, count(*) AS n FROM schema_migrations GROUP BY version ORDER BY version');
          assert.ok(rows.length >= 1);
          assert.ok(rows.every((r) => Number(r.n) === 1));
          await stores[1]!.createWorkspace({ id: 'w', name: 'W', uri: null, webhooksEnabled: false, createdAt: T0, updatedAt: T0 });
          assert.ok(await stores[2]!.getWorkspace('w'));
        } finally {
          await Promise.all(stores.map((s) => s.close()));
          await dropSchema(schema);
        }
      });

      it('tables live in the configured schema only', async () => {
        const f = await isolated();
        try {
          const { rows } = await f.store.pool.query(
            `SELECT table_schema FROM information_schema.tables WHERE table_name = 'deliveries' AND table_schema = $1`, [f.schema],
          );
          assert.equal(rows.length, 1);
        } finally {
          await f.cleanup();
        }
      });

      it('listen() wakes on work queued by another store, and stops when unsubscribed', async () => {
        const a = await isolated();
        const b = new PostgresStore({ connectionString: DATABASE_URL, schema: a.schema });
        try {
          const store: Store = a.store;
          await store.createWorkspace({ id: 'acme', name: 'A', uri: null, webhooksEnabled: true, createdAt: T0, updatedAt: T0 });
          await store.createWebhook({
            id: 'wh_1', workspaceId: 'acme', topic: 'order_create', url: 'https://x.example', secret: 's', prefix: '', filter: null,
            headers: {}, description: null, enabled: true, disabledReason: null, rateLimit: null, previousSecrets: [], signing: 'hmac', signingKey: null, publicKey: null, previousSigningKeys: [], ordering: 'none', paused: false,
        createdAt: T0, updatedAt: T0,
          });
          let wakes = 0;
          let signal: () => void = () => undefined;
          const unlisten = await b.listen(() => {
            wakes++;
            signal();
          });
          const woken = () => new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error('no NOTIFY within 5 s')), 5000);
            signal = () => {
              clearTimeout(timer);
              resolve();
            };
          });

          let wait = woken();
          const input = { id: 'e1', clientId: true, idempotencyKey: null, topic: 'order_create', data: {} };
          await store.publish([{ workspaceId: 'acme', inputs: [input] }], T0);
          await wait;
          assert.equal(wakes, 1);

          // Nothing queued (a repeat of e1): no NOTIFY.
          await store.publish([{ workspaceId: 'acme', inputs: [input] }], T0);
          const [d] = await store.claimDue(T0, 1, T0 + 60_000);
          wait = woken();
          await store.releaseClaims([{ seq: d!.seq, claim: d!.claim, at: T0 }], T0);
          await wait;
          assert.equal(wakes, 2, 'the repeat sent nothing; the release did');

          await unlisten();
          await store.retryDelivery('acme', d!.id, T0);
          await new Promise((resolve) => setTimeout(resolve, 200));
          assert.equal(wakes, 2);
        } finally {
          await b.close();
          await a.cleanup();
        }
      });

      it('listen() reconnects when its connection is killed', async () => {
        const a = await isolated();
        try {
          let wakes = 0;
          const errors: Error[] = [];
          const b = new PostgresStore({ connectionString: DATABASE_URL, schema: a.schema, onError: (err) => errors.push(err) });
          try {
            await b.listen(() => wakes++);
            const pool = a.store.pool;
            const killed = await pool.query(
              `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query = $1 AND pid <> pg_backend_pid()`,
              [`LISTEN ${b.channel}`],
            );
            assert.equal(killed.rowCount, 1);
            // After reconnecting it wakes once (work may have been missed), then hears NOTIFY again.
            for (let i = 0; i < 100 && wakes === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
            assert.equal(wakes, 1);
            assert.ok(errors.length >= 1);
            await pool.query('SELECT pg_notify($1, $2)', [b.channel, '']);
            for (let i = 0; i < 100 && wakes === 1; i++) await new Promise((resolve) => setTimeout(resolve, 50));
            assert.equal(wakes, 2);
          } finally {
            await b.close();
          }
        } finally {
          await a.cleanup();
        }
      });
    });
  });
}
