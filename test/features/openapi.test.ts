// The OpenAPI 3.1 document at /api/v1/openapi.json and the reference at /docs: it lists every
// route Herald serves under /api/v1 (and nothing else), and every answer of a realistic
// session — successes and errors — matches the schema the document gives for its status.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { documentedRoutes } from '../../src/api/openapi.js';
import { startHerald, waitForDelivery, waitUntil, type Api, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { HTTP_METHODS, OpenApiValidator, registeredRoutes, toOpenApiPath } from './support.js';

let h: TestHerald;
let receiver: Receiver;
let doc: any;

before(async () => {
  h = await startHerald({ maxRetries: 1, retryBaseMs: 100, retryFactor: 1, maxPayloadBytes: 4096 });
  receiver = await startReceiver();
  receiver.respondWith((req) => (req.path.startsWith('/fail') ? { status: 500, body: '{"error":"down"}' } : { status: 200 }));
  const res = await h.api('GET', '/api/v1/openapi.json', undefined, null);
  assert.equal(res.status, 200, res.text);
  doc = res.body;
});
after(async () => {
  await h?.stop();
  await receiver?.close();
});

/** Every "METHOD /path/{param}" operation of the document. */
function operations(): string[] {
  const out: string[] = [];
  for (const [path, item] of Object.entries<any>(doc.paths)) {
    for (const method of HTTP_METHODS) if (item[method]) out.push(`${method.toUpperCase()} ${path}`);
  }
  return out;
}

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1, served without a key as JSON, and browsable at /docs', async () => {
    const res = await h.api('GET', '/api/v1/openapi.json', undefined, null);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.match(doc.openapi, /^3\.1(\.\d+)?$/);
    assert.equal(doc.info.title, 'Herald API');
    assert.equal(typeof doc.info.version, 'string');
    assert.deepEqual(doc.components.securitySchemes.bearer, { type: 'http', scheme: 'bearer' });

    const page = await fetch(`${h.url}/docs`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const html = await page.text();
    assert.match(html, /swagger-ui/i);
    // The reference renders the same document.
    const shown = await (await fetch(`${h.url}/docs/json`)).json();
    assert.deepEqual(Object.keys(shown.paths).sort(), Object.keys(doc.paths).sort());
    assert.equal(shown.openapi, doc.openapi);
  });

  it('documents every route registered under /api/v1, and only those', async () => {
    const app = h.herald.app!;
    const registered = registeredRoutes(app.printRoutes({ commonPrefix: false }))
      .filter((r) => r.split(' ')[1]!.startsWith('/api/v1/'))
      // HEAD routes are Fastify's automatic twins of the GETs; the document itself is not an API call.
      .filter((r) => !r.startsWith('HEAD ') && r !== 'GET /api/v1/openapi.json');
    assert.ok(registered.length >= 25, `only ${registered.length} routes parsed from printRoutes:\n${registered.join('\n')}`);

    const documented = documentedRoutes();
    const inDocument = new Set(operations());
    for (const route of registered) {
      const [method, path] = route.split(' ') as [string, string];
      assert.ok(documented.includes(route), `${route} is registered but not in documentedRoutes() (no summary, no answer schema)`);
      assert.ok(inDocument.has(`${method} ${toOpenApiPath(path)}`), `${route} is registered but not in the OpenAPI document`);
    }
    for (const route of documented) {
      const [method, path] = route.split(' ') as [string, string];
      assert.ok(registered.includes(route), `${route} is documented but not registered`);
      const op = doc.paths[toOpenApiPath(path)]?.[method.toLowerCase()];
      assert.ok(op, `${route} is in documentedRoutes() but not in the OpenAPI document`);
      assert.ok(op.summary, `${route} has no summary`);
      assert.ok(Object.keys(op.responses).some((s) => /^2\d\d$/.test(s)), `${route} documents no success answer`);
      assert.ok(op.responses['4XX'], `${route} documents no error answer`);
    }
    assert.equal(inDocument.size, registered.length, 'the document has operations that are not registered routes');
  });

  it('has a route behind every operation it lists', async () => {
    for (const operation of operations()) {
      const [method, template] = operation.split(' ') as [string, string];
      assert.ok(h.herald.app!.hasRoute({ method: method as any, url: template.replace(/\{([^}]+)\}/g, ':$1') }), `${operation}: no such route`);
      const path = template.replace(/\{[^}]+\}/g, 'nope');
      const res = await h.api(method, path, method === 'GET' || method === 'DELETE' ? undefined : {});
      assert.ok(!(res.status === 404 && /no route for/.test(res.body?.detail ?? '')), `${operation} → ${res.status} ${res.text}`);
      assert.ok(res.status < 500, `${operation} → ${res.status} ${res.text}`);
    }
  });
});

describe('answers match the document', () => {
  it('in a realistic session, for every status', async () => {
    const v = new OpenApiValidator(doc);
    const api: Api = v.wrap(h.api);
    const call = async (method: string, path: string, status: number, body?: unknown, key?: string | null, options?: Parameters<Api>[4]) => {
      const res = await api(method, path, body, key, options);
      assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
      return res.body;
    };

    // Workspaces and keys.
    const ws = (await call('POST', '/api/v1/workspaces', 201, { id: 'oas-acme', name: 'Acme Coffee', uri: 'https://acme.example' })).id as string;
    await call('POST', '/api/v1/workspaces', 409, { id: 'oas-acme', name: 'Again' });
    await call('POST', '/api/v1/workspaces', 400, { id: 'no spaces allowed', name: 'Bad' });
    await call('POST', '/api/v1/workspaces', 400, { name: 'x', extra: true });
    await call('GET', '/api/v1/workspaces?limit=10', 200);
    await call('GET', `/api/v1/workspaces/${ws}`, 200);
    assert.equal((await call('PATCH', `/api/v1/workspaces/${ws}`, 200, { webhooks_enabled: true })).webhooks_enabled, true);
    const key = await call('POST', `/api/v1/workspaces/${ws}/keys`, 201, { name: 'platform' });
    assert.match(key.key, /\S{20,}/);
    await call('POST', `/api/v1/workspaces/${ws}/keys`, 201);
    const keys = await call('GET', `/api/v1/workspaces/${ws}/keys`, 200);
    assert.ok(keys.data.every((k: any) => !('key' in k)));
    assert.deepEqual(await call('GET', '/api/v1/me', 200), { kind: 'admin' });
    assert.deepEqual(await call('GET', '/api/v1/me', 200, undefined, key.key), { kind: 'workspace', workspace_id: ws });

    // Topics.
    assert.ok((await call('GET', '/api/v1/topics', 200, undefined, key.key)).data.length >= 18);
    await call('POST', '/api/v1/topics', 201, { name: 'oas.topic', label: 'OAS topic', sample: { a: 1 } });
    await call('POST', '/api/v1/topics', 200, { name: 'oas.topic', label: 'OAS topic, renamed' });
    await call('POST', '/api/v1/topics', 400, { name: 'Not A Topic' });
    await call('PATCH', '/api/v1/topics/oas.topic', 200, { schema: { type: 'object', properties: { a: { type: 'integer' } } } });
    await call('PATCH', '/api/v1/topics/oas.topic', 400, { schema: { type: 'object', properties: { a: { type: 'integr' } } } });
    await call('PATCH', '/api/v1/topics/no.such.topic', 404, { label: 'x' });
    assert.deepEqual((await call('GET', '/api/v1/topics/oas.topic', 200, undefined, key.key)).schema.properties, { a: { type: 'integer' } });
    await call('GET', '/api/v1/topics/no.such.topic', 404);
    await call('PATCH', '/api/v1/topics/oas.topic', 200, { schema: null });

    // Webhooks.
    const hook = await call('POST', `/api/v1/workspaces/${ws}/webhooks`, 201, {
      topic: 'walletreward_create', url: receiver.at('/ok'), prefix: 'acme_', filter: { amount: { $gte: 100 } },
      headers: { 'x-tenant': 'acme' }, description: 'big rewards',
    }, key.key);
    const failing = await call('POST', `/api/v1/workspaces/${ws}/webhooks`, 201, { topic: 'coupon_create', url: receiver.at('/fail') });
    await call('POST', `/api/v1/workspaces/${ws}/webhooks`, 400, { topic: 'walletreward_create', url: receiver.at('/x'), filter: { amount: { $between: [1, 2] } } });
    await call('POST', `/api/v1/workspaces/${ws}/webhooks`, 400, { topic: 'not_a_topic', url: 'ftp://x' });
    await call('GET', `/api/v1/workspaces/${ws}/webhooks?topic=walletreward_create`, 200);
    await call('GET', `/api/v1/workspaces/${ws}/webhooks/${hook.id}`, 200);
    assert.match((await call('GET', `/api/v1/workspaces/${ws}/webhooks/${hook.id}/secret`, 200)).secret, /^whsec_/);
    await call('PATCH', `/api/v1/workspaces/${ws}/webhooks/${hook.id}`, 200, { description: 'rewards of 100 or more', rate_limit: 50 });
    await call('PATCH', `/api/v1/workspaces/${ws}/webhooks/${hook.id}`, 400, { prefix: 'no spaces' });
    await call('GET', `/api/v1/workspaces/${ws}/webhooks/${hook.id}/public-key`, 409);
    await call('PATCH', `/api/v1/workspaces/${ws}/webhooks/${hook.id}`, 400, { signing: 'rsa' });
    const signed = await call('POST', `/api/v1/workspaces/${ws}/webhooks`, 201, { topic: 'order_create', url: receiver.at('/ok'), signing: 'ed25519' });
    assert.match((await call('GET', `/api/v1/workspaces/${ws}/webhooks/${signed.id}/public-key`, 200)).public_key, /^whpk_/);
    await call('POST', '/api/v1/filters/test', 200, { filter: { amount: { $gte: 100 } }, data: { amount: 150 } });
    await call('POST', '/api/v1/filters/test', 400, { filter: { $bogus: 1 }, data: {} });

    // Events and deliveries.
    const event = await call('POST', `/api/v1/workspaces/${ws}/events`, 202, { topic: 'walletreward_create', data: { customer_id: '4417', amount: 250 } }, key.key);
    assert.equal(event.deliveries, 1);
    await call('POST', `/api/v1/workspaces/${ws}/events`, 202, { topic: 'walletreward_create', data: { amount: 1 } }, undefined, { headers: { 'idempotency-key': 'k-1' } });
    const batch = await call('POST', `/api/v1/workspaces/${ws}/events/batch`, 202, {
      events: [{ topic: 'coupon_create', data: { value: 'ACME-10' } }, { topic: 'lead_create', data: { name: 'Mei Lin' } }],
    });
    assert.equal(batch.data.length, 2);
    await call('POST', `/api/v1/workspaces/${ws}/events`, 400, { topic: 'walletreward_create', data: [] });
    await call('POST', `/api/v1/workspaces/${ws}/events`, 400, { topic: 'walletreward_create' });
    await call('POST', `/api/v1/workspaces/${ws}/events`, 413, { topic: 'walletreward_create', data: { blob: 'x'.repeat(5000) } });
    await call('POST', `/api/v1/workspaces/${ws}/events`, 415, 'topic=x', undefined, { raw: true, headers: { 'content-type': 'text/plain' } });
    await call('POST', `/api/v1/workspaces/${ws}/events/batch`, 400, { events: [] });

    const [delivered] = (await call('GET', `/api/v1/workspaces/${ws}/deliveries?event_id=${event.id}`, 200)).data;
    await waitForDelivery(h, ws, delivered.id, (d) => d.status === 'succeeded');
    const detail = await call('GET', `/api/v1/workspaces/${ws}/deliveries/${delivered.id}`, 200);
    assert.equal(detail.attempts.length, 1);
    assert.equal(detail.attempts[0].request_headers['x-tenant'], 'acme');
    const failedId = batch.data[0].id as string;
    const [failedDelivery] = (await call('GET', `/api/v1/workspaces/${ws}/deliveries?event_id=${failedId}`, 200)).data;
    await waitForDelivery(h, ws, failedDelivery.id, (d) => d.status === 'failed');
    await call('GET', `/api/v1/workspaces/${ws}/deliveries/${failedDelivery.id}`, 200);
    await call('GET', `/api/v1/workspaces/${ws}/deliveries?status=failed&limit=1`, 200);
    await call('GET', `/api/v1/workspaces/${ws}/deliveries?status=lost`, 400);
    await call('GET', `/api/v1/workspaces/${ws}/deliveries?limit=0`, 400);
    await call('GET', `/api/v1/workspaces/${ws}/deliveries?cursor=garbage`, 400);
    await call('GET', `/api/v1/workspaces/${ws}/events?topic=walletreward_create`, 200);
    const eventDetail = await call('GET', `/api/v1/workspaces/${ws}/events/${event.id}`, 200);
    assert.equal(eventDetail.deliveries.length, 1);

    // Test send, rotation, recovery, replay, retry.
    const tested = await call('POST', `/api/v1/workspaces/${ws}/webhooks/${hook.id}/test`, 200, { data: { amount: 500 } });
    assert.equal(tested.delivery.status, 'succeeded');
    await call('POST', `/api/v1/workspaces/${ws}/webhooks/${failing.id}/test`, 200);
    const rotated = await call('POST', `/api/v1/workspaces/${ws}/webhooks/${hook.id}/secret/rotate`, 200, { grace_seconds: 60 });
    assert.ok(rotated.previous_secret_expires_at);
    const rotatedNow = await call('POST', `/api/v1/workspaces/${ws}/webhooks/${hook.id}/secret/rotate`, 200, { secret: 'plain-secret', grace_seconds: 0 });
    assert.equal(rotatedNow.previous_secret_expires_at, null);
    await call('POST', `/api/v1/workspaces/${ws}/webhooks/${hook.id}/secret/rotate`, 400, { grace_seconds: -1 });
    receiver.respondWith(() => ({ status: 200 }));
    const recovered = await call('POST', `/api/v1/workspaces/${ws}/webhooks/${failing.id}/recover`, 202, { since: new Date(Date.now() - 3_600_000).toISOString() });
    assert.ok(recovered.requeued >= 1);
    await call('POST', `/api/v1/workspaces/${ws}/webhooks/${failing.id}/recover`, 400, { since: 'yesterday' });
    await waitForDelivery(h, ws, failedDelivery.id, (d) => d.status === 'succeeded');
    const replayed = await call('POST', `/api/v1/workspaces/${ws}/events/${event.id}/replay`, 202);
    assert.equal(replayed.deliveries, 1);
    await call('POST', `/api/v1/workspaces/${ws}/deliveries/${delivered.id}/retry`, 202);
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    assert.equal(typeof (await call('POST', `/api/v1/workspaces/${ws}/deliveries/retry`, 202, { since: hourAgo, status: 'cancelled' })).requeued, 'number');
    await call('POST', `/api/v1/workspaces/${ws}/deliveries/retry`, 400, { since: hourAgo, status: 'pending' });
    const window = await call('POST', `/api/v1/workspaces/${ws}/events/replay`, 202, { since: new Date().toISOString() });
    assert.deepEqual(window, { events: 0, deliveries: 0 });
    await call('POST', `/api/v1/workspaces/${ws}/events/replay`, 400, { since: new Date().toISOString(), until: hourAgo });
    await waitUntil(async () => (await h.api('GET', `/api/v1/workspaces/${ws}/deliveries/${delivered.id}`)).body.attempts.length === 2);

    // Authentication and missing things.
    await call('GET', `/api/v1/workspaces/${ws}`, 401, undefined, null);
    await call('GET', `/api/v1/workspaces/${ws}`, 401, undefined, 'hrd_wrong-key');
    await call('GET', '/api/v1/workspaces', 403, undefined, key.key);
    const other = (await call('POST', '/api/v1/workspaces', 201, { name: 'Other' })).id as string;
    await call('GET', `/api/v1/workspaces/${other}`, 404, undefined, key.key);
    await call('GET', `/api/v1/workspaces/${ws}/deliveries/dlv_unknown`, 404);
    await call('GET', `/api/v1/workspaces/${ws}/events/evt_unknown`, 404);
    await call('GET', `/api/v1/workspaces/${ws}/webhooks/wh_unknown`, 404);
    await call('POST', `/api/v1/workspaces/${ws}/deliveries/dlv_unknown/retry`, 404);

    // The portal.
    const ps = await call('POST', `/api/v1/workspaces/${ws}/portal-sessions`, 201, { access: 'view', theme: { name: 'Acme', primary_color: '#112233' } });
    await call('POST', `/api/v1/workspaces/${ws}/portal-sessions`, 400, { expires_in: 1 });
    await call('POST', `/api/v1/workspaces/${ws}/portal-sessions`, 403, {}, key.key);
    await call('GET', `/api/v1/workspaces/${ws}/portal-sessions`, 200);
    const token = new URL(ps.url).hash.slice(1);
    const exchanged = await api('POST', '/api/v1/portal/exchange', { token }, null);
    assert.equal(exchanged.status, 200, exchanged.text);
    await call('POST', '/api/v1/portal/exchange', 401, { token }, null);
    const cookie = (exchanged.headers.get('set-cookie') ?? '').split(';')[0]!;
    await call('POST', '/api/v1/portal/resume', 200, undefined, null, { headers: { cookie } });
    assert.equal((await call('GET', '/api/v1/me', 200, undefined, exchanged.body.credential)).kind, 'portal');
    await call('PATCH', `/api/v1/workspaces/${ws}`, 403, { name: 'x' }, exchanged.body.credential);
    await call('DELETE', `/api/v1/workspaces/${ws}/portal-sessions/${ps.id}`, 204);
    await call('DELETE', `/api/v1/workspaces/${ws}/portal-sessions`, 204);

    // Deletions.
    const spare = await call('POST', `/api/v1/workspaces/${ws}/keys`, 201, { name: 'spare' });
    await call('DELETE', `/api/v1/workspaces/${ws}/keys/${spare.id}`, 204);
    await call('DELETE', `/api/v1/workspaces/${ws}/keys/${spare.id}`, 404);
    await call('DELETE', `/api/v1/workspaces/${ws}/webhooks/${failing.id}`, 204);
    await call('DELETE', `/api/v1/workspaces/${other}`, 204);
    await call('DELETE', `/api/v1/workspaces/${other}`, 404);

    // Every operation of the document was exercised with a success, and errors were checked too.
    const succeeded = new Set(v.checked.filter((c) => c.status < 300).map((c) => `${c.method} ${c.template}`));
    const missing = operations().filter((o) => !succeeded.has(o));
    assert.deepEqual(missing, [], 'operations not exercised with a successful answer');
    const errorStatuses = new Set(v.checked.filter((c) => c.status >= 400).map((c) => c.status));
    for (const s of [400, 401, 403, 404, 409, 413, 415]) assert.ok(errorStatuses.has(s), `no ${s} answer was checked`);
  });
});
