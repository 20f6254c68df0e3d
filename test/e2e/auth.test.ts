// Who may call what (contract section 2): the admin key, a workspace's own keys, another
// workspace's keys (404 everywhere), no key or a wrong one (401), revoked keys.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { createKey, createWebhook, createWorkspace, publish, startHerald, waitUntil, type ApiResponse, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { authorise } from '../../src/api/auth.js';

let h: TestHerald;
let r: Receiver;
// Workspace A (the one called) and B (another), with a key each and some of A's resources.
let A: string;
let B: string;
let keyA: { id: string; key: string };
let keyB: { id: string; key: string };
let webhookA: string;
let eventA: string;
let deliveryA: string;

before(async () => {
  h = await startHerald();
  r = await startReceiver();
  A = (await createWorkspace(h, { name: 'Shop A' })).id;
  B = (await createWorkspace(h, { name: 'Shop B' })).id;
  keyA = await createKey(h, A);
  keyB = await createKey(h, B);
  webhookA = (await createWebhook(h, A, { url: r.at('/a') })).id;
  eventA = (await publish(h, A, 'walletreward_create', { n: 1 })).id;
  await r.waitFor(1);
  deliveryA = String(r.requests[0]!.headers['webhook-id']);
});
after(async () => {
  await h?.stop();
  await r?.close();
});

/** Every route under /api/v1/workspaces/{A}, with a body that would be accepted. */
function workspaceRoutes(): [string, string, unknown?][] {
  const w = `/api/v1/workspaces/${A}`;
  return [
    ['GET', w],
    ['PATCH', w, { name: 'Shop A' }],
    ['POST', `${w}/keys`, { name: 'x' }],
    ['GET', `${w}/keys`],
    ['DELETE', `${w}/keys/${keyA.id}`],
    ['POST', `${w}/webhooks`, { topic: 'lead_create', url: r.at('/new') }],
    ['GET', `${w}/webhooks`],
    ['GET', `${w}/webhooks/${webhookA}`],
    ['GET', `${w}/webhooks/${webhookA}/secret`],
    ['PATCH', `${w}/webhooks/${webhookA}`, { description: 'x' }],
    ['POST', `${w}/webhooks/${webhookA}/test`],
    ['POST', `${w}/webhooks/${webhookA}/recover`, { since: new Date(0).toISOString() }],
    ['POST', `${w}/webhooks/${webhookA}/secret/rotate`, { grace_seconds: 60 }],
    ['DELETE', `${w}/webhooks/${webhookA}`],
    ['POST', `${w}/events`, { topic: 'walletreward_create', data: {} }],
    ['POST', `${w}/events/batch`, { events: [{ topic: 'walletreward_create', data: {} }] }],
    ['GET', `${w}/events`],
    ['GET', `${w}/events/${eventA}`],
    ['POST', `${w}/events/${eventA}/replay`],
    ['GET', `${w}/deliveries`],
    ['GET', `${w}/deliveries/${deliveryA}`],
    ['POST', `${w}/deliveries/${deliveryA}/retry`],
  ];
}

function problem(res: ApiResponse, status: number, what: string) {
  assert.equal(res.status, status, `${what}: ${res.status} ${res.text.slice(0, 200)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, what);
  assert.equal(res.body.status, status, what);
}

/** Nothing of A changed: same webhooks, same events, same keys. */
async function snapshotA() {
  const get = async (p: string) => (await h.api('GET', `/api/v1/workspaces/${A}${p}`)).body;
  return { ws: await get(''), webhooks: await get('/webhooks'), events: await get('/events'), keys: await get('/keys') };
}

describe('authentication', () => {
  it('no key, a malformed header or a wrong key: 401 on every workspace route, and nothing changes', async () => {
    const before = await snapshotA();
    for (const [method, path, body] of workspaceRoutes()) {
      problem(await h.api(method, path, body, null), 401, `${method} ${path} without a key`);
      problem(await h.api(method, path, body, 'hrd_not-a-real-key'), 401, `${method} ${path} with a wrong key`);
      problem(await h.api(method, path, body, null, { headers: { authorization: keyA.key } }), 401, `${method} ${path} without "Bearer"`);
      problem(await h.api(method, path, body, null, { headers: { authorization: `Basic ${Buffer.from('admin:' + h.adminKey).toString('base64')}` } }), 401, `${method} ${path} with Basic`);
    }
    for (const [method, path, body] of [['GET', '/api/v1/topics'], ['POST', '/api/v1/topics', { name: 'x_y' }], ['GET', '/api/v1/workspaces'], ['POST', '/api/v1/workspaces', { name: 'n' }], ['POST', '/api/v1/filters/test', { filter: null, data: {} }]] as [string, string, unknown?][]) {
      problem(await h.api(method, path, body, null), 401, `${method} ${path} without a key`);
      problem(await h.api(method, path, body, h.adminKey + 'x'), 401, `${method} ${path} with a wrong key`);
    }
    // Unknown routes under /api/v1 say nothing without a key either.
    problem(await h.api('GET', '/api/v1/secrets', undefined, null), 401, 'an unknown route');
    assert.deepEqual(await snapshotA(), before);
  });

  it("another workspace's key: 404 on every route of this workspace, and nothing changes", async () => {
    const before = await snapshotA();
    for (const [method, path, body] of workspaceRoutes()) {
      problem(await h.api(method, path, body, keyB.key), 404, `${method} ${path} with B's key`);
    }
    // The same answer as for a workspace that does not exist: ids cannot be probed.
    problem(await h.api('GET', '/api/v1/workspaces/ws_does_not_exist', undefined, keyB.key), 404, 'a missing workspace');
    const del = await h.api('DELETE', `/api/v1/workspaces/${A}`, undefined, keyB.key);
    assert.ok(del.status === 403 || del.status === 404, `DELETE of A with B's key answered ${del.status}`);
    assert.deepEqual(await snapshotA(), before);
    assert.equal(r.received('/a').length, 1, 'no test send, retry or replay went out');
  });

  it("a workspace's own key works on its routes and reads the topics", async () => {
    const k = keyA.key;
    const w = `/api/v1/workspaces/${A}`;
    const ok = async (method: string, path: string, body?: unknown, status = 200) => {
      const res = await h.api(method, path, body, k);
      assert.equal(res.status, status, `${method} ${path}: ${res.status} ${res.text.slice(0, 200)}`);
      return res.body;
    };
    assert.equal((await ok('GET', w)).id, A);
    assert.equal((await ok('PATCH', w, { name: 'Shop A2' })).name, 'Shop A2');
    const topics = await ok('GET', '/api/v1/topics');
    assert.ok(topics.data.length >= 18);
    const extra = await ok('POST', `${w}/keys`, { name: 'ci' }, 201);
    assert.ok((await ok('GET', `${w}/keys`)).data.some((x: any) => x.id === extra.id));
    const wh = await ok('POST', `${w}/webhooks`, { topic: 'lead_create', url: r.at('/lead') }, 201);
    assert.equal((await ok('GET', `${w}/webhooks/${wh.id}`)).id, wh.id);
    assert.ok((await ok('GET', `${w}/webhooks`)).data.length >= 2);
    assert.match((await ok('GET', `${w}/webhooks/${wh.id}/secret`)).secret, /^whsec_/);
    assert.equal((await ok('PATCH', `${w}/webhooks/${wh.id}`, { description: 'lead hook' })).description, 'lead hook');
    assert.equal((await ok('POST', `${w}/webhooks/${wh.id}/test`)).delivery.status, 'succeeded');
    await ok('POST', `${w}/webhooks/${wh.id}/secret/rotate`, { grace_seconds: 0 });
    await ok('POST', `${w}/webhooks/${wh.id}/recover`, { since: new Date(0).toISOString() }, 202);
    const ev = await ok('POST', `${w}/events`, { topic: 'lead_create', data: { n: 2 } }, 202);
    assert.equal(ev.deliveries, 1);
    assert.equal((await ok('POST', `${w}/events/batch`, { events: [{ topic: 'lead_create', data: { n: 3 } }] }, 202)).data.length, 1);
    assert.ok((await ok('GET', `${w}/events`)).data.length >= 3);
    assert.equal((await ok('GET', `${w}/events/${ev.id}`)).id, ev.id);
    assert.equal((await ok('POST', `${w}/events/${ev.id}/replay`, undefined, 202)).deliveries, 1);
    await r.waitFor(4, { path: '/lead' });
    const ds = (await ok('GET', `${w}/deliveries`)).data;
    assert.ok(ds.length >= 4);
    const done = await waitUntil(async () => {
      const d = await ok('GET', `${w}/deliveries/${deliveryA}`);
      return d.status === 'succeeded' ? d : null;
    });
    assert.equal(done.id, deliveryA);
    await ok('POST', `${w}/deliveries/${deliveryA}/retry`, undefined, 202);
    await ok('POST', '/api/v1/filters/test', { filter: { n: 1 }, data: { n: 1 } });
    await ok('DELETE', `${w}/webhooks/${wh.id}`, undefined, 204);
    await ok('DELETE', `${w}/keys/${extra.id}`, undefined, 204);
  });

  it('answers that hold a secret or a key say Cache-Control: no-store', async () => {
    const w = `/api/v1/workspaces/${A}`;
    const secret = await h.api('GET', `${w}/webhooks/${webhookA}/secret`);
    assert.equal(secret.status, 200);
    const rotated = await h.api('POST', `${w}/webhooks/${webhookA}/secret/rotate`, { grace_seconds: 3600 });
    assert.equal(rotated.status, 200, rotated.text);
    const key = await h.api('POST', `${w}/keys`, { name: 'cache-test' });
    assert.equal(key.status, 201);
    for (const [what, res] of [['secret', secret], ['rotate', rotated], ['new key', key]] as const) assert.equal(res.headers.get('cache-control'), 'no-store', what);
    await h.api('DELETE', `${w}/keys/${key.body.id}`);
  });

  it('admin-only routes refuse a workspace key', async () => {
    const before = (await h.api('GET', '/api/v1/workspaces')).body.data.length;
    const topicsBefore = (await h.api('GET', '/api/v1/topics')).body.data.length;
    problem(await h.api('POST', '/api/v1/workspaces', { name: 'Sneaky' }, keyA.key), 403, 'POST /workspaces');
    problem(await h.api('POST', '/api/v1/workspaces', { name: 'Sneaky', id: B }, keyA.key), 403, 'POST /workspaces over B');
    problem(await h.api('GET', '/api/v1/workspaces', undefined, keyA.key), 403, 'GET /workspaces');
    problem(await h.api('DELETE', `/api/v1/workspaces/${A}`, undefined, keyA.key), 403, 'DELETE its own workspace');
    problem(await h.api('POST', '/api/v1/topics', { name: 'sneaky_topic' }, keyA.key), 403, 'POST /topics');
    assert.equal((await h.api('GET', '/api/v1/workspaces')).body.data.length, before);
    assert.equal((await h.api('GET', '/api/v1/topics')).body.data.length, topicsBefore);
    assert.equal((await h.api('GET', `/api/v1/workspaces/${A}`)).status, 200);
    // The admin key may do all of it.
    assert.equal((await h.api('GET', '/api/v1/workspaces')).status, 200);
    assert.equal((await h.api('GET', `/api/v1/workspaces/${B}/webhooks`)).status, 200);
  });

  it('a revoked key is refused with 401; keys are never listed', async () => {
    const k = await createKey(h, A, 'short-lived');
    assert.equal((await h.api('GET', `/api/v1/workspaces/${A}`, undefined, k.key)).status, 200);
    const list = await h.api('GET', `/api/v1/workspaces/${A}/keys`, undefined, k.key);
    assert.ok(list.body.data.some((x: any) => x.id === k.id));
    assert.ok(!list.text.includes(k.key) && !list.text.includes(keyA.key));
    for (const x of list.body.data) assert.equal('key' in x, false);

    assert.equal((await h.api('DELETE', `/api/v1/workspaces/${A}/keys/${k.id}`, undefined, k.key)).status, 204);
    problem(await h.api('GET', `/api/v1/workspaces/${A}`, undefined, k.key), 401, 'a revoked key');
    problem(await h.api('GET', '/api/v1/topics', undefined, k.key), 401, 'a revoked key on topics');
    problem(await h.api('POST', `/api/v1/workspaces/${A}/events`, { topic: 'walletreward_create', data: {} }, k.key), 401, 'a revoked key publishing');
    // B's key cannot revoke A's keys.
    problem(await h.api('DELETE', `/api/v1/workspaces/${A}/keys/${keyA.id}`, undefined, keyB.key), 404, "revoking A's key with B's");
    assert.equal((await h.api('GET', `/api/v1/workspaces/${A}`, undefined, keyA.key)).status, 200);
  });

  it('operations endpoints need no key', async () => {
    assert.equal((await h.api('GET', '/healthz', undefined, null)).status, 200);
    const ready = await h.api('GET', '/readyz', undefined, null);
    assert.equal(ready.status, 200);
    const metrics = await h.api('GET', '/metrics', undefined, null);
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /^text\/plain/);
    const openapi = await h.api('GET', '/api/v1/openapi.json', undefined, null);
    assert.equal(openapi.status, 200);
    assert.ok(openapi.body.openapi, 'an OpenAPI document');
  });
});

/** A request sent with its path byte for byte (fetch would normalise `./`), without a key. */
function rawRequest(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(url + path, { method, headers: payload ? { 'content-type': 'application/json' } : {} }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    // The URL parser of http.request keeps the path as given; set it again to be sure.
    req.path = path;
    req.on('error', reject);
    req.end(payload);
  });
}

describe('authentication follows the route, not the raw URL', () => {
  it('no spelling of an API path reaches its route without a key', async () => {
    const w = `workspaces/${A}`;
    const routes: [string, string, unknown?][] = [
      ['GET', 'me'],
      ['GET', 'topics'],
      ['GET', 'topics/order_create'],
      ['POST', 'filters/test', { filter: null, data: {} }],
      ['GET', w],
      ['GET', `${w}/webhooks`],
      ['GET', `${w}/webhooks/${webhookA}/secret`],
    ];
    const spellings = (p: string) => [
      `/api/v1/${p}`,
      `/%61pi/v1/${p}`,
      `/api/%761/${p}`,
      `/api/v1/%${p.charCodeAt(0).toString(16)}${p.slice(1)}`,
      `/api//v1/${p}`,
      `/api/v1//${p}`,
      `/API/v1/${p}`,
      `/api/v1/./${p}`,
      `/api/v1/../v1/${p}`,
      `/%2561pi/v1/${p}`,
    ];
    for (const [method, p, body] of routes) {
      for (const path of spellings(p)) {
        const res = await rawRequest(h.url, method, path, body);
        assert.ok(res.status >= 400, `${method} ${path} without a key answered ${res.status} ${res.text.slice(0, 200)}`);
        assert.doesNotMatch(res.text, /"kind":"admin"|whsec_/, `${method} ${path}`);
      }
    }
    // The spelling that the router decodes still needs a key, and works with one.
    const me = await h.api('GET', '/%61pi/v1/me', undefined, keyA.key);
    assert.equal(me.status, 200);
    assert.deepEqual(me.body, { kind: 'workspace', workspace_id: A });
  });
});

describe('authorise fails closed', () => {
  const call = (access: unknown) => authorise({ routeOptions: { config: { access } }, principal: null, method: 'GET', params: {} } as never, h.herald as never);
  it('a route with an access and no principal is a 401, an unknown access a 403', async () => {
    for (const access of ['key', 'admin', 'workspace']) await assert.rejects(call(access), (e: any) => e.status === 401, access);
    await assert.rejects(authorise({ routeOptions: { config: { access: 'everyone' } }, principal: { kind: 'admin' }, method: 'GET', params: {} } as never, h.herald as never), (e: any) => e.status === 403);
    await call('public');
    await call(undefined);
  });
});
