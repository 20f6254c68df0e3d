// Workspace isolation: every route × every kind of caller — the admin key, the workspace's own
// key, another workspace's key, a revoked key, no key — gets the expected status: admin a
// success; own key a success except on admin-only routes (403); another workspace's key 404
// on the workspace's routes (403 on admin-only ones); revoked or missing key 401. And a
// refused call changes nothing.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createKey, createWebhook, createWorkspace, listDeliveries, publish, startHerald, waitUntil, type TestHerald } from '../helpers/herald.js';
import { Receiver } from '../helpers/receiver.js';

type Who = 'admin' | 'own' | 'other' | 'revoked' | 'none';
const WHO: Who[] = ['admin', 'own', 'other', 'revoked', 'none'];

interface Fixture {
  ws: string;
  own: string;
  revoked: string;
  webhook: string;
  event: string;
  delivery: string;
}

interface Route {
  /** "METHOD /api/v1/…" with {placeholders}, as in the OpenAPI document. */
  route: string;
  path: (f: Fixture) => string | Promise<string>;
  /** The body, or what makes it for each call (a new portal link to open). */
  body?: unknown | ((f: Fixture) => Promise<unknown>);
  /** Success status(es) for the admin key (and the own key, unless adminOnly). */
  ok: number | number[];
  adminOnly?: boolean;
  /** Not under /workspaces/{ws}: another workspace's key succeeds too. */
  global?: boolean;
  /** Needs no key (opening a portal link): every caller gets `ok`. */
  open?: boolean;
  /** Destroys what it names: each caller gets a fresh fixture. */
  fresh?: boolean;
  /** After a refused call: the thing is still there (checked with the admin key). */
  stillThere?: (f: Fixture) => string;
}

let h: TestHerald;
let receiver: Receiver;
let shared: Fixture;
let otherKey: string;

async function fixture(): Promise<Fixture> {
  const ws = (await createWorkspace(h, { name: 'Isolation Ink' })).id as string;
  const own = (await createKey(h, ws, 'own')).key;
  const revokedKey = await createKey(h, ws, 'revoked');
  assert.equal((await h.api('DELETE', `/api/v1/workspaces/${ws}/keys/${revokedKey.id}`)).status, 204);
  const webhook = (await createWebhook(h, ws, { topic: 'order_create', url: receiver.at('/iso') })).id as string;
  const event = (await publish(h, ws, 'order_create', { order_id: 'I-1' })).id as string;
  const [delivery] = await waitUntil(async () => {
    const list = await listDeliveries(h, ws, { event_id: event });
    return list.length > 0 && list[0].status !== 'pending' ? list : null;
  });
  return { ws, own, revoked: revokedKey.key, webhook, event, delivery: delivery.id };
}

const W = (f: Fixture) => `/api/v1/workspaces/${f.ws}`;

const ROUTES: Route[] = [
  { route: 'POST /api/v1/workspaces', path: () => '/api/v1/workspaces', body: { name: 'Made Here' }, ok: 201, adminOnly: true, global: true },
  { route: 'GET /api/v1/workspaces', path: () => '/api/v1/workspaces', ok: 200, adminOnly: true, global: true },
  { route: 'GET /api/v1/workspaces/{ws}', path: W, ok: 200 },
  { route: 'PATCH /api/v1/workspaces/{ws}', path: W, body: { name: 'Isolation Ink & Co' }, ok: 200 },
  { route: 'DELETE /api/v1/workspaces/{ws}', path: W, ok: 204, adminOnly: true, fresh: true, stillThere: W },
  { route: 'POST /api/v1/workspaces/{ws}/keys', path: (f) => `${W(f)}/keys`, body: { name: 'k' }, ok: 201 },
  { route: 'GET /api/v1/workspaces/{ws}/keys', path: (f) => `${W(f)}/keys`, ok: 200 },
  {
    route: 'DELETE /api/v1/workspaces/{ws}/keys/{key}', path: async (f) => `${W(f)}/keys/${(await createKey(h, f.ws, 'doomed')).id}`, ok: 204, fresh: true,
  },
  { route: 'GET /api/v1/topics', path: () => '/api/v1/topics', ok: 200, global: true },
  { route: 'POST /api/v1/topics', path: () => '/api/v1/topics', body: { name: 'isolation.custom', label: 'Custom' }, ok: [200, 201], adminOnly: true, global: true },
  { route: 'GET /api/v1/topics/{name}', path: () => '/api/v1/topics/order_create', ok: 200, global: true },
  { route: 'PATCH /api/v1/topics/{name}', path: () => '/api/v1/topics/lead_update', body: { description: 'isolation' }, ok: 200, adminOnly: true, global: true },
  { route: 'POST /api/v1/workspaces/{ws}/webhooks', path: (f) => `${W(f)}/webhooks`, body: { topic: 'order_update', url: 'http://127.0.0.1:9/new' }, ok: 201 },
  { route: 'GET /api/v1/workspaces/{ws}/webhooks', path: (f) => `${W(f)}/webhooks`, ok: 200 },
  { route: 'GET /api/v1/workspaces/{ws}/webhooks/{id}', path: (f) => `${W(f)}/webhooks/${f.webhook}`, ok: 200 },
  { route: 'GET /api/v1/workspaces/{ws}/webhooks/{id}/secret', path: (f) => `${W(f)}/webhooks/${f.webhook}/secret`, ok: 200 },
  {
    route: 'GET /api/v1/workspaces/{ws}/webhooks/{id}/public-key',
    path: async (f) => `${W(f)}/webhooks/${(await createWebhook(h, f.ws, { topic: 'order_update', url: receiver.at('/iso'), signing: 'ed25519' })).id}/public-key`,
    ok: 200,
  },
  { route: 'PATCH /api/v1/workspaces/{ws}/webhooks/{id}', path: (f) => `${W(f)}/webhooks/${f.webhook}`, body: { description: 'changed' }, ok: 200 },
  {
    route: 'DELETE /api/v1/workspaces/{ws}/webhooks/{id}', path: (f) => `${W(f)}/webhooks/${f.webhook}`, ok: 204, fresh: true,
    stillThere: (f) => `${W(f)}/webhooks/${f.webhook}`,
  },
  { route: 'POST /api/v1/workspaces/{ws}/webhooks/{id}/test', path: (f) => `${W(f)}/webhooks/${f.webhook}/test`, body: {}, ok: 200 },
  { route: 'POST /api/v1/workspaces/{ws}/webhooks/{id}/secret/rotate', path: (f) => `${W(f)}/webhooks/${f.webhook}/secret/rotate`, body: { grace_seconds: 60 }, ok: 200 },
  { route: 'POST /api/v1/workspaces/{ws}/webhooks/{id}/recover', path: (f) => `${W(f)}/webhooks/${f.webhook}/recover`, body: { since: '2020-01-01T00:00:00Z' }, ok: 202 },
  { route: 'POST /api/v1/workspaces/{ws}/events', path: (f) => `${W(f)}/events`, body: { topic: 'order_create', data: { order_id: 'I-2' } }, ok: 202 },
  { route: 'POST /api/v1/workspaces/{ws}/events/batch', path: (f) => `${W(f)}/events/batch`, body: { events: [{ topic: 'order_create', data: { order_id: 'I-3' } }] }, ok: 202 },
  { route: 'GET /api/v1/workspaces/{ws}/events', path: (f) => `${W(f)}/events`, ok: 200 },
  { route: 'GET /api/v1/workspaces/{ws}/events/{id}', path: (f) => `${W(f)}/events/${f.event}`, ok: 200 },
  { route: 'POST /api/v1/workspaces/{ws}/events/replay', path: (f) => `${W(f)}/events/replay`, body: { since: '2020-01-01T00:00:00Z' }, ok: 202 },
  { route: 'POST /api/v1/workspaces/{ws}/events/{id}/replay', path: (f) => `${W(f)}/events/${f.event}/replay`, ok: 202 },
  { route: 'GET /api/v1/workspaces/{ws}/deliveries', path: (f) => `${W(f)}/deliveries`, ok: 200 },
  { route: 'GET /api/v1/workspaces/{ws}/deliveries/{id}', path: (f) => `${W(f)}/deliveries/${f.delivery}`, ok: 200 },
  { route: 'POST /api/v1/workspaces/{ws}/deliveries/retry', path: (f) => `${W(f)}/deliveries/retry`, body: { since: '2020-01-01T00:00:00Z' }, ok: 202 },
  { route: 'POST /api/v1/workspaces/{ws}/deliveries/{id}/retry', path: (f) => `${W(f)}/deliveries/${f.delivery}/retry`, ok: 202 },
  { route: 'POST /api/v1/filters/test', path: () => '/api/v1/filters/test', body: { filter: { amount: { $gte: 1 } }, data: { amount: 2 } }, ok: 200, global: true },
  { route: 'GET /api/v1/me', path: () => '/api/v1/me', ok: 200, global: true },
  { route: 'POST /api/v1/workspaces/{ws}/portal-sessions', path: (f) => `${W(f)}/portal-sessions`, body: {}, ok: 201, adminOnly: true },
  { route: 'GET /api/v1/workspaces/{ws}/portal-sessions', path: (f) => `${W(f)}/portal-sessions`, ok: 200, adminOnly: true },
  { route: 'DELETE /api/v1/workspaces/{ws}/portal-sessions', path: (f) => `${W(f)}/portal-sessions`, ok: 204, adminOnly: true },
  {
    route: 'DELETE /api/v1/workspaces/{ws}/portal-sessions/{session}', ok: 204, adminOnly: true,
    path: async (f) => `${W(f)}/portal-sessions/${(await h.api('POST', `${W(f)}/portal-sessions`, {})).body.id}`,
  },
  {
    route: 'POST /api/v1/portal/exchange', path: () => '/api/v1/portal/exchange', ok: 200, open: true,
    body: async (f: Fixture) => ({ token: new URL((await h.api('POST', `${W(f)}/portal-sessions`, {})).body.url).hash.slice(1) }),
  },
  // Without the cookie that only a browser which opened a link holds: 401 whatever key is sent.
  { route: 'POST /api/v1/portal/resume', path: () => '/api/v1/portal/resume', ok: 401, open: true },
];

function expected(route: Route, who: Who): number[] {
  const ok = Array.isArray(route.ok) ? route.ok : [route.ok];
  if (route.open) return ok;
  switch (who) {
    case 'admin':
      return ok;
    case 'own':
      return route.adminOnly ? [403] : ok;
    case 'other':
      return route.adminOnly ? [403] : route.global ? ok : [404];
    case 'revoked':
    case 'none':
      return [401];
  }
}

before(async () => {
  h = await startHerald({ maxRetries: 0 });
  receiver = await Receiver.start();
  shared = await fixture();
  otherKey = (await createKey(h, (await createWorkspace(h, { name: 'Other Outfit' })).id, 'other')).key;
});
after(async () => {
  await h?.stop();
  await receiver?.close();
});

describe('workspace isolation: every route × every caller', { timeout: 120_000 }, () => {
  it('covers every route the API serves', async () => {
    const doc = await h.api('GET', '/api/v1/openapi.json', undefined, null);
    assert.equal(doc.status, 200);
    const served: string[] = [];
    for (const [path, ops] of Object.entries(doc.body.paths as Record<string, Record<string, unknown>>)) {
      for (const method of Object.keys(ops)) served.push(`${method.toUpperCase()} ${path}`);
    }
    const covered = new Set(ROUTES.map((r) => r.route));
    assert.deepEqual(served.filter((s) => !covered.has(s)), [], 'routes the matrix does not cover');
    assert.deepEqual([...covered].filter((c) => !served.includes(c)), [], 'routes in the matrix that the API does not document');
  });

  for (const route of ROUTES) {
    it(route.route, async () => {
      const wrong: string[] = [];
      for (const who of WHO) {
        const f = route.fresh ? await fixture() : shared;
        const key = { admin: h.adminKey, own: f.own, other: otherKey, revoked: f.revoked, none: null }[who];
        const path = await route.path(f);
        const body = typeof route.body === 'function' ? await route.body(f) : route.body;
        const res = await h.api(route.route.split(' ')[0]!, path, body, key);
        const want = expected(route, who);
        if (!want.includes(res.status)) wrong.push(`${who}: ${res.status} (expected ${want.join(' or ')}) ${res.text.slice(0, 200)}`);
        else if (res.status >= 400) {
          assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
          assert.equal(res.body.status, res.status);
          if (route.stillThere) {
            const still = await h.api('GET', route.stillThere(f));
            if (still.status !== 200) wrong.push(`${who}: a refused call removed it anyway`);
          }
        }
        if (who === 'other' && res.status === 404) {
          // Nothing of the other workspace leaks into the answer.
          assert.equal(res.text.includes('Isolation Ink'), false);
        }
      }
      assert.deepEqual(wrong, []);
    });
  }

  it('a refused PATCH from another workspace changes nothing', async () => {
    const before = (await h.api('GET', `/api/v1/workspaces/${shared.ws}/webhooks/${shared.webhook}`)).body;
    const res = await h.api('PATCH', `/api/v1/workspaces/${shared.ws}/webhooks/${shared.webhook}`, { url: 'http://127.0.0.1:9/hijack' }, otherKey);
    assert.equal(res.status, 404);
    const afterwards = (await h.api('GET', `/api/v1/workspaces/${shared.ws}/webhooks/${shared.webhook}`)).body;
    assert.equal(afterwards.url, before.url);
    // Nor can another workspace's key reach this workspace's objects through its own workspace.
    const otherWs = (await h.api('GET', '/api/v1/me', undefined, otherKey)).body.workspace_id as string;
    for (const path of [`webhooks/${shared.webhook}`, `webhooks/${shared.webhook}/secret`, `events/${shared.event}`, `deliveries/${shared.delivery}`]) {
      const res2 = await h.api('GET', `/api/v1/workspaces/${otherWs}/${path}`, undefined, otherKey);
      assert.equal(res2.status, 404, `${path} through the other workspace: ${res2.status}`);
    }
    const retry = await h.api('POST', `/api/v1/workspaces/${otherWs}/deliveries/${shared.delivery}/retry`, undefined, otherKey);
    assert.equal(retry.status, 404);
    const replay = await h.api('POST', `/api/v1/workspaces/${otherWs}/events/${shared.event}/replay`, undefined, otherKey);
    assert.equal(replay.status, 404);
  });
});
