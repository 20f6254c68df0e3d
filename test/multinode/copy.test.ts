// Moving a Herald from SQLite to PostgreSQL: `herald migrate` and `herald copy` (the real CLI)
// carry every workspace, key, webhook, event, delivery and attempt over; Herald started on
// PostgreSQL then shows the same lists and details, its API keys still work, and its pending
// deliveries are delivered, signed with the secrets that were copied.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { ADMIN_KEY, startHerald, waitUntil, type Api, type ApiResponse, type TestHerald } from '../helpers/herald.js';
import { Receiver } from '../helpers/receiver.js';
import { Cluster, DATABASE_URL, ROOT, multinodeSuite } from './cluster.js';

const ENCRYPTION_KEY = 'copy-test-encryption-key-0123456789abcdef';

/** Runs the herald CLI (src/cli/main.ts through tsx); resolves with its exit code and output. */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: ROOT, env: { ...process.env, HERALD_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

/** Every page of a list, 7 at a time (so that cursors, which are seqs, are compared too). */
async function pages(api: Api, path: string): Promise<unknown[]> {
  const out: unknown[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const res: ApiResponse = await api('GET', `${path}${sep}limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(res.status, 200, `${path}: ${res.text}`);
    out.push(res.body);
    cursor = res.body.next_cursor;
  } while (cursor);
  return out;
}

/** Everything the API shows: every list (page by page) and every detail. */
async function snapshot(api: Api) {
  const one = async (path: string) => {
    const res = await api('GET', path);
    assert.equal(res.status, 200, `${path}: ${res.text}`);
    return res.body;
  };
  const workspaces = await pages(api, '/api/v1/workspaces');
  const out: Record<string, unknown> = { workspaces, topics: await one('/api/v1/topics') };
  for (const page of workspaces as { data: { id: string }[] }[]) {
    for (const { id } of page.data) {
      const base = `/api/v1/workspaces/${id}`;
      const webhooks = await pages(api, `${base}/webhooks`);
      const events = await pages(api, `${base}/events`);
      const deliveries = await pages(api, `${base}/deliveries`);
      const ids = (list: unknown[]) => (list as { data: { id: string }[] }[]).flatMap((p) => p.data.map((x) => x.id));
      out[id] = {
        workspace: await one(base),
        keys: await pages(api, `${base}/keys`),
        webhooks,
        webhookDetails: await Promise.all(ids(webhooks).map((w) => one(`${base}/webhooks/${w}`))),
        secrets: await Promise.all(ids(webhooks).map((w) => one(`${base}/webhooks/${w}/secret`))),
        events,
        eventDetails: await Promise.all(ids(events).map((e) => one(`${base}/events/${e}`))),
        deliveries,
        deliveryDetails: await Promise.all(ids(deliveries).map((d) => one(`${base}/deliveries/${d}`))),
        failed: await pages(api, `${base}/deliveries?status=failed`),
      };
    }
  }
  return out;
}

await multinodeSuite('moving from SQLite to PostgreSQL', () => {
  it('herald migrate + herald copy: the same lists and details on PostgreSQL, keys work, pending deliveries are delivered', { timeout: 150_000 }, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'herald-copy-'));
    const receiver = await Receiver.start();
    const down = new Set<string>(['/bad']);
    receiver.respondWith((req) => ({ status: down.has(req.path) ? 500 : 200 }));
    const cluster = new Cluster();
    let sqlite: TestHerald | null = null;
    try {
      // ---- a SQLite Herald with some history -------------------------------------------
      const common = { encryptionKey: ENCRYPTION_KEY, circuitThreshold: 3, circuitCooldownMs: 1000 };
      sqlite = await startHerald({ ...common, maxRetries: 0 }, dir);
      // The Herald running now (it is restarted between the phases below).
      const api: Api = (...args) => sqlite!.api(...args);
      const created = async (method: string, path: string, body?: unknown) => {
        const res = await api(method, path, body);
        assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${res.text}`);
        return res.body;
      };
      for (const [id, name] of [['acme', 'Acme Coffee'], ['beta', 'Beta Books']]) {
        await created('POST', '/api/v1/workspaces', { id, name, uri: `https://${id}.example` });
        await created('PATCH', `/api/v1/workspaces/${id}`, { webhooks_enabled: true });
      }
      await created('POST', '/api/v1/workspaces', { id: 'idle', name: 'Idle', uri: null });
      await created('POST', '/api/v1/topics', { name: 'custom.thing', label: 'A thing', sample: { x: 1 } });
      const key = (await created('POST', '/api/v1/workspaces/acme/keys', { name: 'ci' })).key as string;
      const revoked = await created('POST', '/api/v1/workspaces/acme/keys', { name: 'old' });
      await created('DELETE', `/api/v1/workspaces/acme/keys/${revoked.id}`);
      const ok = await created('POST', '/api/v1/workspaces/acme/webhooks', { topic: 'walletreward_create', url: receiver.at('/ok') });
      const bad = await created('POST', '/api/v1/workspaces/acme/webhooks', { topic: 'coupon_create', url: receiver.at('/bad'), secret: 'plain secret ✓' });
      await created('POST', '/api/v1/workspaces/acme/webhooks', {
        topic: 'order_create', url: receiver.at('/big'), prefix: 'acme_', filter: { amount: { $gte: 100 } },
        headers: { 'x-shop': 'acme' }, description: 'large orders', rate_limit: 100,
      });
      await created('POST', '/api/v1/workspaces/acme/webhooks', { topic: 'order_create', url: receiver.at('/off'), enabled: false });
      await created('POST', '/api/v1/workspaces/beta/webhooks', { topic: 'lead_create', url: receiver.at('/beta') });
      const publish = async (ws: string, events: { topic: string; data: Record<string, unknown>; id?: string }[]) =>
        created('POST', `/api/v1/workspaces/${ws}/events/batch`, { events });

      // Succeeded (to /ok, /big, /beta) and failed (to /bad, no retries).
      await publish('acme', Array.from({ length: 12 }, (_, i) => ({ topic: 'walletreward_create', data: { customer_id: `c${i}`, amount: i * 25, note: 'café ☕ "q"' } })));
      await publish('acme', Array.from({ length: 6 }, (_, i) => ({ topic: 'order_create', data: { amount: i * 50, items: [{ sku: 'A', qty: i }] }, id: `order-${i}` })));
      await publish('beta', [{ topic: 'lead_create', data: { email: 'x@beta.example' } }]);
      await publish('acme', [{ topic: 'coupon_create', data: { code: 'A' } }, { topic: 'coupon_create', data: { code: 'B' } }]);
      await waitUntil(async () => {
        const res = await api('GET', '/api/v1/workspaces/acme/deliveries?status=pending&limit=1');
        return res.body.data.length === 0;
      }, { timeoutMs: 30_000 });
      await sqlite.herald.stop();

      // Pending after a failed attempt (the next one 10 minutes away); the failures in a row open /bad's circuit.
      sqlite = await startHerald({ ...common, maxRetries: 2, retryBaseMs: 600_000 }, dir);
      await publish('acme', Array.from({ length: 4 }, (_, i) => ({ topic: 'coupon_create', data: { code: `R${i}` } })));
      await waitUntil(async () => receiver.received('/bad').length >= 2 + 3, { timeoutMs: 30_000 });
      await waitUntil(async () => {
        const res = await sqlite!.api('GET', '/api/v1/workspaces/acme/deliveries?status=pending&limit=100');
        return res.body.data.length === 4 && res.body.data.every((d: { attempts: number }) => d.attempts === 1 || d.attempts === 0);
      }, { timeoutMs: 30_000 });
      await sqlite.herald.stop();

      // Pending, never attempted: an API-only Herald queues them and nothing sends them.
      sqlite = await startHerald({ ...common, role: 'api' }, dir);
      await publish('acme', Array.from({ length: 5 }, (_, i) => ({ topic: 'walletreward_create', data: { customer_id: `p${i}`, amount: 500 } })));
      await publish('acme', [{ topic: 'coupon_create', data: { code: 'P1' } }, { topic: 'coupon_create', data: { code: 'P2' } }]);
      const before = await snapshot(sqlite.api);
      const badSecret = (await sqlite.api('GET', `/api/v1/workspaces/acme/webhooks/${bad.id}/secret`)).body.secret as string;
      const okSecret = (await sqlite.api('GET', `/api/v1/workspaces/acme/webhooks/${ok.id}/secret`)).body.secret as string;
      await sqlite.herald.stop();
      sqlite = null;

      // ---- herald migrate, herald copy ---------------------------------------------------
      const env = { HERALD_DATABASE_URL: DATABASE_URL, HERALD_DATABASE_SCHEMA: cluster.schema, HERALD_DATA_DIR: join(dir, 'nowhere') };
      const migrated = await cli(['migrate'], env);
      assert.equal(migrated.code, 0, migrated.output);
      assert.match(migrated.output, /migrations applied \(postgres\)/);
      assert.equal(existsSync(join(dir, 'nowhere', 'admin.key')), false, 'migrate generates no admin key');
      const versions = (await cluster.query('SELECT version FROM schema_migrations ORDER BY version')).map((r) => r.version);
      assert.deepEqual(versions, [1, 2, 3, 4, 5]);

      const copyStarted = Date.now();
      const copied = await cli(['copy', '--from', dir, '--to', DATABASE_URL, '--to-schema', cluster.schema, '--batch-size', '7']);
      t.diagnostic(`herald copy took ${Date.now() - copyStarted} ms, process start included: ${/^copied .*$/m.exec(copied.output)?.[0]}`);
      assert.equal(copied.code, 0, copied.output);
      assert.match(copied.output, /copied 3 workspaces, 2 api keys, \d+ topics, 5 webhooks, 1 webhook health, \d+ events, \d+ deliveries, \d+ attempts/);
      assert.match(copied.output, /give every node the same HERALD_ADMIN_KEY/);

      const again = await cli(['copy', '--from', dir, '--to', DATABASE_URL, '--to-schema', cluster.schema]);
      assert.equal(again.code, 1, again.output);
      assert.match(again.output, /already holds Herald data \(3 workspaces/);
      const missing = await cli(['copy', '--from', join(dir, 'missing'), '--to', DATABASE_URL, '--to-schema', cluster.schema]);
      assert.equal(missing.code, 1);
      assert.match(missing.output, /no Herald database at/);

      // ---- Herald on PostgreSQL ------------------------------------------------------------
      const nodeEnv = {
        HERALD_ENCRYPTION_KEY: ENCRYPTION_KEY, HERALD_CIRCUIT_THRESHOLD: '3', HERALD_CIRCUIT_COOLDOWN_MS: '1000', HERALD_MAX_RETRIES: '2', HERALD_RETRY_BASE_MS: '600000',
      };
      await cluster.start('api', nodeEnv);
      const pgApi = cluster.api;
      assert.deepEqual(await snapshot(pgApi), before, 'every list and detail is the same');
      assert.equal((await pgApi('GET', `/api/v1/workspaces/acme/webhooks/${bad.id}/secret`)).body.secret, badSecret);

      // The workspace key works, for its own workspace only; the revoked one does not.
      assert.equal((await pgApi('GET', '/api/v1/workspaces/acme/webhooks', undefined, key)).status, 200);
      assert.equal((await pgApi('GET', '/api/v1/workspaces/beta', undefined, key)).status, 404);
      assert.equal((await pgApi('GET', '/api/v1/workspaces/acme', undefined, revoked.key)).status, 401);
      assert.equal((await pgApi('GET', '/api/v1/workspaces', undefined, ADMIN_KEY)).status, 200);

      // A worker delivers what was pending and due: the 5 never attempted to /ok and, once
      // the copied circuit lets a probe through, the 2 to /bad (which now answers 200).
      down.clear();
      const okBefore = receiver.received('/ok').length;
      const badBefore = receiver.received('/bad').length;
      await cluster.start('worker', nodeEnv);
      await waitUntil(() => receiver.received('/ok').length >= okBefore + 5, { timeoutMs: 30_000, message: 'pending deliveries to /ok' });
      await waitUntil(() => receiver.received('/bad').length >= badBefore + 2, { timeoutMs: 30_000, message: 'pending deliveries to /bad' });
      const verify = (secret: string, req: { body: string; headers: Record<string, unknown> }) =>
        new StandardWebhook(secret.startsWith('whsec_') ? secret : Buffer.from(secret).toString('base64')).verify(req.body, req.headers as Record<string, string>);
      for (const req of receiver.received('/ok').slice(okBefore)) verify(okSecret, req);
      for (const req of receiver.received('/bad').slice(badBefore)) verify(badSecret, req);

      // The ones retrying keep their schedule (10 minutes away) and their attempt count: a
      // manual retry makes attempt number 2.
      const waiting = ((await pgApi('GET', '/api/v1/workspaces/acme/deliveries?status=pending&limit=100')).body.data as { id: string; attempts: number; next_attempt_at: string }[])
        .filter((d) => d.attempts > 0);
      assert.ok(waiting.length >= 1 && waiting.every((d) => d.attempts === 1 && Date.parse(d.next_attempt_at) > Date.now() + 60_000), JSON.stringify(waiting));
      assert.equal((await pgApi('POST', `/api/v1/workspaces/acme/deliveries/${waiting[0]!.id}/retry`)).status, 202);
      const retried = await waitUntil(async () => {
        const d = (await pgApi('GET', `/api/v1/workspaces/acme/deliveries/${waiting[0]!.id}`)).body;
        return d.status === 'succeeded' ? d : null;
      }, { timeoutMs: 30_000 });
      assert.deepEqual(retried.attempts.map((a: { number: number }) => a.number), [1, 2]);

      // New work on PostgreSQL goes on from where SQLite left off.
      assert.equal((await pgApi('POST', '/api/v1/workspaces/acme/events', { topic: 'walletreward_create', data: { amount: 3 } })).status, 202);
      const events = (await pgApi('GET', '/api/v1/workspaces/acme/events?limit=1')).body.data;
      assert.deepEqual(events[0].data, { amount: 3 }, 'the new event lists first');
    } finally {
      if (sqlite) await sqlite.herald.stop();
      await cluster.close();
      await receiver.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
