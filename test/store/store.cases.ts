// The Store conformance suite: every adapter runs these same cases (test/store/sqlite.test.ts,
// test/store/postgres.test.ts), so that they behave alike down to paging, idempotency and
// the queue's claims. Each case gets a fresh, migrated, empty store from the factory and
// cleans it up, pass or fail. Times are fixed, so nothing here depends on the clock.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConflictError,
  type Attempt,
  type AttemptResult,
  type ClaimedDelivery,
  type DeliveryStatus,
  type EventRecord,
  type PortalSession,
  type PublishInput,
  type Store,
  type Webhook,
  type Workspace,
} from '../../src/store/store.js';
import { newId } from '../../src/domain/ids.js';
import { DUE_LOOKAHEAD } from '../../src/store/manual-retry.js';
import { sentAndStored } from '../../src/domain/sent-headers.js';
import { signAttempt, signingSecret } from '../../src/domain/signing.js';
import { copyCases } from './copy.cases.js';
import { orderingCases } from './ordering.cases.js';

export interface StoreFixture {
  store: Store;
  cleanup(): Promise<void>;
}

/** A fresh, migrated, empty store. */
export type StoreFactory = () => Promise<StoreFixture>;

const T0 = 1_700_000_000_000;
const DAY = 24 * 3600 * 1000;
const TOPIC = 'walletreward_create';
const OTHER_TOPIC = 'order_create';

// ---- builders --------------------------------------------------------------------------

function workspace(id: string, over: Partial<Workspace> = {}): Workspace {
  return { id, name: `Shop ${id}`, uri: `https://${id}.example`, webhooksEnabled: true, createdAt: T0, updatedAt: T0, ...over };
}

function webhook(workspaceId: string, over: Partial<Webhook> = {}): Webhook {
  return {
    id: newId('wh', T0),
    workspaceId,
    topic: TOPIC,
    url: 'https://hooks.example/in',
    secret: 'whsec_c2VjcmV0',
    prefix: '',
    filter: null,
    headers: {},
    description: null,
    enabled: true,
    disabledReason: null,
    rateLimit: null,
    previousSecrets: [],
    signing: 'hmac',
    signingKey: null,
    publicKey: null,
    previousSigningKeys: [],
    ordering: 'none',
    paused: false,
    createdAt: T0,
    updatedAt: T0,
    ...over,
  };
}

function input(over: Partial<PublishInput> = {}): PublishInput {
  return { id: newId('evt', T0), clientId: false, idempotencyKey: null, topic: TOPIC, data: { amount: 1 }, ...over };
}

function result(d: ClaimedDelivery, status: DeliveryStatus, over: Partial<AttemptResult> = {}, at = T0 + 10): AttemptResult {
  return {
    seq: d.seq,
    claim: d.claim,
    webhookId: d.webhook.id,
    status,
    nextAttemptAt: status === 'pending' ? at + 60_000 : null,
    url: d.webhook.url,
    attempt: {
      deliveryId: d.id,
      topic: d.topic,
      number: d.attempts + 1,
      startedAt: at,
      durationMs: 12,
      statusCode: status === 'succeeded' ? 200 : 500,
      error: status === 'succeeded' ? null : 'HTTP 500',
      responseBody: status === 'succeeded' ? 'ok' : 'boom',
      ...sentBy(d, at),
    },
    ...over,
  };
}

/**
 * The headers AttemptRunner sends for d at `at` (a custom header, the signed ones, a
 * traceparent), and their stored form, as it makes them.
 */
function sentBy(d: ClaimedDelivery, at: number): { requestHeaders: Record<string, string>; storedHeaders: string } {
  const signed = signAttempt({
    prefix: 'x-nector', topic: d.topic, deliveryId: d.id, timestamp: Math.floor(at / 1000), body: d.body,
    secrets: [signingSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')], userAgent: 'Herald/test',
  });
  const { headers, stored } = sentAndStored({ 'X-Tenant': 'acme' }, signed, { deliveryId: d.id, topic: d.topic, startedAt: at }, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
  return { requestHeaders: headers, storedHeaders: stored };
}

/** An attempt as getDelivery reads it back: the result's attempt without what its headers are derived from or stored as. */
function recorded(r: AttemptResult): Attempt {
  const { deliveryId: _id, topic: _topic, storedHeaders: _stored, ...attempt } = r.attempt!;
  return attempt;
}

// ---- the cases -------------------------------------------------------------------------

export function storeCases(factory: StoreFactory): void {
  /** A case with its own store, cleaned up whatever happens. */
  function test(name: string, fn: (store: Store) => Promise<void>, options: { timeout?: number } = {}): void {
    it(name, { timeout: options.timeout ?? 30_000 }, async () => {
      const fixture = await factory();
      try {
        await fn(fixture.store);
      } finally {
        await fixture.cleanup();
      }
    });
  }

  /** One event published to a workspace; returns its outcome. */
  async function publishOne(store: Store, ws: string, inp: PublishInput, now = T0) {
    const [outcomes] = await store.publish([{ workspaceId: ws, inputs: [inp] }], now);
    assert.ok(outcomes, `workspace ${ws} exists`);
    return outcomes[0]!;
  }

  /** A workspace with webhooks enabled and one plain webhook on TOPIC. */
  async function setup(store: Store, ws = 'acme'): Promise<{ hook: Webhook }> {
    await store.createWorkspace(workspace(ws));
    const hook = webhook(ws);
    await store.createWebhook(hook);
    return { hook };
  }

  async function deliveriesOf(store: Store, ws: string, eventId: string) {
    return (await store.listDeliveries(ws, { eventId }, { limit: 500 })).rows;
  }

  describe('migrations', () => {
    test('migrate() again is a no-op and ping() answers', async (store) => {
      await store.createWorkspace(workspace('kept'));
      await store.migrate();
      await store.ping();
      assert.ok(await store.getWorkspace('kept'));
    });
  });

  describe('workspaces', () => {
    test('create, get, update and delete', async (store) => {
      await store.createWorkspace(workspace('acme', { webhooksEnabled: false }));
      assert.deepEqual(await store.getWorkspace('acme'), workspace('acme', { webhooksEnabled: false }));
      assert.equal(await store.getWorkspace('nope'), null);

      const renamed = await store.updateWorkspace('acme', { name: 'Acme Coffee' }, T0 + 5);
      assert.deepEqual(renamed, workspace('acme', { name: 'Acme Coffee', webhooksEnabled: false, updatedAt: T0 + 5 }));
      const cleared = await store.updateWorkspace('acme', { uri: null, webhooksEnabled: true }, T0 + 6);
      assert.deepEqual(cleared, workspace('acme', { name: 'Acme Coffee', uri: null, webhooksEnabled: true, updatedAt: T0 + 6 }));
      assert.deepEqual(await store.getWorkspace('acme'), cleared);
      assert.equal(await store.updateWorkspace('nope', { name: 'x' }, T0), null);

      assert.equal(await store.deleteWorkspace('acme'), true);
      assert.equal(await store.deleteWorkspace('acme'), false);
      assert.equal(await store.getWorkspace('acme'), null);
    });

    test('a taken id is a ConflictError', async (store) => {
      await store.createWorkspace(workspace('acme'));
      await assert.rejects(store.createWorkspace(workspace('acme', { name: 'Other' })), ConflictError);
      assert.equal((await store.getWorkspace('acme'))!.name, 'Shop acme');
    });

    test('lists newest first, page by page', async (store) => {
      for (let i = 0; i < 5; i++) await store.createWorkspace(workspace(`ws${i}`));
      const first = await store.listWorkspaces({ limit: 2 });
      assert.deepEqual(first.rows.map((w) => w.id), ['ws4', 'ws3']);
      assert.equal(typeof first.next, 'number');
      const second = await store.listWorkspaces({ limit: 2, cursor: first.next! });
      assert.deepEqual(second.rows.map((w) => w.id), ['ws2', 'ws1']);
      const last = await store.listWorkspaces({ limit: 2, cursor: second.next! });
      assert.deepEqual(last.rows.map((w) => w.id), ['ws0']);
      assert.equal(last.next, null);
      const all = await store.listWorkspaces({ limit: 5 });
      assert.equal(all.rows.length, 5);
      assert.equal(all.next, null);
    });
  });

  describe('api keys', () => {
    test('found by hash until revoked; listed without revoked ones', async (store) => {
      await store.createWorkspace(workspace('acme'));
      await store.createWorkspace(workspace('other'));
      const k1 = { id: 'key_1', workspaceId: 'acme', name: 'ci', createdAt: T0 };
      const k2 = { id: 'key_2', workspaceId: 'acme', name: null, createdAt: T0 + 1 };
      await store.createKey(k1, 'hash-1');
      await store.createKey(k2, 'hash-2');
      assert.deepEqual(await store.findKeyByHash('hash-1'), k1);
      assert.equal(await store.findKeyByHash('hash-x'), null);

      const page = await store.listKeys('acme', { limit: 1 });
      assert.deepEqual(page.rows, [k2]);
      assert.deepEqual((await store.listKeys('acme', { limit: 1, cursor: page.next! })).rows, [k1]);
      assert.deepEqual((await store.listKeys('other', { limit: 10 })).rows, []);

      assert.equal(await store.revokeKey('other', 'key_1', T0), false, 'only from its own workspace');
      assert.equal(await store.revokeKey('acme', 'key_1', T0 + 2), true);
      assert.equal(await store.revokeKey('acme', 'key_1', T0 + 3), false, 'already revoked');
      assert.equal(await store.findKeyByHash('hash-1'), null);
      assert.deepEqual((await store.listKeys('acme', { limit: 10 })).rows, [k2]);
    });
  });

  describe('portal sessions', () => {
    const session = (id: string, over: Partial<PortalSession> = {}): PortalSession => ({
      id, workspaceId: 'acme', access: 'manage', theme: {}, expiresAt: T0 + 3600_000, createdAt: T0, usedAt: null, revokedAt: null, ...over,
    });

    test('a link opens once, with its theme; the session is found by its credential', async (store) => {
      await store.createWorkspace(workspace('acme'));
      const theme = { name: 'Acme Loyalty', primaryColor: '#0f766e', logoUrl: 'https://cdn.example/l.png', dark: true };
      await store.createPortalSession(session('ps_1', { access: 'view', theme }), 'link-1');
      const opened = await store.openPortalLink('link-1', 'cred-1', T0 + 10);
      assert.deepEqual(opened, { session: session('ps_1', { access: 'view', theme, usedAt: T0 + 10 }), refusal: null });
      assert.deepEqual(await store.findPortalSession('cred-1'), session('ps_1', { access: 'view', theme, usedAt: T0 + 10 }));
      const again = await store.openPortalLink('link-1', 'cred-2', T0 + 11);
      assert.equal(again.refusal, 'used');
      assert.equal(await store.findPortalSession('cred-2'), null, 'a refused opening gives no credential');
      assert.deepEqual(await store.openPortalLink('link-x', 'cred-3', T0), { session: null, refusal: 'unknown' });
      assert.equal(await store.findPortalSession('link-1'), null, 'the link is not a credential');
    });

    test('concurrent openings: one wins', async (store) => {
      await store.createWorkspace(workspace('acme'));
      await store.createPortalSession(session('ps_1'), 'link-1');
      const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.openPortalLink('link-1', `cred-${i}`, T0 + 1)));
      assert.equal(results.filter((r) => r.refusal === null).length, 1);
      assert.equal(results.filter((r) => r.refusal === 'used').length, 7);
    });

    test('expired and revoked links do not open; revoking one or all; listed newest first', async (store) => {
      await store.createWorkspace(workspace('acme'));
      await store.createWorkspace(workspace('other'));
      await store.createPortalSession(session('ps_1'), 'l1');
      await store.createPortalSession(session('ps_2', { expiresAt: T0 + 5 }), 'l2');
      await store.createPortalSession(session('ps_3'), 'l3');
      await store.createPortalSession(session('ps_4', { workspaceId: 'other' }), 'l4');
      assert.equal((await store.openPortalLink('l2', 'c2', T0 + 5)).refusal, 'expired');
      assert.equal(await store.revokePortalSessions('other', 'ps_1', T0 + 6), 0, 'only in its own workspace');
      assert.equal(await store.revokePortalSessions('acme', 'ps_1', T0 + 6), 1);
      assert.equal((await store.openPortalLink('l1', 'c1', T0 + 7)).refusal, 'revoked');
      const page = await store.listPortalSessions('acme', { limit: 2 });
      assert.deepEqual(page.rows.map((s) => s.id), ['ps_3', 'ps_2']);
      assert.deepEqual((await store.listPortalSessions('acme', { limit: 2, cursor: page.next! })).rows, [session('ps_1', { revokedAt: T0 + 6 })]);
      assert.equal(await store.revokePortalSessions('acme', null, T0 + 8), 3);
      const rows = (await store.listPortalSessions('acme', { limit: 10 })).rows;
      assert.deepEqual(rows.map((s) => s.revokedAt), [T0 + 8, T0 + 8, T0 + 6], 'an earlier revocation keeps its time');
      assert.equal((await store.listPortalSessions('other', { limit: 10 })).rows[0]!.revokedAt, null);
    });
  });

  describe('topics', () => {
    test('seeding keeps what exists; put adds or replaces; the catalog keeps its order', async (store) => {
      const a = { name: 'a_create', label: 'A', description: 'first', sample: { nested: { x: [1, 'two', null] }, z: 1, a: 2 } };
      const b = { name: 'b_create', label: 'B', description: 'second', sample: {} };
      await store.seedTopics([a, b]);
      await store.seedTopics([{ ...a, label: 'changed' }, { name: 'c_create', label: 'C', description: '', sample: { c: true } }]);
      assert.deepEqual((await store.listTopics()).map((t) => t.name), ['a_create', 'b_create', 'c_create']);
      assert.deepEqual(await store.getTopic('a_create'), { ...a, schema: null, schemaVersion: 0 }, 'seeding does not overwrite');
      assert.deepEqual(Object.keys((await store.getTopic('a_create'))!.sample), ['nested', 'z', 'a'], 'sample keeps its key order');
      assert.equal(await store.getTopic('zzz'), null);

      assert.deepEqual(await store.putTopic({ ...b, label: 'B2', sample: { k: 'v' } }), { ...b, label: 'B2', sample: { k: 'v' }, schema: null, schemaVersion: 1 });
      await store.putTopic({ name: 'd_update', label: 'D', description: 'd', sample: { d: 1 } });
      assert.deepEqual(await store.getTopic('b_create'), { ...b, label: 'B2', sample: { k: 'v' }, schema: null, schemaVersion: 1 });
      assert.deepEqual((await store.listTopics()).map((t) => t.name), ['a_create', 'b_create', 'c_create', 'd_update']);
    });
  });

  describe('topic schemas', () => {
    test('a schema is stored as written, every put moves its version, null clears it', async (store) => {
      const schema = { type: 'object', properties: { z: { type: 'integer' }, amount: { type: 'number', minimum: 0 } }, required: ['amount'] };
      const put = await store.putTopic({ name: 's_create', label: 'S', description: '', sample: {}, schema });
      assert.deepEqual(put, { name: 's_create', label: 'S', description: '', sample: {}, schema, schemaVersion: 1 });
      assert.deepEqual(Object.keys((await store.getTopic('s_create'))!.schema!.properties as object), ['z', 'amount'], 'key order kept');
      const again = await store.putTopic({ ...put, schema: { ...schema, required: [] } });
      assert.equal(again.schemaVersion, 2);
      assert.deepEqual((await store.getTopic('s_create'))!.schema, { ...schema, required: [] });
      const cleared = await store.putTopic({ ...put, schema: null });
      assert.deepEqual(cleared, { ...put, schema: null, schemaVersion: 3 });
      assert.deepEqual((await store.listTopics()).find((t) => t.name === 's_create'), cleared);
    });
  });

  describe('webhooks', () => {
    test('round-trip every field; scoped to the workspace', async (store) => {
      await store.createWorkspace(workspace('acme'));
      await store.createWorkspace(workspace('other'));
      const full = webhook('acme', {
        prefix: 'shop1_',
        filter: { amount: { $gte: 100 }, $or: [{ tier: 'gold' }, { tags: 'vip' }] },
        headers: { 'x-b': '2', 'x-a': '1' },
        description: 'coins',
        enabled: false,
        disabledReason: 'paused',
        rateLimit: 5,
        previousSecrets: [{ secret: 'old', expiresAt: T0 + DAY }],
        signing: 'ed25519',
        signingKey: 'enc:v1:c2lnbmluZy1rZXk=',
        publicKey: 'whpk_' + Buffer.alloc(32, 7).toString('base64'),
        previousSigningKeys: [{ privateKey: 'enc:v1:b2xkLWtleQ==', expiresAt: T0 + DAY }],
      });
      await store.createWebhook(full);
      assert.deepEqual(await store.getWebhook('acme', full.id), full);
      assert.equal(await store.getWebhook('other', full.id), null);
      assert.equal(await store.getWebhook('acme', 'wh_missing'), null);
      assert.deepEqual(await store.findWebhook(full.id), full);
      assert.equal(await store.findWebhook('wh_missing'), null);
      // Back to hmac: the keys go, and the version moves.
      const hmac = await store.updateWebhook('acme', full.id, { signing: 'hmac', signingKey: null, publicKey: null, previousSigningKeys: [] }, T0);
      assert.deepEqual(hmac, { ...full, signing: 'hmac', signingKey: null, publicKey: null, previousSigningKeys: [], updatedAt: T0 + 1 });
      assert.deepEqual(await store.getWebhook('acme', full.id), hmac);
    });

    test("a claim carries an ed25519 webhook's keys, current first, and the event's traceparent", async (store) => {
      await store.createWorkspace(workspace('acme'));
      const hook = webhook('acme', {
        signing: 'ed25519',
        signingKey: 'whsk_current',
        publicKey: 'whpk_current',
        previousSigningKeys: [{ privateKey: 'whsk_old', expiresAt: T0 + DAY }],
      });
      await store.createWebhook(hook);
      const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
      const traced = await publishOne(store, 'acme', input({ traceparent }));
      assert.equal(traced.event.traceparent, traceparent);
      assert.equal((await store.getEvent('acme', traced.event.id))!.traceparent, traceparent);
      const plain = await publishOne(store, 'acme', input(), T0 + 1);
      const claimed = await store.claimDue(T0 + 10, 10, T0 + 60_000);
      const byEvent = new Map(claimed.map((c) => [c.eventId, c]));
      assert.equal(byEvent.get(traced.event.id)!.traceparent, traceparent);
      assert.equal(byEvent.get(plain.event.id)!.traceparent, null);
      const w = byEvent.get(traced.event.id)!.webhook;
      assert.equal(w.signing, 'ed25519');
      assert.deepEqual(w.signingKeys, [{ privateKey: 'whsk_current', expiresAt: null }, { privateKey: 'whsk_old', expiresAt: T0 + DAY }]);
      // An hmac webhook signs with its secrets only.
      await store.updateWebhook('acme', hook.id, { signing: 'hmac', signingKey: null, publicKey: null, previousSigningKeys: [] }, T0 + 20);
      await publishOne(store, 'acme', input(), T0 + 30);
      const [later] = await store.claimDue(T0 + 40, 10, T0 + 60_000);
      assert.deepEqual([later!.webhook.signing, later!.webhook.signingKeys], ['hmac', []]);
    });

    test('list by topic, newest first, page by page', async (store) => {
      await store.createWorkspace(workspace('acme'));
      const hooks: Webhook[] = [];
      for (let i = 0; i < 5; i++) {
        const w = webhook('acme', { id: `wh_${i}`, topic: i % 2 ? OTHER_TOPIC : TOPIC });
        hooks.push(w);
        await store.createWebhook(w);
      }
      const page1 = await store.listWebhooks('acme', undefined, { limit: 3 });
      assert.deepEqual(page1.rows.map((w) => w.id), ['wh_4', 'wh_3', 'wh_2']);
      const page2 = await store.listWebhooks('acme', undefined, { limit: 3, cursor: page1.next! });
      assert.deepEqual(page2.rows.map((w) => w.id), ['wh_1', 'wh_0']);
      assert.equal(page2.next, null);
      assert.deepEqual((await store.listWebhooks('acme', OTHER_TOPIC, { limit: 10 })).rows.map((w) => w.id), ['wh_3', 'wh_1']);
      assert.deepEqual((await store.listWebhooks('acme', TOPIC, { limit: 10 })).rows, [hooks[4], hooks[2], hooks[0]]);
      assert.deepEqual((await store.listWebhooks('nope', undefined, { limit: 10 })).rows, []);
    });

    test('update changes only what the patch names, and always moves the version', async (store) => {
      await store.createWorkspace(workspace('acme'));
      const w = webhook('acme', { filter: { a: 1 }, description: 'd', headers: { 'x-a': '1' } });
      await store.createWebhook(w);
      const u1 = await store.updateWebhook('acme', w.id, { url: 'https://new.example/x', filter: null, description: undefined }, T0);
      assert.deepEqual(u1, { ...w, url: 'https://new.example/x', filter: null, updatedAt: T0 + 1 });
      const u2 = await store.updateWebhook('acme', w.id, { enabled: false, disabledReason: 'failing', headers: {} }, T0);
      assert.deepEqual(u2, { ...u1, enabled: false, disabledReason: 'failing', headers: {}, updatedAt: T0 + 2 });
      const u3 = await store.updateWebhook('acme', w.id, { enabled: true, disabledReason: null, topic: OTHER_TOPIC, rateLimit: 3 }, T0 + 1000);
      assert.deepEqual(u3, { ...u2, enabled: true, disabledReason: null, topic: OTHER_TOPIC, rateLimit: 3, updatedAt: T0 + 1000 });
      assert.deepEqual(await store.getWebhook('acme', w.id), u3);
      assert.equal(await store.updateWebhook('other', w.id, { url: 'https://x.example' }, T0), null);
      assert.equal(await store.updateWebhook('acme', 'wh_missing', { url: 'https://x.example' }, T0), null);
    });

    test('delete cancels its pending deliveries and keeps finished ones', async (store) => {
      const { hook } = await setup(store);
      const other = webhook('acme');
      await store.createWebhook(other);
      const done = await publishOne(store, 'acme', input());
      const [claimed] = (await store.claimDue(T0, 10, T0 + 60_000)).filter((c) => c.webhook.id === hook.id);
      await store.recordResults([result(claimed!, 'succeeded')], T0 + 20);
      const waiting = await publishOne(store, 'acme', input(), T0 + 30);
      const [inFlight] = (await store.claimDue(T0 + 30, 10, T0 + 60_000)).filter((c) => c.webhook.id === hook.id);
      assert.equal(inFlight!.eventId, waiting.event.id);

      assert.equal(await store.deleteWebhook('other-ws', hook.id, T0 + 40), false);
      assert.equal(await store.deleteWebhook('acme', hook.id, T0 + 40), true);
      assert.equal(await store.deleteWebhook('acme', hook.id, T0 + 41), false);
      assert.equal(await store.getWebhook('acme', hook.id), null);

      const mine = (await store.listDeliveries('acme', { webhookId: hook.id }, { limit: 10 })).rows;
      const byEvent = new Map(mine.map((d) => [d.eventId, d]));
      assert.equal(byEvent.get(done.event.id)!.status, 'succeeded');
      assert.equal(byEvent.get(waiting.event.id)!.status, 'cancelled');
      assert.equal(byEvent.get(waiting.event.id)!.nextAttemptAt, null);
      assert.equal(byEvent.get(waiting.event.id)!.updatedAt, T0 + 40);
      // The attempt that was in flight finishes after the delete: its result is stale.
      await store.recordResults([result(inFlight!, 'succeeded')], T0 + 50);
      assert.equal((await store.getDelivery('acme', inFlight!.id))!.delivery.status, 'cancelled');
      assert.equal(await store.retryDelivery('acme', inFlight!.id, T0 + 60), false, 'nothing could deliver it');
      assert.equal(await store.retryDelivery('acme', byEvent.get(done.event.id)!.id, T0 + 60), false);
      const others = (await store.listDeliveries('acme', { webhookId: other.id, status: 'pending' }, { limit: 10 })).rows;
      assert.equal(others.length, 2, "the other webhook's deliveries are untouched");
    });
  });

  describe('publish', () => {
    test('fans out to the enabled webhooks of the topic whose filter matches', async (store) => {
      await store.createWorkspace(workspace('acme'));
      const plain = webhook('acme', { id: 'wh_plain' });
      const off = webhook('acme', { id: 'wh_off', enabled: false });
      const big = webhook('acme', { id: 'wh_big', filter: { amount: { $gte: 100 } }, url: 'https://big.example/in' });
      const elsewhere = webhook('acme', { id: 'wh_other', topic: OTHER_TOPIC });
      for (const w of [plain, off, big, elsewhere]) await store.createWebhook(w);

      const small = await publishOne(store, 'acme', input({ data: { amount: 50 } }));
      assert.equal(small.created, true);
      assert.equal(small.event.deliveries, 1);
      assert.deepEqual((await deliveriesOf(store, 'acme', small.event.id)).map((d) => d.webhookId), ['wh_plain']);

      const large = await publishOne(store, 'acme', input({ data: { amount: 150 } }), T0 + 1);
      assert.equal(large.event.deliveries, 2);
      const ds = await deliveriesOf(store, 'acme', large.event.id);
      assert.deepEqual(ds.map((d) => d.webhookId).sort(), ['wh_big', 'wh_plain']);
      for (const d of ds) {
        assert.equal(d.status, 'pending');
        assert.equal(d.nextAttemptAt, T0 + 1);
        assert.equal(d.attempts, 0);
        assert.equal(d.topic, TOPIC);
        assert.equal(d.eventId, large.event.id);
        assert.equal(d.url, d.webhookId === 'wh_big' ? 'https://big.example/in' : plain.url);
        assert.equal(d.createdAt, T0 + 1);
        assert.match(d.id, /^dlv_/);
      }
      const event = await store.getEvent('acme', large.event.id);
      assert.deepEqual(event, large.event);
      assert.deepEqual(JSON.parse(event!.body), { amount: 150, business_name: 'Shop acme', business_uri: 'https://acme.example' });
      assert.deepEqual(event!.addedFields, ['business_name', 'business_uri']);
      assert.equal(event!.createdAt, T0 + 1);
    });

    test('nothing is queued while the workspace has webhooks switched off', async (store) => {
      await setup(store);
      await store.updateWorkspace('acme', { webhooksEnabled: false }, T0);
      const out = await publishOne(store, 'acme', input({ data: { business_name: 'Own', business_uri: null, n: 1 } }));
      assert.equal(out.created, true);
      assert.equal(out.event.deliveries, 0);
      assert.deepEqual(out.event.addedFields, []);
      assert.deepEqual(await store.getEvent('acme', out.event.id), out.event);
      assert.deepEqual(await deliveriesOf(store, 'acme', out.event.id), []);
      assert.deepEqual(await store.queueStats(T0), { pending: 0, oldestDueAt: null });
    });

    test('a client id returns the first event, across calls and within one batch', async (store) => {
      await setup(store);
      const first = await publishOne(store, 'acme', input({ id: 'order-1', clientId: true, data: { v: 1 } }));
      assert.equal(first.created, true);
      assert.equal(first.event.deliveries, 1);
      const again = await publishOne(store, 'acme', input({ id: 'order-1', clientId: true, data: { v: 2 } }), T0 + 2 * DAY);
      assert.equal(again.created, false);
      assert.deepEqual(again.event, first.event, 'a client id is remembered beyond 24 h');

      const [batch] = await store.publish(
        [{ workspaceId: 'acme', inputs: [input({ id: 'order-2', clientId: true, data: { v: 1 } }), input({ id: 'order-2', clientId: true, data: { v: 2 } })] }], T0 + 5,
      );
      assert.equal(batch![0]!.created, true);
      assert.equal(batch![1]!.created, false);
      assert.deepEqual(batch![1]!.event, batch![0]!.event);
      assert.equal(JSON.parse(batch![1]!.event.body).v, 1);
      assert.equal((await deliveriesOf(store, 'acme', 'order-2')).length, 1);
      assert.equal((await store.listEvents('acme', undefined, { limit: 10 })).rows.length, 2);

      // The same id in another workspace is another event.
      await setup(store, 'other');
      assert.equal((await publishOne(store, 'other', input({ id: 'order-1', clientId: true }))).created, true);
    });

    test('an idempotency key returns the first event for 24 hours, across calls and within one batch', async (store) => {
      await setup(store);
      const first = await publishOne(store, 'acme', input({ idempotencyKey: 'k1', data: { v: 1 } }));
      const again = await publishOne(store, 'acme', input({ idempotencyKey: 'k1', data: { v: 2 } }), T0 + DAY - 1);
      assert.equal(again.created, false);
      assert.deepEqual(again.event, first.event);
      const later = await publishOne(store, 'acme', input({ idempotencyKey: 'k1', data: { v: 3 } }), T0 + DAY + 1);
      assert.equal(later.created, true, 'the key is forgotten after 24 h');
      assert.notEqual(later.event.id, first.event.id);
      const afterThat = await publishOne(store, 'acme', input({ idempotencyKey: 'k1' }), T0 + DAY + 2);
      assert.equal(afterThat.event.id, later.event.id, 'the newest event with the key answers');

      const [batch] = await store.publish(
        [{ workspaceId: 'acme', inputs: [input({ idempotencyKey: 'k2' }), input({ idempotencyKey: 'k2' }), input({ idempotencyKey: 'k3' })] }], T0 + DAY + 3,
      );
      assert.deepEqual(batch!.map((o) => o.created), [true, false, true]);
      assert.equal(batch![1]!.event.id, batch![0]!.event.id);
      assert.equal((await store.queueStats(T0 + 2 * DAY)).pending, 4, 'one delivery per created event');
    });

    test('concurrent publishes of one client id or key store one event', async (store) => {
      await setup(store);
      const publishes = Array.from({ length: 8 }, (_, i) =>
        store.publish(
          [{ workspaceId: 'acme', inputs: [input({ id: 'same-id', clientId: true, data: { i } }), input({ idempotencyKey: 'same-key', data: { i } })] }], T0 + i,
        ),
      );
      const outcomes = (await Promise.all(publishes)).map((r) => r[0]!);
      const byId = outcomes.map((o) => o[0]!);
      const byKey = outcomes.map((o) => o[1]!);
      assert.equal(byId.filter((o) => o.created).length, 1);
      assert.equal(byKey.filter((o) => o.created).length, 1);
      assert.equal(new Set(byId.map((o) => o.event.id)).size, 1);
      assert.equal(new Set(byKey.map((o) => o.event.id)).size, 1);
      assert.equal(new Set(byId.map((o) => o.event.body)).size, 1, 'every repeat answers with the stored event');
      assert.equal((await store.listEvents('acme', undefined, { limit: 100 })).rows.length, 2);
      assert.equal((await store.queueStats(T0 + 10)).pending, 2, 'deliveries only for the stored events');
    });

    test('a client id is checked before the idempotency key', async (store) => {
      await setup(store);
      const byKey = await publishOne(store, 'acme', input({ idempotencyKey: 'k' }));
      const byId = await publishOne(store, 'acme', input({ id: 'c1', clientId: true }));
      const both = await publishOne(store, 'acme', input({ id: 'c1', clientId: true, idempotencyKey: 'k' }), T0 + 1);
      assert.equal(both.created, false);
      assert.equal(both.event.id, byId.event.id);
      const keyOnly = await publishOne(store, 'acme', input({ id: 'c2', clientId: true, idempotencyKey: 'k' }), T0 + 1);
      assert.equal(keyOnly.created, false);
      assert.equal(keyOnly.event.id, byKey.event.id);
    });

    test('several batches in one call; a missing workspace is null', async (store) => {
      await setup(store, 'a');
      await setup(store, 'b');
      const out = await store.publish(
        [
          { workspaceId: 'a', inputs: [input(), input({ topic: OTHER_TOPIC })] },
          { workspaceId: 'gone', inputs: [input()] },
          { workspaceId: 'b', inputs: [input({ id: 'same', clientId: true })] },
          { workspaceId: 'a', inputs: [input({ id: 'same', clientId: true })] },
        ], T0,
      );
      assert.equal(out.length, 4);
      assert.deepEqual(out[0]!.map((o) => [o.created, o.event.deliveries]), [[true, 1], [true, 0]]);
      assert.equal(out[1], null);
      assert.deepEqual(out[2]!.map((o) => [o.created, o.event.workspaceId]), [[true, 'b']]);
      assert.deepEqual(out[3]!.map((o) => [o.created, o.event.workspaceId]), [[true, 'a']]);
      assert.equal((await store.listEvents('a', undefined, { limit: 10 })).rows.length, 3);
      assert.equal((await store.listEvents('b', undefined, { limit: 10 })).rows.length, 1);
      assert.equal((await store.queueStats(T0)).pending, 3);
      assert.deepEqual(await store.publish([], T0), []);
    });

    test('events list by topic, newest first, page by page', async (store) => {
      await setup(store);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await publishOne(store, 'acme', input({ topic: i % 2 ? OTHER_TOPIC : TOPIC }), T0 + i)).event.id);
      const p1 = await store.listEvents('acme', undefined, { limit: 2 });
      assert.deepEqual(p1.rows.map((e) => e.id), [ids[4], ids[3]]);
      const p2 = await store.listEvents('acme', undefined, { limit: 2, cursor: p1.next! });
      assert.deepEqual(p2.rows.map((e) => e.id), [ids[2], ids[1]]);
      const p3 = await store.listEvents('acme', undefined, { limit: 2, cursor: p2.next! });
      assert.deepEqual(p3.rows.map((e) => e.id), [ids[0]]);
      assert.equal(p3.next, null);
      assert.deepEqual((await store.listEvents('acme', OTHER_TOPIC, { limit: 10 })).rows.map((e) => e.id), [ids[3], ids[1]]);
      assert.equal(await store.getEvent('other', ids[0]!), null);
    });
  });

  describe('replay', () => {
    test('fans out again to the webhooks that match now', async (store) => {
      const { hook } = await setup(store);
      const first = await publishOne(store, 'acme', input({ data: { amount: 500 } }));
      await store.createWebhook(webhook('acme', { id: 'wh_new', filter: { amount: { $gt: 100 } } }));
      await store.createWebhook(webhook('acme', { id: 'wh_no', filter: { amount: { $lt: 100 } } }));
      await store.updateWebhook('acme', hook.id, { enabled: false }, T0);

      assert.equal(await store.replayEvent('acme', first.event.id, T0 + 100), 1);
      assert.equal((await store.getEvent('acme', first.event.id))!.deliveries, 2);
      const ds = await deliveriesOf(store, 'acme', first.event.id);
      assert.deepEqual(ds.map((d) => d.webhookId), ['wh_new', hook.id], 'newest first');
      assert.equal(ds[0]!.nextAttemptAt, T0 + 100);
      assert.equal(await store.replayEvent('acme', 'evt_missing', T0), null);
      assert.equal(await store.replayEvent('other', first.event.id, T0), null);
    });
  });

  describe('deliveries', () => {
    test('list by webhook, event and status; get with attempts', async (store) => {
      const { hook } = await setup(store);
      const second = webhook('acme', { id: 'wh_second' });
      await store.createWebhook(second);
      const e1 = await publishOne(store, 'acme', input());
      const e2 = await publishOne(store, 'acme', input(), T0 + 1);
      const all = await store.listDeliveries('acme', {}, { limit: 3 });
      assert.equal(all.rows.length, 3);
      const rest = await store.listDeliveries('acme', {}, { limit: 3, cursor: all.next! });
      assert.equal(rest.rows.length, 1);
      assert.equal(rest.next, null);
      assert.equal(new Set([...all.rows, ...rest.rows].map((d) => d.id)).size, 4);

      assert.equal((await store.listDeliveries('acme', { webhookId: second.id }, { limit: 10 })).rows.length, 2);
      assert.equal((await store.listDeliveries('acme', { eventId: e1.event.id }, { limit: 10 })).rows.length, 2);
      assert.equal((await store.listDeliveries('acme', { eventId: e1.event.id, webhookId: hook.id }, { limit: 10 })).rows.length, 1);
      assert.equal((await store.listDeliveries('other', {}, { limit: 10 })).rows.length, 0);

      const claimed = await store.claimDue(T0 + 5, 10, T0 + 60_000);
      const target = claimed.find((c) => c.eventId === e2.event.id && c.webhook.id === hook.id)!;
      const r1 = result(target, 'pending', {}, T0 + 10);
      await store.recordResults([r1], T0 + 11);
      const [again] = (await store.claimDue(T0 + 10 + 60_000, 10, T0 + 200_000)).filter((c) => c.id === target.id);
      const r2 = result(again!, 'succeeded', {}, T0 + 70_000);
      await store.recordResults([r2], T0 + 70_001);

      assert.deepEqual(
        (await store.listDeliveries('acme', { status: 'succeeded' }, { limit: 10 })).rows.map((d) => d.id),
        [target.id],
      );
      const got = await store.getDelivery('acme', target.id);
      assert.ok(got);
      assert.equal(got.delivery.status, 'succeeded');
      assert.equal(got.delivery.attempts, 2);
      assert.equal(got.delivery.nextAttemptAt, null);
      assert.equal(got.delivery.lastStatusCode, 200);
      assert.equal(got.delivery.lastError, null);
      assert.equal(got.delivery.updatedAt, T0 + 70_001);
      assert.deepEqual(got.attempts, [recorded(r1), recorded(r2)]);
      // Every header as sent, in the order sent (stored compactly, src/domain/sent-headers.ts).
      assert.deepEqual(got.attempts.map((a) => Object.entries(a.requestHeaders)), [r1, r2].map((r) => Object.entries(r.attempt!.requestHeaders)));
      assert.equal(await store.getDelivery('other', target.id), null);
      assert.equal(await store.getDelivery('acme', 'dlv_missing'), null);
    });

    test('retry queues one more attempt now, also for a succeeded delivery', async (store) => {
      await setup(store);
      await publishOne(store, 'acme', input());
      const [d] = await store.claimDue(T0, 10, T0 + 60_000);
      await store.recordResults([result(d!, 'failed')], T0 + 20);
      const failed = (await store.getDelivery('acme', d!.id))!.delivery;
      assert.equal(failed.status, 'failed');
      assert.equal(failed.nextAttemptAt, null);
      assert.equal(await store.nextDueAt(), null);

      assert.equal(await store.retryDelivery('acme', d!.id, T0 + 1000), true);
      const pending = (await store.getDelivery('acme', d!.id))!.delivery;
      assert.equal(pending.status, 'pending');
      assert.equal(pending.nextAttemptAt, T0 + 1000);
      assert.equal(pending.attempts, 1);
      const [again] = await store.claimDue(T0 + 1000, 10, T0 + 100_000);
      assert.equal(again!.id, d!.id);
      assert.equal(again!.cycleStart, 1);
      assert.equal(again!.cycleLimit, 1);
      await store.recordResults([result(again!, 'succeeded')], T0 + 1001);
      const done = (await store.getDelivery('acme', d!.id))!.delivery;
      assert.equal(done.status, 'succeeded');

      assert.equal(await store.retryDelivery('acme', d!.id, T0 + 2000), true);
      const [third] = await store.claimDue(T0 + 2000, 10, T0 + 100_000);
      assert.deepEqual([third!.cycleStart, third!.cycleLimit, third!.attempts], [2, 1, 2]);

      assert.equal(await store.retryDelivery('acme', 'dlv_missing', T0), false);
      assert.equal(await store.retryDelivery('other', d!.id, T0), false);
    });

    test('a retry asked for while an attempt is in flight is made after it, whatever its outcome', async (store) => {
      await setup(store);
      for (const outcome of ['succeeded', 'failed', 'pending'] as const) {
        const t = T0 + (outcome === 'succeeded' ? 0 : outcome === 'failed' ? 1 : 2) * 100_000;
        const { event } = await publishOne(store, 'acme', input({ id: newId('evt', t) }), t);
        const [d] = await store.claimDue(t, 10, t + 60_000);
        assert.equal(d!.eventId, event.id);
        assert.equal(await store.retryDelivery('acme', d!.id, t + 10), true);
        assert.deepEqual(await store.claimDue(t + 20, 10, t + 60_000), [], 'not claimed again while its attempt is in flight');

        // The attempt in flight ends: it is recorded, and the retry is due at once after it.
        await store.recordResults([result(d!, outcome, {}, t + 30)], t + 40);
        const after = await store.getDelivery('acme', d!.id);
        assert.equal(after!.delivery.status, 'pending', outcome);
        assert.equal(after!.delivery.nextAttemptAt, t + 40);
        assert.equal(after!.delivery.attempts, 1);
        assert.deepEqual(after!.attempts.map((a) => a.number), [1], 'the attempt in flight is recorded');
        const [retry] = await store.claimDue(t + 40, 10, t + 60_000);
        assert.equal(retry!.id, d!.id);
        assert.deepEqual([retry!.attempts, retry!.cycleStart, retry!.cycleLimit], [1, 1, 1], 'a cycle of one attempt after the one in flight');

        // The retry itself is one attempt: a failure ends it, and nothing more is due.
        await store.recordResults([result(retry!, 'failed', { nextAttemptAt: null }, t + 50)], t + 60);
        const done = (await store.getDelivery('acme', d!.id))!;
        assert.equal(done.delivery.status, 'failed');
        assert.deepEqual(done.attempts.map((a) => a.number), [1, 2]);
        assert.deepEqual(await store.claimDue(t + 90_000, 10, t + 150_000), []);
      }
    });

    test('a retry asked for during a claim that is given back, or whose worker died, is made by the next claim', async (store) => {
      await setup(store);
      await publishOne(store, 'acme', input());
      // Given back (its webhook's circuit was open, say): due at once, not when the claim said.
      const [d] = await store.claimDue(T0, 10, T0 + 60_000);
      assert.equal(await store.retryDelivery('acme', d!.id, T0 + 10), true);
      await store.releaseClaims([{ seq: d!.seq, claim: d!.claim, at: T0 + 30_000 }], T0 + 20);
      const [again] = await store.claimDue(T0 + 20, 10, T0 + 60_000);
      assert.deepEqual([again!.id, again!.cycleStart, again!.cycleLimit], [d!.id, 0, 1]);

      // Its worker died: once the lease ends, the next claim is the retry (and only one).
      assert.equal(await store.retryDelivery('acme', d!.id, T0 + 30), true);
      assert.deepEqual(await store.claimDue(T0 + 1000, 10, T0 + 120_000), []);
      const [reclaimed] = await store.claimDue(T0 + 60_000, 10, T0 + 120_000);
      assert.equal(reclaimed!.id, d!.id);
      await store.recordResults([result(again!, 'succeeded')], T0 + 60_001);
      assert.equal((await store.getDelivery('acme', d!.id))!.delivery.attempts, 0, 'the stale claim is not recorded');
      await store.recordResults([result(reclaimed!, 'succeeded', {}, T0 + 60_010)], T0 + 60_020);
      const done = (await store.getDelivery('acme', d!.id))!.delivery;
      assert.deepEqual([done.status, done.attempts, done.nextAttemptAt], ['succeeded', 1, null]);

      // A retry of a delivery not in flight is due at once, as it always was.
      assert.equal(await store.retryDelivery('acme', d!.id, T0 + 70_000), true);
      assert.equal((await store.getDelivery('acme', d!.id))!.delivery.nextAttemptAt, T0 + 70_000);
    });

    test("recover requeues a webhook's failed deliveries created in [since, until)", async (store) => {
      const { hook } = await setup(store);
      const other = webhook('acme');
      await store.createWebhook(other);
      for (const at of [T0, T0 + 100, T0 + 200, T0 + 300]) await publishOne(store, 'acme', input(), at);
      const claimed = await store.claimDue(T0 + 1000, 100, T0 + 60_000);
      assert.equal(claimed.length, 8);
      // All fail but the one of `hook` created at T0 + 300, which succeeds.
      const created = new Map((await store.listDeliveries('acme', {}, { limit: 100 })).rows.map((d) => [d.id, d.createdAt]));
      await store.recordResults(
        claimed.map((c) => result(c, c.webhook.id === hook.id && created.get(c.id) === T0 + 300 ? 'succeeded' : 'failed')),
        T0 + 1001,
      );
      assert.equal(await store.recoverDeliveries('acme', hook.id, T0 + 100, T0 + 300, T0 + 2000), 2);
      const pending = (await store.listDeliveries('acme', { status: 'pending' }, { limit: 100 })).rows;
      assert.deepEqual(pending.map((d) => [d.webhookId, d.createdAt, d.nextAttemptAt]).sort(), [
        [hook.id, T0 + 100, T0 + 2000],
        [hook.id, T0 + 200, T0 + 2000],
      ]);
      const again = await store.claimDue(T0 + 2000, 10, T0 + 100_000);
      assert.equal(again.length, 2);
      for (const c of again) assert.deepEqual([c.cycleStart, c.cycleLimit, c.attempts], [1, null, 1]);
      assert.equal(await store.recoverDeliveries('acme', hook.id, T0 + 300, T0 + 400, T0 + 3000), 0, 'a succeeded one stays');
      assert.equal(await store.recoverDeliveries('other', other.id, 0, T0 + 1000, T0 + 3000), 0);
      assert.equal(await store.recoverDeliveries('acme', other.id, 0, T0 + 1000, T0 + 3000), 4);
    });

    test('a test delivery is stored already claimed, for one attempt', async (store) => {
      const { hook } = await setup(store);
      const body = JSON.stringify({ hello: 'world', business_name: 'Shop acme', business_uri: null });
      const event: EventRecord = { id: 'evt_test', workspaceId: 'acme', topic: TOPIC, body, addedFields: ['business_name'], createdAt: T0, deliveries: 1 };
      const claimed = await store.createTestDelivery('acme', hook.id, event, 'dlv_test', T0 + 60_000);
      assert.equal(claimed.id, 'dlv_test');
      assert.equal(claimed.claim, 1);
      assert.equal(claimed.attempts, 0);
      assert.equal(claimed.cycleStart, 0);
      assert.equal(claimed.cycleLimit, 1);
      assert.equal(claimed.eventId, 'evt_test');
      assert.equal(claimed.body, body);
      assert.equal(claimed.webhook.id, hook.id);
      assert.equal(claimed.webhook.url, hook.url);
      assert.deepEqual(await store.getEvent('acme', 'evt_test'), { ...event, traceparent: null });
      assert.equal(claimed.traceparent, null);
      assert.deepEqual(await store.claimDue(T0 + 1000, 10, T0 + 100_000), [], 'leased to the caller');
      await store.recordResults([result(claimed, 'succeeded')], T0 + 20);
      const got = await store.getDelivery('acme', 'dlv_test');
      assert.equal(got!.delivery.status, 'succeeded');
      assert.equal(got!.attempts.length, 1);
    });
  });

  describe('the queue', () => {
    test('claimDue hands a batch out earliest due first, whatever order the deliveries were queued in', async (store) => {
      await setup(store);
      const times = [T0 + 300, T0 + 100, T0 + 400, T0 + 200];
      for (const t of times) await publishOne(store, 'acme', input({ data: { t } }), t);
      const batch = await store.claimDue(T0 + 1000, 10, T0 + 60_000);
      assert.deepEqual(batch.map((c) => JSON.parse(c.body).t), [T0 + 100, T0 + 200, T0 + 300, T0 + 400]);
    });

    test('claimDue takes due deliveries only, earliest first, up to the limit, under a lease', async (store) => {
      const { hook } = await setup(store);
      await store.updateWebhook('acme', hook.id, { prefix: 'p_', headers: { 'x-extra': '1' } }, T0 + 1);
      const times = [T0 + 30, T0 + 10, T0 + 20, T0 + 5000];
      for (const t of times) await publishOne(store, 'acme', input({ data: { t } }), t);
      assert.equal(await store.nextDueAt(), T0 + 10);
      assert.deepEqual(await store.queueStats(T0 + 25), { pending: 4, oldestDueAt: T0 + 10 });
      assert.deepEqual(await store.queueStats(T0), { pending: 4, oldestDueAt: null });

      assert.deepEqual(await store.claimDue(T0 + 5, 10, T0 + 60_000), [], 'nothing due yet');
      const first = await store.claimDue(T0 + 100, 2, T0 + 60_000);
      assert.deepEqual(first.map((c) => JSON.parse(c.body).t), [T0 + 10, T0 + 20]);
      const c = first[0]!;
      assert.equal(c.claim, 1);
      assert.equal(c.attempts, 0);
      assert.equal(c.workspaceId, 'acme');
      assert.equal(c.topic, TOPIC);
      assert.deepEqual(
        { ...c.webhook, version: 0 },
        {
          id: hook.id, url: hook.url, secret: hook.secret, prefix: 'p_', headers: { 'x-extra': '1' }, enabled: true, version: 0, rateLimit: null,
          previousSecrets: [], openUntil: null, signing: 'hmac', signingKeys: [], ordering: 'none', paused: false,
        },
      );
      assert.equal(c.webhook.version, (await store.getWebhook('acme', hook.id))!.updatedAt);
      const stored = (await store.getDelivery('acme', c.id))!.delivery;
      assert.equal(stored.nextAttemptAt, T0 + 60_000, 'in flight, it is due again when the lease ends');
      assert.equal(stored.status, 'pending');

      const second = await store.claimDue(T0 + 100, 10, T0 + 60_000);
      assert.deepEqual(second.map((d) => JSON.parse(d.body).t), [T0 + 30]);
      assert.equal(await store.nextDueAt(), T0 + 5000);
      assert.deepEqual(await store.queueStats(T0 + 100), { pending: 4, oldestDueAt: null });

      // When a lease runs out the delivery comes back, with a new claim number.
      const back = await store.claimDue(T0 + 60_000, 10, T0 + 120_000);
      assert.equal(back.length, 4);
      assert.equal(back.find((d) => d.id === c.id)!.claim, 2);
      assert.equal(back.find((d) => JSON.parse(d.body).t === T0 + 5000)!.claim, 1);
    });

    test('parallel claimers never take the same delivery', async (store) => {
      await setup(store);
      const inputs = Array.from({ length: 500 }, (_, i) => input({ data: { i } }));
      const [out] = await store.publish([{ workspaceId: 'acme', inputs }], T0);
      assert.equal(out!.length, 500);
      const takers = Array.from({ length: 4 }, async () => {
        const mine: ClaimedDelivery[] = [];
        for (;;) {
          const got = await store.claimDue(T0 + 1, 25, T0 + 60_000);
          if (got.length === 0) return mine;
          mine.push(...got);
        }
      });
      const results = await Promise.all(takers);
      const ids = results.flat().map((d) => d.id);
      assert.equal(ids.length, 500, 'every delivery was claimed once');
      assert.equal(new Set(ids).size, 500, 'no delivery was claimed twice');
      assert.ok(results.flat().every((d) => d.claim === 1));
    }, { timeout: 60_000 });

    test('recordResults: attempts, next state, and stale claims ignored', async (store) => {
      await setup(store);
      for (let i = 0; i < 4; i++) await publishOne(store, 'acme', input({ data: { i } }), T0 + i);
      const [a, b, c, d] = await store.claimDue(T0 + 10, 10, T0 + 60_000);
      const retry = result(a!, 'pending', { nextAttemptAt: T0 + 5000 });
      const ok = result(b!, 'succeeded', { url: 'https://moved.example/in' });
      const stale = result(c!, 'succeeded', { claim: c!.claim - 1 });
      const closed: AttemptResult = { seq: d!.seq, claim: d!.claim, webhookId: d!.webhook.id, status: 'failed', nextAttemptAt: null, url: d!.webhook.url, attempt: null };
      await store.recordResults([retry, ok, stale, closed], T0 + 50);

      const got = async (id: string) => (await store.getDelivery('acme', id))!;
      const ra = await got(a!.id);
      assert.deepEqual(
        [ra.delivery.status, ra.delivery.attempts, ra.delivery.nextAttemptAt, ra.delivery.lastStatusCode, ra.delivery.lastError, ra.delivery.updatedAt],
        ['pending', 1, T0 + 5000, 500, 'HTTP 500', T0 + 50],
      );
      assert.deepEqual(ra.attempts, [recorded(retry)]);
      const rb = await got(b!.id);
      assert.deepEqual([rb.delivery.status, rb.delivery.attempts, rb.delivery.nextAttemptAt, rb.delivery.url], ['succeeded', 1, null, 'https://moved.example/in']);
      const rc = await got(c!.id);
      assert.deepEqual([rc.delivery.status, rc.delivery.attempts, rc.attempts.length], ['pending', 0, 0], 'the stale claim changed nothing');
      assert.equal(rc.delivery.nextAttemptAt, T0 + 60_000);
      const rd = await got(d!.id);
      assert.deepEqual(
        [rd.delivery.status, rd.delivery.attempts, rd.delivery.lastError, rd.delivery.lastStatusCode, rd.attempts.length],
        ['failed', 0, 'webhook disabled', null, 0],
      );
      assert.equal(await store.nextDueAt(), T0 + 5000);

      // The retry: claimed again, it keeps the last status code when the next attempt has none.
      const [again] = await store.claimDue(T0 + 5000, 10, T0 + 70_000);
      assert.equal(again!.id, a!.id);
      assert.equal(again!.attempts, 1);
      const timeout = result(again!, 'failed', {}, T0 + 5001);
      timeout.attempt = { ...timeout.attempt!, statusCode: null, error: 'timed out', responseBody: null };
      await store.recordResults([timeout], T0 + 5100);
      const final = await got(a!.id);
      assert.deepEqual([final.delivery.status, final.delivery.attempts, final.delivery.lastStatusCode, final.delivery.lastError], ['failed', 2, 500, 'timed out']);
      assert.deepEqual(final.attempts.map((x) => x.number), [1, 2]);
      await store.recordResults([], T0 + 6000);
    });

    test('recordResults keeps odd response bodies', async (store) => {
      await setup(store);
      await publishOne(store, 'acme', input());
      const [d] = await store.claimDue(T0, 1, T0 + 60_000);
      const r = result(d!, 'failed');
      r.attempt = { ...r.attempt!, responseBody: 'a\u0000b "quoted" \\ {json} é 😀', requestHeaders: { 'x-q': 'say "hi"', 'x-nul': 'a\u0000b' }, storedHeaders: undefined };
      await store.recordResults([r], T0 + 20);
      const [attempt] = (await store.getDelivery('acme', d!.id))!.attempts;
      assert.match(attempt!.responseBody!, /^a.b "quoted" \\ \{json\} é 😀$/u);
      assert.deepEqual(attempt!.requestHeaders, { 'x-q': 'say "hi"', 'x-nul': 'a\u0000b' });
    });

    test('releaseClaims makes claimed deliveries due again, for the current claim only', async (store) => {
      await setup(store);
      for (let i = 0; i < 3; i++) await publishOne(store, 'acme', input(), T0 + i);
      const [a, b, c] = await store.claimDue(T0 + 10, 10, T0 + 60_000);
      await store.recordResults([result(c!, 'succeeded')], T0 + 15);
      await store.releaseClaims([
        { seq: a!.seq, claim: a!.claim, at: T0 + 20 },
        { seq: b!.seq, claim: b!.claim - 1, at: T0 + 20 },
        { seq: c!.seq, claim: c!.claim, at: T0 + 20 },
      ], T0 + 16);
      await store.releaseClaims([], T0 + 16);
      const again = await store.claimDue(T0 + 20, 10, T0 + 90_000);
      assert.deepEqual(again.map((d) => [d.id, d.claim]), [[a!.id, 2]]);
      assert.equal((await store.getDelivery('acme', b!.id))!.delivery.nextAttemptAt, T0 + 60_000);
      assert.equal((await store.getDelivery('acme', c!.id))!.delivery.status, 'succeeded');
    });

    test('holdWebhooks holds back the due deliveries of a webhook: not others\', nor later ones, nor claimed ones, nor manual retries', async (store) => {
      const { hook } = await setup(store);
      const other = webhook('acme');
      await store.createWebhook(other);
      for (let i = 0; i < 3; i++) await publishOne(store, 'acme', input({ data: { i } }), T0 + i);
      const later = await publishOne(store, 'acme', input({ data: { i: 'later' } }), T0 + 5000);
      const all = await store.claimDue(T0 + 10, 10, T0 + 60_000);
      assert.equal(all.length, 6);
      const [retried, claimed, ...rest] = all.filter((d) => d.webhook.id === hook.id).concat(all.filter((d) => d.webhook.id !== hook.id));
      await store.recordResults([result(retried!, 'failed')], T0 + 15);
      await store.releaseClaims(rest.map((d) => ({ seq: d.seq, claim: d.claim, at: T0 + 10 })), T0 + 15);
      assert.ok(await store.retryDelivery('acme', retried!.id, T0 + 20));
      await store.holdWebhooks([{ webhookId: hook.id, until: T0 + 9000 }], T0 + 30);
      await store.holdWebhooks([], T0 + 30);
      const due = await store.claimDue(T0 + 100, 10, T0 + 90_000);
      assert.deepEqual(
        due.map((d) => d.id).sort(),
        [retried!.id, ...rest.filter((d) => d.webhook.id === other.id).map((d) => d.id)].sort(),
        "the other webhook's deliveries and the manual retry",
      );
      for (const d of rest.filter((x) => x.webhook.id === hook.id)) {
        assert.equal((await store.getDelivery('acme', d.id))!.delivery.nextAttemptAt, T0 + 9000);
      }
      assert.equal((await store.getDelivery('acme', claimed!.id))!.delivery.nextAttemptAt, T0 + 60_000, 'a claimed one keeps its lease');
      for (const d of await deliveriesOf(store, 'acme', later.event.id)) assert.equal(d.nextAttemptAt, T0 + 5000);
    });

    test('claimDue passing over a webhook finds the deliveries behind more than 10,000 of its own', async (store) => {
      // A window of the first due (DUE_LOOKAHEAD) full of a passed-over webhook's rows starved everything behind it.
      const { hook } = await setup(store);
      const { hook: healthy } = await setup(store, 'other');
      for (let batch = 0; batch < 11; batch++) {
        const inputs = Array.from({ length: 1000 }, (_, i) => input({ data: { i: batch * 1000 + i } }));
        await store.publish([{ workspaceId: 'acme', inputs }], T0);
      }
      const behind = await publishOne(store, 'other', input(), T0 + 1);
      const claimed = await store.claimDue(T0 + 10, 5, T0 + 60_000, [hook.id]);
      assert.deepEqual(claimed.map((d) => d.webhook.id), [healthy.id]);
      assert.equal(claimed[0]!.eventId, behind.event.id);
    });

    test('claimDue passing over a webhook finds the healthy deliveries of a long queue, earliest due first, across runs of deliveries due at the same time', async (store) => {
      // A long queue of a passed-over webhook's deliveries, most due at the same time, with
      // healthy deliveries inside such a run (at rows 2 x DUE_LOOKAHEAD - 1 and 2 x DUE_LOOKAHEAD,
      // which ends of SQLite's parts fall on: sqlite.test.ts) and after it.
      const { hook } = await setup(store);
      const { hook: healthy } = await setup(store, 'other');
      const publishMany = async (count: number, at: number) => {
        for (let done = 0; done < count; done += 1000) {
          const inputs = Array.from({ length: Math.min(1000, count - done) }, (_, i) => input({ data: { i: done + i } }));
          await store.publish([{ workspaceId: 'acme', inputs }], at);
        }
      };
      await publishMany(DUE_LOOKAHEAD + 2_500, T0);
      await publishMany(DUE_LOOKAHEAD - 2_500 - 1, T0 + 1);
      const last = await publishOne(store, 'other', input(), T0 + 1); // row 2 x DUE_LOOKAHEAD - 1
      const first = await publishOne(store, 'other', input(), T0 + 1); // row 2 x DUE_LOOKAHEAD
      await publishMany(1_500, T0 + 1);
      const after = await publishOne(store, 'other', input(), T0 + 2);
      await publishOne(store, 'other', input(), T0 + 50); // not due yet
      const claimed = await store.claimDue(T0 + 10, 5, T0 + 60_000, [hook.id]);
      assert.deepEqual(claimed.map((d) => [d.webhook.id, d.eventId]), [last, first, after].map((o) => [healthy.id, o.event.id]));
    });

    test('holdWebhooks with dueAfter holds back only what came due after it, each webhook until its own hold end', async (store) => {
      const { hook } = await setup(store);
      const other = webhook('acme');
      await store.createWebhook(other);
      const early = await publishOne(store, 'acme', input({ data: { i: 'early' } }), T0);
      const recent = await publishOne(store, 'acme', input({ data: { i: 'recent' } }), T0 + 2000);
      await store.holdWebhooks([{ webhookId: hook.id, until: T0 + 9000 }, { webhookId: other.id, until: T0 + 7000 }], T0 + 2500, T0 + 1000);
      const at = async (eventId: string) =>
        Object.fromEntries((await deliveriesOf(store, 'acme', eventId)).map((d) => [d.webhookId, d.nextAttemptAt]));
      assert.deepEqual(await at(early.event.id), { [hook.id]: T0, [other.id]: T0 }, 'due before dueAfter: left as it was');
      assert.deepEqual(await at(recent.event.id), { [hook.id]: T0 + 9000, [other.id]: T0 + 7000 });
    });

    test('claimDue passes over the webhooks it is told to skip; claimFirstDue takes only the earliest due delivery of each webhook', async (store) => {
      const { hook } = await setup(store);
      const held = webhook('acme');
      const probed = webhook('acme');
      await store.createWebhook(held);
      await store.createWebhook(probed);
      const first = await publishOne(store, 'acme', input({ data: { i: 0 } }), T0);
      for (let i = 1; i < 3; i++) await publishOne(store, 'acme', input({ data: { i } }), T0 + i);
      await publishOne(store, 'acme', input({ data: { i: 'later' } }), T0 + 5000);
      const of = (id: string, list: ClaimedDelivery[]) => list.filter((d) => d.webhook.id === id);

      const probes = await store.claimFirstDue(T0 + 10, [probed.id, 'wh_unknown'], T0 + 60_000);
      assert.equal(probes.length, 1, 'one delivery of the probed webhook, none of a webhook without any');
      assert.equal(probes[0]!.webhook.id, probed.id);
      assert.equal(probes[0]!.eventId, first.event.id, 'its earliest due one');
      assert.deepEqual(await store.claimFirstDue(T0 + 10, [], T0 + 60_000), []);

      const [retried] = (await deliveriesOf(store, 'acme', first.event.id)).filter((d) => d.webhookId === held.id);
      assert.ok(await store.retryDelivery('acme', retried!.id, T0 + 5));
      const claimed = await store.claimDue(T0 + 10, 10, T0 + 60_000, [held.id, probed.id]);
      assert.equal(of(hook.id, claimed).length, 3);
      assert.deepEqual(of(held.id, claimed).map((d) => d.id), [retried!.id], 'the skipped webhooks are passed over, but for a manual retry');
      assert.equal(of(probed.id, claimed).length, 0);
      const rest = await store.claimDue(T0 + 10, 10, T0 + 60_000);
      assert.equal(of(held.id, rest).length, 2, 'and stay due');
      assert.equal(of(probed.id, rest).length, 2, 'but for the probe');
      assert.equal(rest.length, 4);
      assert.deepEqual(await store.claimFirstDue(T0 + 10, [hook.id, held.id], T0 + 60_000), [], 'nothing due is left to probe');
    });

    test('nextDueAt and queueStats on an empty queue', async (store) => {
      assert.equal(await store.nextDueAt(), null);
      assert.deepEqual(await store.queueStats(T0), { pending: 0, oldestDueAt: null });
      assert.deepEqual(await store.claimDue(T0, 10, T0 + 1000), []);
    });
  });

  describe('rate limits', () => {
    // rate_limit 50: one send per 20 ms, and 5 (a tenth of a second's worth) at once.
    test('takeRateTokens grants a burst, then one send per interval; idle time does not pile up', async (store) => {
      assert.deepEqual(await store.takeRateTokens('wh_a', 50, 10, T0), { granted: 5, retryAt: T0 + 20 });
      assert.deepEqual(await store.takeRateTokens('wh_a', 50, 10, T0 + 19), { granted: 0, retryAt: T0 + 20 });
      assert.deepEqual(await store.takeRateTokens('wh_a', 50, 10, T0 + 20), { granted: 1, retryAt: T0 + 40 });
      assert.deepEqual(await store.takeRateTokens('wh_a', 50, 10, T0 + 70), { granted: 2, retryAt: T0 + 80 });
      assert.deepEqual(await store.takeRateTokens('wh_a', 50, 1, T0 + 80), { granted: 1, retryAt: T0 + 100 });
      // Another webhook has a rate of its own.
      assert.deepEqual(await store.takeRateTokens('wh_b', 50, 3, T0 + 80), { granted: 3, retryAt: T0 + 80 });
      // A minute idle: a burst again, not a minute's worth.
      assert.deepEqual(await store.takeRateTokens('wh_a', 50, 100, T0 + 60_000), { granted: 5, retryAt: T0 + 60_020 });
      // Asking for nothing takes nothing.
      assert.deepEqual(await store.takeRateTokens('wh_a', 50, 0, T0 + 60_020), { granted: 0, retryAt: T0 + 60_020 });
      assert.deepEqual(await store.takeRateTokens('wh_a', 50, 1, T0 + 60_020), { granted: 1, retryAt: T0 + 60_040 });
    });

    test('any second holds at most rate + burst sends, however the takers interleave', async (store) => {
      const rate = 7; // 142.857… ms apart: fractions must round alike in every adapter
      const grants: number[] = [];
      let seed = 42;
      const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
      for (let now = T0; now < T0 + 5000; now += 1 + Math.floor(random() * 60)) {
        const { granted, retryAt } = await store.takeRateTokens('wh_r', rate, 1 + Math.floor(random() * 4), now);
        for (let i = 0; i < granted; i++) grants.push(now);
        assert.ok(retryAt >= now);
      }
      for (const start of grants) {
        const inWindow = grants.filter((t) => t >= start && t < start + 1000).length;
        assert.ok(inWindow <= rate + 1, `${inWindow} sends within one second`);
      }
      // Takers that come late lose their slot (a burst of one cannot catch up), so a little less than 5 × rate.
      assert.ok(grants.length >= rate * 5 * 0.8 && grants.length <= rate * 5 + 1, `${grants.length} sends in 5 s`);
    });

    test('concurrent takers share one burst', async (store) => {
      const grants = await Promise.all(Array.from({ length: 12 }, () => store.takeRateTokens('wh_c', 50, 2, T0)));
      assert.equal(grants.reduce((n, g) => n + g.granted, 0), 5);
      assert.ok(grants.every((g) => (g.granted < 2 ? g.retryAt === T0 + 20 : g.retryAt === T0)), JSON.stringify(grants));
    });

    test("deleting a webhook forgets its rate", async (store) => {
      const { hook } = await setup(store);
      assert.equal((await store.takeRateTokens(hook.id, 1, 5, T0)).granted, 1);
      assert.equal((await store.takeRateTokens(hook.id, 1, 5, T0 + 10)).granted, 0);
      await store.deleteWebhook('acme', hook.id, T0 + 20);
      assert.equal((await store.takeRateTokens(hook.id, 1, 5, T0 + 30)).granted, 1, 'a fresh start');
    });
  });

  describe('webhook health', () => {
    const policy = { threshold: 2, cooldownMs: 1000, maxCooldownMs: 10_000, disableAfterMs: 5000 };

    test('failures in a row open the circuit and hold back its deliveries; a success closes it', async (store) => {
      const { hook } = await setup(store);
      const other = webhook('acme', { topic: OTHER_TOPIC });
      await store.createWebhook(other);
      for (let i = 0; i < 3; i++) await publishOne(store, 'acme', input(), T0 + i);
      await publishOne(store, 'acme', input({ topic: OTHER_TOPIC }), T0 + 3);
      const [a, b] = await store.claimDue(T0 + 10, 2, T0 + 60_000);
      assert.deepEqual(await store.recordResults([result(a!, 'pending')], T0 + 20, policy), [], 'one failure is not enough');
      const effects = await store.recordResults([result(b!, 'pending')], T0 + 30, policy);
      assert.deepEqual(effects, [{ kind: 'circuit-opened', webhookId: hook.id, until: T0 + 1030 }]);

      // The unclaimed delivery of that webhook now waits for the circuit; the other webhook's does not.
      const due = await store.claimDue(T0 + 1000, 10, T0 + 90_000);
      assert.deepEqual(due.map((d) => d.webhook.id), [other.id]);
      const [probe] = await store.claimDue(T0 + 1030, 1, T0 + 90_000);
      assert.equal(probe!.webhook.id, hook.id);
      assert.equal(probe!.webhook.openUntil, T0 + 1030);
      assert.equal(due[0]!.webhook.openUntil, null);

      assert.deepEqual(await store.recordResults([result(probe!, 'succeeded')], T0 + 1040, policy), []);
      await store.releaseClaims([{ seq: a!.seq, claim: a!.claim, at: T0 + 1050 }], T0 + 1045);
      const [after] = await store.claimDue(T0 + 60_010, 1, T0 + 120_000);
      assert.equal(after!.webhook.openUntil, null, 'the success closed the circuit');
    });

    test('a webhook failing for too long is disabled; switching it back on starts afresh', async (store) => {
      const { hook } = await setup(store);
      for (let i = 0; i < 3; i++) await publishOne(store, 'acme', input(), T0 + i);
      const [a, b, late] = await store.claimDue(T0 + 10, 3, T0 + 60_000);
      await store.recordResults([result(a!, 'pending')], T0 + 100, policy);
      const effects = await store.recordResults([result(b!, 'failed')], T0 + 5100, policy);
      assert.equal(effects.length, 2);
      const disabled = effects.find((e) => e.kind === 'disabled');
      assert.ok(disabled && disabled.kind === 'disabled' && disabled.webhookId === hook.id && disabled.reason.length > 0);
      const off = (await store.getWebhook('acme', hook.id))!;
      assert.equal(off.enabled, false);
      assert.equal(off.disabledReason, disabled.reason);
      assert.equal(off.updatedAt, T0 + 5100);
      // An attempt that was in flight fails too: the webhook is not disabled (nor announced) twice.
      const again = await store.recordResults([result(late!, 'failed')], T0 + 5200, policy);
      assert.deepEqual(again.filter((e) => e.kind === 'disabled'), []);
      assert.equal((await store.getWebhook('acme', hook.id))!.updatedAt, T0 + 5100);

      await store.updateWebhook('acme', hook.id, { enabled: true, disabledReason: null }, T0 + 6000);
      await publishOne(store, 'acme', input(), T0 + 6001);
      const [c] = (await store.claimDue(T0 + 6001, 10, T0 + 90_000)).filter((d) => d.id !== a!.id);
      assert.equal(c!.webhook.openUntil, null, 'health was reset');
      assert.deepEqual(await store.recordResults([result(c!, 'pending')], T0 + 6100, policy), [], 'one failure again is not enough');
      assert.equal((await store.getWebhook('acme', hook.id))!.enabled, true);
    });

    test('stale results and results without an attempt say nothing of health', async (store) => {
      const { hook } = await setup(store);
      for (let i = 0; i < 3; i++) await publishOne(store, 'acme', input(), T0 + i);
      const [a, b, c] = await store.claimDue(T0 + 10, 3, T0 + 60_000);
      const closed: AttemptResult = { seq: b!.seq, claim: b!.claim, webhookId: hook.id, status: 'failed', nextAttemptAt: null, url: hook.url, attempt: null };
      const effects = await store.recordResults([result(a!, 'pending', { claim: a!.claim - 1 }), closed, result(c!, 'pending')], T0 + 20, policy);
      assert.deepEqual(effects, [], 'only one real failure counted');
    });
  });

  describe('purge', () => {
    test('deletes old events whose deliveries are all finished, oldest first, up to the limit', async (store) => {
      await setup(store);
      const e: string[] = [];
      for (let i = 0; i < 4; i++) e.push((await publishOne(store, 'acme', input(), T0 + i)).event.id);
      const claimed = await store.claimDue(T0 + 10, 10, T0 + 60_000);
      // e0, e1 and e2 finished (e2 has attempts), e3 still pending.
      await store.recordResults(claimed.filter((d) => d.eventId !== e[3]).map((d) => result(d, d.eventId === e[0] ? 'failed' : 'succeeded')), T0 + 20);
      const e3Delivery = claimed.find((d) => d.eventId === e[3])!;

      assert.equal(await store.purge(T0 + 3, 2), 2);
      assert.equal(await store.getEvent('acme', e[0]!), null);
      assert.equal(await store.getEvent('acme', e[1]!), null);
      assert.ok(await store.getEvent('acme', e[2]!));
      assert.equal(await store.purge(T0 + 2, 10), 0, 'created_at < before');
      assert.equal(await store.purge(T0 + 100, 10), 1, 'e2 goes; e3 has a pending delivery');
      assert.deepEqual((await store.listEvents('acme', undefined, { limit: 10 })).rows.map((x) => x.id), [e[3]]);
      assert.deepEqual((await store.listDeliveries('acme', {}, { limit: 10 })).rows.map((d) => d.id), [e3Delivery.id]);
      await store.recordResults([result(e3Delivery, 'succeeded')], T0 + 30);
      assert.equal(await store.purge(T0 + 100, 10), 1);
      assert.deepEqual((await store.listDeliveries('acme', {}, { limit: 10 })).rows, []);
      assert.equal(await store.purge(T0 + 100, 10), 0);
    });
  });

  describe('deleting a workspace', () => {
    test('removes its keys, portal sessions, webhooks, events, deliveries and attempts, and nothing else', async (store) => {
      const { hook } = await setup(store, 'acme');
      await setup(store, 'keep');
      await store.createKey({ id: 'key_a', workspaceId: 'acme', name: null, createdAt: T0 }, 'hash-a');
      await store.createPortalSession({ id: 'ps_a', workspaceId: 'acme', access: 'manage', theme: {}, expiresAt: T0 + DAY, createdAt: T0, usedAt: null, revokedAt: null }, 'link-a');
      await store.openPortalLink('link-a', 'cred-a', T0);
      await store.createPortalSession({ id: 'ps_k', workspaceId: 'keep', access: 'view', theme: {}, expiresAt: T0 + DAY, createdAt: T0, usedAt: null, revokedAt: null }, 'link-k');
      const e = await publishOne(store, 'acme', input());
      await publishOne(store, 'acme', input(), T0 + 1);
      await publishOne(store, 'keep', input());
      const claimed = await store.claimDue(T0 + 5, 10, T0 + 60_000);
      const mine = claimed.find((c) => c.workspaceId === 'acme' && c.eventId === e.event.id)!;
      await store.recordResults([result(mine, 'succeeded')], T0 + 10);

      assert.equal(await store.deleteWorkspace('acme'), true);
      assert.equal(await store.getWorkspace('acme'), null);
      assert.equal(await store.findKeyByHash('hash-a'), null);
      assert.equal(await store.findPortalSession('cred-a'), null);
      assert.deepEqual((await store.listPortalSessions('acme', { limit: 10 })).rows, []);
      assert.equal((await store.listPortalSessions('keep', { limit: 10 })).rows.length, 1, "the other workspace's session stays");
      assert.equal(await store.getWebhook('acme', hook.id), null);
      assert.equal(await store.getEvent('acme', e.event.id), null);
      assert.equal(await store.getDelivery('acme', mine.id), null);
      assert.deepEqual((await store.listDeliveries('acme', {}, { limit: 10 })).rows, []);
      assert.deepEqual((await store.listEvents('acme', undefined, { limit: 10 })).rows, []);
      assert.equal((await store.queueStats(T0 + 100_000)).pending, 1, "the other workspace's delivery stays");
      const left = await store.claimDue(T0 + 100_000, 10, T0 + 200_000);
      assert.deepEqual(left.map((d) => d.workspaceId), ['keep']);
      // The id is free again, and the new workspace starts empty.
      await store.createWorkspace(workspace('acme'));
      assert.deepEqual((await store.listWebhooks('acme', undefined, { limit: 10 })).rows, []);
      assert.equal((await publishOne(store, 'acme', input({ id: e.event.id, clientId: true }), T0 + 2)).created, true);
    });
  });

  describe('types', () => {
    test('numbers come back as numbers and flags as booleans', async (store) => {
      await setup(store);
      await store.createKey({ id: 'key_t', workspaceId: 'acme', name: 'n', createdAt: T0 }, 'hash-t');
      const out = await publishOne(store, 'acme', input());
      const [c] = await store.claimDue(T0, 1, T0 + 60_000);
      await store.recordResults([result(c!, 'pending')], T0 + 10);
      const numbers: [string, unknown][] = [
        ['claimed.seq', c!.seq], ['claimed.claim', c!.claim], ['claimed.attempts', c!.attempts], ['claimed.cycleStart', c!.cycleStart],
        ['claimed.webhook.version', c!.webhook.version], ['event.createdAt', (await store.getEvent('acme', out.event.id))!.createdAt],
        ['event.deliveries', (await store.getEvent('acme', out.event.id))!.deliveries],
        ['key.createdAt', (await store.findKeyByHash('hash-t'))!.createdAt],
        ['nextDueAt', await store.nextDueAt()], ['queueStats.pending', (await store.queueStats(T0)).pending],
      ];
      const got = (await store.getDelivery('acme', c!.id))!;
      for (const k of ['attempts', 'nextAttemptAt', 'lastStatusCode', 'createdAt', 'updatedAt'] as const) numbers.push([`delivery.${k}`, got.delivery[k]]);
      for (const k of ['number', 'startedAt', 'durationMs', 'statusCode'] as const) numbers.push([`attempt.${k}`, got.attempts[0]![k]]);
      for (const [name, value] of numbers) assert.equal(typeof value, 'number', `${name} is ${typeof value}`);
      const ws = (await store.getWorkspace('acme'))!;
      assert.equal(ws.webhooksEnabled, true);
      assert.equal(typeof c!.webhook.enabled, 'boolean');
    });
  });

  copyCases(factory);
  orderingCases(factory);
}
