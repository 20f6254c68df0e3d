// A stale claim's result recorded in the same batch as the current claim's (the lease ran out
// while the attempt was in flight, the same worker claimed the delivery again, and both attempts
// ended in one turn of the event loop): the stale one must be dropped, and the batch recorded.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { DATABASE_URL, unreachable } from '../helpers/postgres.js';
import { PostgresStore } from '../../src/store/postgres/postgres-store.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { newId } from '../../src/domain/ids.js';
import type { AttemptResult, ClaimedDelivery, Store } from '../../src/store/store.js';

const T0 = 1_700_000_000_000;

function result(d: ClaimedDelivery, at: number, statusCode: number): AttemptResult {
  return {
    seq: d.seq, claim: d.claim, webhookId: d.webhook.id, status: 'succeeded', nextAttemptAt: null, url: d.webhook.url,
    attempt: { deliveryId: d.id, topic: d.topic, number: d.attempts + 1, startedAt: at, durationMs: 5, statusCode, error: null, responseBody: 'ok', requestHeaders: {} },
  };
}

async function staleAndCurrentInOneBatch(store: Store): Promise<void> {
  await store.createWorkspace({ id: 'acme', name: 'Acme', uri: null, webhooksEnabled: true, createdAt: T0, updatedAt: T0 });
  const hook = {
    id: newId('wh', T0), workspaceId: 'acme', topic: 'walletreward_create', url: 'https://hooks.example/in', secret: 'whsec_c2VjcmV0', prefix: '',
    filter: null, headers: {}, description: null, enabled: true, disabledReason: null, rateLimit: null, previousSecrets: [], signing: 'hmac' as const,
    signingKey: null, publicKey: null, previousSigningKeys: [], ordering: 'none' as const, paused: false, createdAt: T0, updatedAt: T0,
  };
  await store.createWebhook(hook);
  await store.publish([{ workspaceId: 'acme', inputs: [{ id: newId('evt', T0), clientId: false, idempotencyKey: null, topic: 'walletreward_create', data: {} }] }], T0);
  const [stale] = await store.claimDue(T0 + 1, 10, T0 + 1_000);
  const [current] = await store.claimDue(T0 + 2_000, 10, T0 + 60_000); // the lease ran out: claimed again
  assert.ok(stale && current && current.claim === stale.claim + 1 && current.attempts === stale.attempts);
  // The stale one failed, after the current one's success: were it counted, its failure would
  // open the circuit (threshold 1).
  const failed: AttemptResult = { ...result(stale, T0 + 2_100, 500), status: 'failed' };
  const policy = { threshold: 1, cooldownMs: 1_000, maxCooldownMs: 10_000, disableAfterMs: 1e9 };
  const effects = await store.recordResults([result(current, T0 + 2_100, 200), failed], T0 + 2_200, policy);
  assert.deepEqual(effects, [], "the stale claim's failure counts for nothing");
  const got = (await store.getDelivery('acme', current.id))!;
  assert.equal(got.delivery.status, 'succeeded');
  assert.deepEqual(got.attempts.map((a) => a.statusCode), [200], 'only the current claim records its attempt');
}

describe('a stale claim and the current one recorded in one batch', () => {
  it('SQLite', async () => {
    const store = new SqliteStore({ path: ':memory:' });
    await store.migrate();
    try { await staleAndCurrentInOneBatch(store); } finally { await store.close(); }
  });

  it('PostgreSQL', async (t) => {
    const reason = await unreachable();
    if (reason !== null) {
      assert.notEqual(process.env.CI, 'true', `PostgreSQL is unreachable at ${DATABASE_URL}: ${reason} (required when CI=true)`);
      return t.skip(reason);
    }
    const schema = `herald_review_${randomBytes(3).toString('hex')}`;
    const store = new PostgresStore({ connectionString: DATABASE_URL, schema, poolSize: 2 });
    try {
      await store.migrate();
      await staleAndCurrentInOneBatch(store);
    } finally {
      await store.close();
      const admin = new pg.Client({ connectionString: DATABASE_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
  });
});
