// Bad input, property-based (fast-check): every route gets malformed JSON, wrong types, huge
// strings and arrays, deep nesting, odd unicode, path tricks in ids, odd query strings and
// headers, wrong content types and oversized bodies. Herald must never answer 5xx (nor drop
// the connection), and a request that gets a 4xx must store nothing: the counts of
// workspaces, keys, topics, webhooks and events are the same after it as before.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createKey, createWebhook, createWorkspace, listDeliveries, publish, startHerald, waitUntil, type TestHerald } from '../helpers/herald.js';
import { rawRequest } from '../helpers/reliability.js';
import { Receiver } from '../helpers/receiver.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 120);

let h: TestHerald;
let receiver: Receiver;
let wsKey: string;
let ids: { ws: string; webhook: string; event: string; delivery: string; key: string };

before(async () => {
  // allowPrivateTargets (the default in tests) keeps URL checks off DNS; the workspace's
  // webhooks stay switched off, so nothing that the fuzzing publishes is delivered.
  h = await startHerald({ maxRetries: 0, deliveryTimeoutMs: 1_000 });
  receiver = await Receiver.start();
  const on = (await createWorkspace(h, { name: 'Fuzz Fixtures' })).id as string;
  const webhook = (await createWebhook(h, on, { topic: 'order_create', url: receiver.at('/fuzz') })).id as string;
  const event = (await publish(h, on, 'order_create', { order_id: 'F-1' })).id as string;
  const [delivery] = await waitUntil(async () => {
    const list = await listDeliveries(h, on);
    return list.length > 0 && list[0].status !== 'pending' ? list : null;
  });
  assert.equal((await h.api('PATCH', `/api/v1/workspaces/${on}`, { webhooks_enabled: false })).status, 200);
  const key = await createKey(h, on, 'fuzz');
  wsKey = key.key;
  ids = { ws: on, webhook, event, delivery: delivery!.id, key: key.id };
});
after(async () => {
  await h?.stop();
  await receiver?.close();
});

/** What a refused request must not change. Herald's own events are left out: they are made in the background. */
function counts() {
  const db = (h.herald.store as SqliteStore).db;
  const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  return {
    workspaces: n('SELECT count(*) AS n FROM workspaces'),
    api_keys: n('SELECT count(*) AS n FROM api_keys WHERE revoked_at IS NULL'),
    topics: n('SELECT count(*) AS n FROM topics'),
    webhooks: n('SELECT count(*) AS n FROM webhooks'),
    events: n(`SELECT count(*) AS n FROM events WHERE topic NOT IN ('delivery.failed', 'webhook.disabled')`),
  };
}

interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
}

/** Sends it and checks the invariants; returns the status. */
async function check(req: Req): Promise<number> {
  const before = counts();
  let res;
  try {
    res = await rawRequest(h.url, { method: req.method, path: req.path, headers: req.headers, body: req.body, timeoutMs: 20_000 });
  } catch (err) {
    const msg = String(err);
    // The client refused to send it (e.g. characters that may not appear in a path): not Herald's doing.
    if (/unescaped characters|Invalid character|ERR_INVALID|ERR_UNESCAPED/.test(msg)) return -1;
    throw new Error(`${req.method} ${req.path.slice(0, 200)}: the connection failed: ${msg}`);
  }
  assert.ok(res.status < 500, `${req.method} ${req.path.slice(0, 200)} (${req.headers['content-type']}) → ${res.status} ${res.text.slice(0, 300)}`);
  assert.ok(res.status >= 200, `status ${res.status}`);
  if (res.status >= 400) {
    assert.deepEqual(counts(), before, `${req.method} ${req.path.slice(0, 200)} → ${res.status} but something was stored`);
    if (res.status !== 404 || req.path.startsWith('/api/')) {
      assert.match(String(res.headers['content-type'] ?? ''), /problem\+json/, `${req.method} ${req.path.slice(0, 100)} → ${res.status} not problem+json`);
    }
  }
  return res.status;
}

const admin = () => ({ authorization: `Bearer ${h.adminKey}` });

// ---- generators ----------------------------------------------------------------------------

const PATH_TRICKS = [
  '..', '.', '..%2F', '..%2F..%2Fetc%2Fpasswd', '%2e%2e%2f', '%2E%2E', '%00', 'a%00b', '%', '%zz', '%ff%fe', '%C0%AE%C0%AE',
  '%252e%252e%252f', '..;', '%5C..%5C', 'x'.repeat(129), 'y'.repeat(5000), '%F0%9F%92%A9', '%EF%BB%BF', '%E2%80%AE', '%0d%0aSet-Cookie:x',
  '*', '{ws}', ':ws', 'ws_%20', '+', '%20', '%09', '__proto__', 'constructor', 'null', 'undefined', '-1', '0', '1e309',
];

/** An id as it appears in a path: a raw trick, or any string percent-encoded. */
const pathId = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...PATH_TRICKS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 300 }).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,200}$/) },
);

const TEMPLATES: [string, string][] = [
  ['GET', '/api/v1/workspaces/{ws}'], ['PATCH', '/api/v1/workspaces/{ws}'], ['DELETE', '/api/v1/workspaces/{ws}'],
  ['POST', '/api/v1/workspaces/{ws}/keys'], ['GET', '/api/v1/workspaces/{ws}/keys'], ['DELETE', '/api/v1/workspaces/{ws}/keys/{id}'],
  ['POST', '/api/v1/workspaces/{ws}/webhooks'], ['GET', '/api/v1/workspaces/{ws}/webhooks'], ['GET', '/api/v1/workspaces/{ws}/webhooks/{id}'],
  ['PATCH', '/api/v1/workspaces/{ws}/webhooks/{id}'], ['DELETE', '/api/v1/workspaces/{ws}/webhooks/{id}'],
  ['GET', '/api/v1/workspaces/{ws}/webhooks/{id}/secret'], ['POST', '/api/v1/workspaces/{ws}/webhooks/{id}/test'],
  ['POST', '/api/v1/workspaces/{ws}/webhooks/{id}/secret/rotate'], ['POST', '/api/v1/workspaces/{ws}/webhooks/{id}/recover'],
  ['POST', '/api/v1/workspaces/{ws}/events'], ['POST', '/api/v1/workspaces/{ws}/events/batch'], ['GET', '/api/v1/workspaces/{ws}/events'],
  ['GET', '/api/v1/workspaces/{ws}/events/{id}'], ['POST', '/api/v1/workspaces/{ws}/events/{id}/replay'],
  ['GET', '/api/v1/workspaces/{ws}/deliveries'], ['GET', '/api/v1/workspaces/{ws}/deliveries/{id}'],
  ['POST', '/api/v1/workspaces/{ws}/deliveries/{id}/retry'],
];

const deep = (n: number, open: string, close: string, inner = '1') => open.repeat(n) + inner + close.repeat(n);

/** Bodies that are not what any route wants: broken JSON, wrong shapes, extremes. */
const junkBody: fc.Arbitrary<string | Buffer> = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.json({ maxDepth: 4 }),
  fc.json().map((j) => j.slice(0, Math.max(1, Math.floor(j.length / 2)))), // truncated
  fc.constantFrom(
    '', '{', '}', '[', 'null', 'true', '0', '"x"', '{"a":}', '{,}', "{'a':1}", '{"a":1,}', '{"a":NaN}', '{"a":Infinity}', '{"a":1e999}',
    '\ufeff{}', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', '{"a":"\\ud800"}', '{"a":"\\u0000"}',
    '{"name":"x","name":"y"}', '[]', '[{}]', '{"events":{}}', '{"events":"x"}', '{"data":[]}', '{"topic":1,"data":{}}',
  ),
  fc.integer({ min: 200, max: 5000 }).map((n) => deep(n, '[', ']')),
  fc.integer({ min: 200, max: 5000 }).map((n) => deep(n, '{"a":', '}')),
  fc.integer({ min: 1, max: 4 }).map((k) => JSON.stringify({ name: 'z'.repeat(k * 400_000) })),
  fc.constant(JSON.stringify({ events: Array.from({ length: 5000 }, () => ({ topic: 'order_create', data: {} })) })),
  fc.constant(JSON.stringify({ topic: 'order_create', data: { big: Array.from({ length: 100_000 }, (_, i) => i) } })),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
);

/** Well-formed JSON of roughly the right shape, with wrong types and odd values. */
const oddValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', '\u202e', '💩'.repeat(300), 'x'.repeat(70_000), -1, 0, 1.5, 1e308, -0, true, null, [], {}, [[[]]]),
);
const shapedBody = fc
  .record(
    {
      name: oddValue, uri: oddValue, id: oddValue, topic: fc.oneof(oddValue, fc.constantFrom('order_create', 'delivery.failed')), url: oddValue,
      secret: oddValue, prefix: oddValue, filter: oddValue, headers: oddValue, description: oddValue, enabled: oddValue, rate_limit: oddValue,
      data: oddValue, events: fc.oneof(oddValue, fc.array(fc.record({ topic: oddValue, data: oddValue }, { requiredKeys: [] }), { maxLength: 3 })),
      since: oddValue, until: oddValue, grace_seconds: oddValue, label: oddValue, sample: oddValue, extra: oddValue,
    },
    { requiredKeys: [] },
  )
  .map((o) => JSON.stringify(o));

const CONTENT_TYPES = [
  'application/json', 'application/json; charset=utf-8', 'APPLICATION/JSON', 'text/plain', 'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x', 'application/xml', 'application/json-patch+json', 'application/octet-stream', '*/*', 'json', ';',
  'application/json; charset=latin1', 'application/json; charset=utf-16',
];

function fill(template: string, ws: string, id: string): string {
  return template.replace('{ws}', ws).replace('{id}', id);
}

// ---- properties ------------------------------------------------------------------------------

describe('bad input never gets a 5xx, and a 4xx stores nothing', { timeout: 180_000 }, () => {
  it('path tricks in ids', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...TEMPLATES), pathId, pathId, fc.boolean(), async ([method, template], a, b, realWs) => {
        // Either both ids are junk, or the workspace is real and the other id is junk (never
        // both real: a DELETE would remove the fixtures).
        const path = fill(template, realWs && template.includes('{id}') ? ids.ws : a, b);
        const body = method === 'GET' || method === 'DELETE' ? undefined : '{}';
        await check({ method, path, headers: { ...admin(), ...(body ? { 'content-type': 'application/json' } : {}) }, body });
      }),
      { numRuns: RUNS },
    );
  });

  it('malformed and extreme bodies on every route that takes one', async () => {
    const targets = [['POST', '/api/v1/workspaces'], ['POST', '/api/v1/topics'], ['POST', '/api/v1/filters/test'], ...TEMPLATES.filter(([m]) => m === 'POST' || m === 'PATCH')];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets), junkBody, fc.constantFrom('application/json', 'application/json', ...CONTENT_TYPES), async ([method, template], body, type) => {
        await check({ method, path: fill(template, ids.ws, template.includes('/events/') ? ids.event : template.includes('/deliveries/') ? ids.delivery : ids.webhook), headers: { ...admin(), 'content-type': type }, body });
      }),
      { numRuns: RUNS },
    );
  });

  it('well-formed JSON with wrong types, odd unicode, huge strings and arrays', async () => {
    const targets = [['POST', '/api/v1/workspaces'], ['POST', '/api/v1/topics'], ['POST', '/api/v1/filters/test'], ...TEMPLATES.filter(([m]) => m === 'POST' || m === 'PATCH')];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets), shapedBody, fc.boolean(), async ([method, template], body, asWorkspace) => {
        if (template === '/api/v1/workspaces/{ws}' && method === 'PATCH' && body.includes('webhooks_enabled')) return;
        const id = template.includes('/events/') ? ids.event : template.includes('/deliveries/') ? ids.delivery : ids.webhook;
        const auth = asWorkspace ? { authorization: `Bearer ${wsKey}` } : admin();
        await check({ method, path: fill(template, ids.ws, id), headers: { ...auth, 'content-type': 'application/json' }, body });
      }),
      { numRuns: RUNS },
    );
  });

  it('odd query strings and headers', async () => {
    const lists = ['/api/v1/workspaces', `/api/v1/workspaces/{ws}/webhooks`, `/api/v1/workspaces/{ws}/events`, `/api/v1/workspaces/{ws}/deliveries`, `/api/v1/workspaces/{ws}/keys`];
    const param = fc.oneof(fc.constantFrom('limit', 'cursor', 'topic', 'status', 'webhook_id', 'event_id', 'x', 'limit[]', '__proto__'), fc.string({ maxLength: 10 }));
    const value = fc.oneof(
      fc.constantFrom('0', '-1', '501', '1e3', '50.5', '', '9'.repeat(30), 'cA', 'cDk5OTk5OTk5OTk5OTk5OTk5OTk5', '%00', 'pending', 'PENDING', 'x'.repeat(3000)),
      fc.string({ unit: 'binary', maxLength: 40 }),
    );
    const query = fc.array(fc.tuple(param, value), { maxLength: 4 }).map((pairs) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&'));
    const headerValue = fc.oneof(fc.string({ unit: 'grapheme-ascii', maxLength: 300 }).filter((v) => !/[\r\n\0]/.test(v)), fc.constant('x'.repeat(300)));
    const authHeader = fc.oneof(
      fc.constant(`Bearer ${'k'}`), fc.constant('Bearer'), fc.constant('Basic YWRtaW46YWRtaW4='), fc.constant(`bearer ${'a'.repeat(5000)}`),
      headerValue.map((v) => `Bearer ${v}`), fc.constant(''),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...lists), query, fc.option(authHeader), headerValue, async (template, q, auth, idem) => {
        const headers: Record<string, string> = { ...(auth === null ? admin() : { authorization: auth }), 'idempotency-key': idem };
        await check({ method: 'GET', path: `${fill(template, ids.ws, '')}?${q}`, headers });
        await check({
          method: 'POST', path: `/api/v1/workspaces/${ids.ws}/events`, headers: { ...admin(), 'content-type': 'application/json', 'idempotency-key': idem },
          body: JSON.stringify({ topic: 'no_such_topic', data: { q } }),
        });
      }),
      { numRuns: RUNS },
    );
  });

  it('is still healthy afterwards, and every fixture is intact', async () => {
    assert.equal((await h.api('GET', '/healthz', undefined, null)).status, 200);
    assert.equal((await h.api('GET', '/readyz', undefined, null)).status, 200);
    assert.equal((await h.api('GET', `/api/v1/workspaces/${ids.ws}/webhooks/${ids.webhook}`)).status, 200);
    assert.equal((await h.api('GET', `/api/v1/workspaces/${ids.ws}/events/${ids.event}`)).status, 200);
  });
});
