// Bad input, field by field: always a 4xx application/problem+json whose errors[].path names
// the field, never a 5xx, and nothing of a refused request stored.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  createWebhook, createWorkspace, publish, startHerald, type ApiResponse, type TestHerald,
} from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const MAX_PAYLOAD = 4096;
let h: TestHerald;
let r: Receiver;

before(async () => {
  h = await startHerald({ maxPayloadBytes: MAX_PAYLOAD });
  r = await startReceiver();
});
after(async () => {
  await h?.stop();
  await r?.close();
});

/** A problem answer with this status whose errors name `path` (exactly, or as a prefix when it ends with '*'). */
function refused(res: ApiResponse, status: number, path?: string) {
  const where = `${res.status} ${res.text.slice(0, 400)}`;
  assert.equal(res.status, status, where);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, where);
  assert.equal(res.body.status, status, where);
  assert.equal(typeof res.body.title, 'string', where);
  assert.equal(typeof res.body.type, 'string', where);
  assert.equal(typeof res.body.detail, 'string', where);
  if (path !== undefined) {
    assert.ok(Array.isArray(res.body.errors) && res.body.errors.length > 0, `no errors[] in ${where}`);
    const paths: string[] = res.body.errors.map((e: any) => e.path);
    const ok = path.endsWith('*') ? paths.some((p) => p.startsWith(path.slice(0, -1))) : paths.includes(path);
    assert.ok(ok, `expected an error at ${path}, got ${JSON.stringify(res.body.errors)}`);
    for (const e of res.body.errors) assert.equal(typeof e.message, 'string');
  }
}

async function count(path: string): Promise<number> {
  const res = await h.api('GET', `${path}${path.includes('?') ? '&' : '?'}limit=500`);
  assert.equal(res.status, 200);
  return res.body.data.length;
}

describe('workspaces', () => {
  it('refuses each bad field of POST /workspaces and stores nothing', async () => {
    await createWorkspace(h, { id: 'taken', enabled: false });
    const before = await count('/api/v1/workspaces');
    const cases: [unknown, number, string][] = [
      [{}, 400, 'name'],
      [{ name: '' }, 400, 'name'],
      [{ name: 'x'.repeat(201) }, 400, 'name'],
      [{ name: 123 }, 400, 'name'],
      [{ name: null }, 400, 'name'],
      [{ name: ['a'] }, 400, 'name'],
      [{ name: 'ok', uri: 5 }, 400, 'uri'],
      [{ name: 'ok', uri: 'x'.repeat(2049) }, 400, 'uri'],
      [{ name: 'ok', id: 'has space' }, 400, 'id'],
      [{ name: 'ok', id: 'a/b' }, 400, 'id'],
      [{ name: 'ok', id: '' }, 400, 'id'],
      [{ name: 'ok', id: 'x'.repeat(65) }, 400, 'id'],
      [{ name: 'ok', id: 42 }, 400, 'id'],
      [{ name: 'ok', webhooks_enabled: true, colour: 'blue' }, 400, '*'],
      [{ name: 'ok', id: 'taken' }, 409, 'id'],
      [[], 400, '*'],
      ['just a string', 400, '*'],
    ];
    for (const [body, status, path] of cases) {
      const res = await h.api('POST', '/api/v1/workspaces', body);
      refused(res, status, path === '*' ? undefined : path);
    }
    assert.equal(await count('/api/v1/workspaces'), before);
  });

  it('refuses bad PATCH fields and leaves the workspace as it was', async () => {
    const ws = await createWorkspace(h, { enabled: false });
    const cases: [unknown, string][] = [
      [{ webhooks_enabled: 'yes' }, 'webhooks_enabled'],
      [{ webhooks_enabled: 1 }, 'webhooks_enabled'],
      [{ name: '' }, 'name'],
      [{ name: 'x'.repeat(201) }, 'name'],
      [{ uri: 7 }, 'uri'],
      [{ id: 'new-id' }, 'id'],
    ];
    for (const [body, path] of cases) refused(await h.api('PATCH', `/api/v1/workspaces/${ws.id}`, body), 400, path);
    const now = await h.api('GET', `/api/v1/workspaces/${ws.id}`);
    assert.deepEqual(now.body, ws);
  });
});

describe('webhooks', () => {
  it('refuses each bad field of POST …/webhooks and stores nothing', async () => {
    const ws = await createWorkspace(h);
    const url = r.at('/ok');
    const base = { topic: 'walletreward_create', url };
    const cases: [Record<string, unknown>, string][] = [
      [{ url }, 'topic'],
      [{ ...base, topic: 'no_such_topic' }, 'topic'],
      [{ ...base, topic: 7 }, 'topic'],
      [{ topic: 'walletreward_create' }, 'url'],
      [{ ...base, url: '/relative/path' }, 'url'],
      [{ ...base, url: 'hooks.example.com/x' }, 'url'],
      [{ ...base, url: 'ftp://files.example.com/x' }, 'url'],
      [{ ...base, url: 'javascript:alert(1)' }, 'url'],
      [{ ...base, url: 'not a url' }, 'url'],
      [{ ...base, url: '' }, 'url'],
      [{ ...base, url: 'http://127.0.0.1:9/' + 'a'.repeat(2040) }, 'url'],
      [{ ...base, url: 'http://user:pw@127.0.0.1:9/x' }, 'url'],
      [{ ...base, url: 42 }, 'url'],
      [{ ...base, secret: '' }, 'secret'],
      [{ ...base, secret: 5 }, 'secret'],
      [{ ...base, prefix: 'shop 1' }, 'prefix'],
      [{ ...base, prefix: 'shop/1' }, 'prefix'],
      [{ ...base, prefix: 'ünï' }, 'prefix'],
      [{ ...base, prefix: 'p'.repeat(65) }, 'prefix'],
      [{ ...base, filter: { amount: { $gtx: 1 } } }, 'filter.amount.$gtx'],
      [{ ...base, filter: { $or: [] } }, 'filter.$or'],
      [{ ...base, filter: { a: { $regex: '[' } } }, 'filter.a.$regex'],
      [{ ...base, filter: [] }, 'filter'],
      [{ ...base, filter: 'amount > 5' }, 'filter'],
      [{ ...base, headers: { 'webhook-id': 'x' } }, 'headers.webhook-id'],
      [{ ...base, headers: { 'Webhook-Signature': 'v1,forged' } }, 'headers.Webhook-Signature'],
      [{ ...base, headers: { 'x-nector-topic': 'forged' } }, 'headers.x-nector-topic'],
      [{ ...base, headers: { 'X-Nector-Webhook-Hmac': 'forged' } }, 'headers.X-Nector-Webhook-Hmac'],
      [{ ...base, headers: { connection: 'close' } }, 'headers.connection'],
      [{ ...base, headers: { 'transfer-encoding': 'chunked' } }, 'headers.transfer-encoding'],
      [{ ...base, headers: { host: 'evil.example' } }, 'headers.host'],
      [{ ...base, headers: { 'content-type': 'text/plain' } }, 'headers.content-type'],
      [{ ...base, headers: { 'user-agent': 'me' } }, 'headers.user-agent'],
      [{ ...base, headers: { 'bad header': 'x' } }, 'headers.bad header'],
      [{ ...base, headers: { 'x-ok': 5 } }, 'headers.x-ok'],
      [{ ...base, headers: { 'x-ok': 'a\r\nx-injected: 1' } }, 'headers.x-ok'],
      [{ ...base, headers: 'x-ok: 1' }, 'headers'],
      [{ ...base, enabled: 'true' }, 'enabled'],
      [{ ...base, description: 'd'.repeat(1025) }, 'description'],
      [{ ...base, colour: 'blue' }, 'colour'],
    ];
    for (const [body, path] of cases) {
      refused(await h.api('POST', `/api/v1/workspaces/${ws.id}/webhooks`, body), 400, path);
    }
    assert.equal(await count(`/api/v1/workspaces/${ws.id}/webhooks`), 0);
    // Nothing was stored, so nothing is delivered.
    assert.equal((await publish(h, ws.id, 'walletreward_create', { n: 1 })).deliveries, 0);
  });

  it('refuses bad PATCH fields and leaves the webhook as it was', async () => {
    const ws = await createWorkspace(h);
    const wh = await createWebhook(h, ws.id, { url: r.at('/patch-me'), prefix: 'p_', headers: { 'x-a': '1' } });
    const cases: [Record<string, unknown>, string][] = [
      [{ url: '/relative' }, 'url'],
      [{ url: 'mailto:ops@example.com' }, 'url'],
      [{ topic: 'nope' }, 'topic'],
      [{ prefix: 'has space' }, 'prefix'],
      [{ filter: { x: { $in: 3 } } }, 'filter.x.$in'],
      [{ headers: { 'webhook-timestamp': '1' } }, 'headers.webhook-timestamp'],
      [{ headers: { 'keep-alive': 'timeout=5' } }, 'headers.keep-alive'],
      [{ enabled: null }, 'enabled'],
      [{ secret: '' }, 'secret'],
      [{ id: 'wh_other' }, 'id'],
      // One bad field refuses the whole patch, good fields included.
      [{ prefix: 'fine_', url: 'ftp://x.example' }, 'url'],
    ];
    for (const [body, path] of cases) {
      refused(await h.api('PATCH', `/api/v1/workspaces/${ws.id}/webhooks/${wh.id}`, body), 400, path);
    }
    assert.deepEqual((await h.api('GET', `/api/v1/workspaces/${ws.id}/webhooks/${wh.id}`)).body, wh);
  });

  it('refuses private and loopback targets unless HERALD_ALLOW_PRIVATE_TARGETS', async () => {
    const strict = await startHerald({ allowPrivateTargets: false });
    try {
      const ws = await createWorkspace(strict);
      for (const url of ['http://127.0.0.1:8080/x', 'http://localhost/x', 'http://10.1.2.3/x', 'http://[::1]/x', 'http://169.254.169.254/latest', 'http://192.168.0.10/']) {
        const res = await strict.api('POST', `/api/v1/workspaces/${ws.id}/webhooks`, { topic: 'walletreward_create', url });
        refused(res, 400, 'url');
      }
      const list = await strict.api('GET', `/api/v1/workspaces/${ws.id}/webhooks`);
      assert.deepEqual(list.body.data, []);
    } finally {
      await strict.stop();
    }
  });

  it('refuses bad input to test, recover and secret rotation', async () => {
    const ws = await createWorkspace(h);
    const wh = await createWebhook(h, ws.id, { url: r.at('/misc') });
    const base = `/api/v1/workspaces/${ws.id}/webhooks/${wh.id}`;
    refused(await h.api('POST', `${base}/test`, { data: [] }), 400, 'data');
    refused(await h.api('POST', `${base}/test`, { data: 'x' }), 400, 'data');
    refused(await h.api('POST', `${base}/test`, { other: 1 }), 400, 'other');
    refused(await h.api('POST', `${base}/recover`, {}), 400, 'since');
    refused(await h.api('POST', `${base}/recover`, { since: 'last tuesday' }), 400, 'since');
    refused(await h.api('POST', `${base}/recover`, { since: 12345 }), 400, 'since');
    refused(await h.api('POST', `${base}/recover`, { since: new Date().toISOString(), until: 'soon' }), 400, 'until');
    refused(await h.api('POST', `${base}/secret/rotate`, { grace_seconds: -1 }), 400, 'grace_seconds');
    refused(await h.api('POST', `${base}/secret/rotate`, { grace_seconds: 'a day' }), 400, 'grace_seconds');
    refused(await h.api('POST', `${base}/secret/rotate`, { secret: '' }), 400, 'secret');
    await h.idle();
    assert.equal(r.received('/misc').length, 0, 'no test send went out');
  });
});

describe('events', () => {
  it('refuses each bad field of POST …/events and stores nothing', async () => {
    const ws = await createWorkspace(h);
    await createWebhook(h, ws.id, { url: r.at('/events-bad') });
    const path = `/api/v1/workspaces/${ws.id}/events`;
    const cases: [unknown, number, string | undefined][] = [
      [{ topic: 'walletreward_create' }, 400, 'data'],
      [{ topic: 'walletreward_create', data: 'hello' }, 400, 'data'],
      [{ topic: 'walletreward_create', data: [1, 2] }, 400, 'data'],
      [{ topic: 'walletreward_create', data: null }, 400, 'data'],
      [{ topic: 'walletreward_create', data: 5 }, 400, 'data'],
      [{ data: {} }, 400, 'topic'],
      [{ topic: 'not_a_topic', data: {} }, 400, 'topic'],
      [{ topic: '', data: {} }, 400, 'topic'],
      [{ topic: ['walletreward_create'], data: {} }, 400, 'topic'],
      [{ topic: 'walletreward_create', data: {}, id: 'has space' }, 400, 'id'],
      [{ topic: 'walletreward_create', data: {}, id: 'x'.repeat(65) }, 400, 'id'],
      [{ topic: 'walletreward_create', data: {}, id: 17 }, 400, 'id'],
      [{ topic: 'walletreward_create', data: {}, extra: true }, 400, 'extra'],
      [{ topic: 'walletreward_create', data: { blob: 'x'.repeat(MAX_PAYLOAD) } }, 413, 'data'],
      [[{ topic: 'walletreward_create', data: {} }], 400, undefined],
    ];
    for (const [body, status, field] of cases) refused(await h.api('POST', path, body), status, field);

    // Far over every limit: refused before it is read, still a 413 problem.
    refused(await h.api('POST', path, { topic: 'walletreward_create', data: { blob: 'x'.repeat(2 * 1024 * 1024) } }), 413);
    // Malformed JSON, an empty body, the wrong content type.
    refused(await h.api('POST', path, '{"topic": "walletreward_create", "data": {', undefined, { raw: true }), 400, 'body');
    refused(await h.api('POST', path, '', undefined, { raw: true }), 400);
    refused(await h.api('POST', path, 'topic=walletreward_create', undefined, { raw: true, headers: { 'content-type': 'application/x-www-form-urlencoded' } }), 415);
    refused(await h.api('POST', path, '{"topic":"walletreward_create","data":{}}', undefined, { raw: true, headers: { 'content-type': 'text/plain' } }), 415);
    refused(await h.api('POST', path, '<event/>', undefined, { raw: true, headers: { 'content-type': 'application/xml' } }), 415);
    // Nested deeper than any real payload (but small): refused as bad input, not a 500.
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    refused(await h.api('POST', path, `{"topic":"walletreward_create","data":${deep}}`, undefined, { raw: true }), 400, 'data*');
    refused(await h.api('POST', `${path}/batch`, `{"events":[{"topic":"walletreward_create","data":${deep}}]}`, undefined, { raw: true }), 400, 'events[0].data*');
    // A bad Idempotency-Key.
    refused(await h.api('POST', path, { topic: 'walletreward_create', data: {} }, undefined, { headers: { 'Idempotency-Key': 'k'.repeat(256) } }), 400, 'headers.idempotency-key');

    assert.equal(await count(path), 0);
    await h.idle();
    assert.equal(r.received('/events-bad').length, 0);
  });

  it('refuses a batch with any bad event, naming it, and stores none of the batch', async () => {
    const ws = await createWorkspace(h);
    const path = `/api/v1/workspaces/${ws.id}/events/batch`;
    const good = { topic: 'walletreward_create', data: { ok: true } };
    const cases: [unknown, number, string][] = [
      [{}, 400, 'events'],
      [{ events: [] }, 400, 'events'],
      [{ events: 'many' }, 400, 'events'],
      [{ events: [good, { topic: 'nope', data: {} }] }, 400, 'events[1].topic'],
      [{ events: [good, good, { topic: 'walletreward_create', data: [] }] }, 400, 'events[2].data'],
      [{ events: [{ topic: 'walletreward_create' }] }, 400, 'events[0].data'],
      [{ events: [good, { ...good, id: 'bad id' }] }, 400, 'events[1].id'],
      [{ events: [good, { ...good, extra: 1 }] }, 400, 'events[1].extra'],
      [{ events: [good, { topic: 'walletreward_create', data: { blob: 'x'.repeat(MAX_PAYLOAD) } }] }, 413, 'events[1].data'],
      [{ events: [good], more: 1 }, 400, 'more'],
    ];
    for (const [body, status, field] of cases) refused(await h.api('POST', path, body), status, field);
    assert.equal(await count(`/api/v1/workspaces/${ws.id}/events`), 0);
  });
});

describe('queries, topics, keys and filters', () => {
  it('refuses bad limit, cursor and filter parameters', async () => {
    const ws = await createWorkspace(h);
    for (const list of ['/api/v1/workspaces', `/api/v1/workspaces/${ws.id}/webhooks`, `/api/v1/workspaces/${ws.id}/events`, `/api/v1/workspaces/${ws.id}/deliveries`, `/api/v1/workspaces/${ws.id}/keys`]) {
      for (const limit of ['0', '501', '-1', 'abc', '1.5', '', '99999999999']) {
        refused(await h.api('GET', `${list}?limit=${encodeURIComponent(limit)}`), 400, 'query.limit');
      }
      for (const cursor of ['garbage', '!!', Buffer.from('p-1').toString('base64url'), Buffer.from('p' + '9'.repeat(20)).toString('base64url')]) {
        refused(await h.api('GET', `${list}?cursor=${encodeURIComponent(cursor)}`), 400, 'query.cursor');
      }
    }
    const bogus = await h.api('GET', `/api/v1/workspaces/${ws.id}/deliveries?status=done`);
    refused(bogus, 400);
    assert.ok(bogus.body.errors.some((e: any) => e.path.endsWith('status')), JSON.stringify(bogus.body));
    const unknown = await h.api('GET', `/api/v1/workspaces/${ws.id}/events?colour=blue`);
    refused(unknown, 400);
    assert.ok(unknown.body.errors.some((e: any) => e.path.endsWith('colour')), JSON.stringify(unknown.body));
  });

  it('refuses bad topics, keys and filter tests', async () => {
    const before = await count('/api/v1/topics');
    refused(await h.api('POST', '/api/v1/topics', {}), 400, 'name');
    refused(await h.api('POST', '/api/v1/topics', { name: 'Has Caps' }), 400, 'name');
    refused(await h.api('POST', '/api/v1/topics', { name: 'a'.repeat(129) }), 400, 'name');
    refused(await h.api('POST', '/api/v1/topics', { name: 'ok_topic', sample: [] }), 400, 'sample');
    refused(await h.api('POST', '/api/v1/topics', { name: 'ok_topic', label: '' }), 400, 'label');
    refused(await h.api('POST', '/api/v1/topics', { name: 'ok_topic', extra: 1 }), 400, 'extra');
    assert.equal(await count('/api/v1/topics'), before);

    const ws = await createWorkspace(h);
    refused(await h.api('POST', `/api/v1/workspaces/${ws.id}/keys`, { name: 5 }), 400, 'name');
    refused(await h.api('POST', `/api/v1/workspaces/${ws.id}/keys`, { name: 'n'.repeat(201) }), 400, 'name');
    refused(await h.api('POST', `/api/v1/workspaces/${ws.id}/keys`, { name: 'ok', scope: 'all' }), 400, 'scope');
    assert.equal(await count(`/api/v1/workspaces/${ws.id}/keys`), 0);

    refused(await h.api('POST', '/api/v1/filters/test', { data: {} }), 400, 'filter');
    refused(await h.api('POST', '/api/v1/filters/test', { filter: {} }), 400, 'data');
    refused(await h.api('POST', '/api/v1/filters/test', { filter: [], data: {} }), 400, 'filter');
    refused(await h.api('POST', '/api/v1/filters/test', { filter: { $where: 'x' }, data: {} }), 400, 'filter.$where');

    // Nesting deep enough to overflow a recursive walk: a 400 naming the field, not a 500.
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    refused(await h.api('POST', '/api/v1/topics', `{"name":"deep_sample","sample":${deep}}`, undefined, { raw: true }), 400, 'sample*');
    assert.equal(await count('/api/v1/topics'), before);
    const wh = await createWebhook(h, ws.id, { url: r.at('/deep') });
    refused(await h.api('POST', `/api/v1/workspaces/${ws.id}/webhooks`, `{"topic":"walletreward_create","url":"${r.at('/deep')}","filter":${deep}}`, undefined, { raw: true }), 400, 'filter*');
    refused(await h.api('PATCH', `/api/v1/workspaces/${ws.id}/webhooks/${wh.id}`, `{"filter":${deep}}`, undefined, { raw: true }), 400, 'filter*');
    refused(await h.api('POST', `/api/v1/workspaces/${ws.id}/webhooks/${wh.id}/test`, `{"data":${deep}}`, undefined, { raw: true }), 400, 'data*');
    refused(await h.api('POST', '/api/v1/filters/test', `{"filter":{"a":1},"data":${deep}}`, undefined, { raw: true }), 400, 'data*');
    // A payload nested a few dozen levels is fine.
    const fine = '{"a":'.repeat(60) + '1' + '}'.repeat(60);
    assert.equal((await h.api('POST', `/api/v1/workspaces/${ws.id}/events`, `{"topic":"walletreward_create","data":${fine}}`, undefined, { raw: true })).status, 202);
    await r.waitFor(1, { path: '/deep' });
  });

  it('answers odd input anywhere with a 4xx, never a 5xx', async () => {
    const ws = await createWorkspace(h);
    const wh = await createWebhook(h, ws.id, { url: r.at('/odd') });
    const w = `/api/v1/workspaces/${ws.id}`;
    const routes: [string, string][] = [
      ['POST', '/api/v1/workspaces'], ['PATCH', w], ['POST', `${w}/keys`], ['POST', `${w}/webhooks`],
      ['PATCH', `${w}/webhooks/${wh.id}`], ['POST', `${w}/webhooks/${wh.id}/recover`], ['POST', `${w}/webhooks/${wh.id}/secret/rotate`],
      ['POST', `${w}/events`], ['POST', `${w}/events/batch`], ['POST', '/api/v1/topics'], ['POST', '/api/v1/filters/test'],
    ];
    // Nesting deep enough to overflow a recursive walk (JSON.stringify, a validator, a filter).
    const deep = '{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000);
    const bodies: string[] = [
      'null', '[]', '"text"', '42', 'true', '{}', '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}',
      '{"name":"\\u0000"}', '{"topic":"walletreward_create","data":{"a":"\\ud800"}}', deep, '{"a":1,"a":2}',
      `{"name":"deep","topic":"walletreward_create","data":${deep},"filter":${deep},"sample":${deep},"headers":${deep}}`,
      '{"filter":{"a":{"$regex":"(a+)+$"}},"data":{"a":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"}}',
      '{"topic":"walletreward_create","data":{"n":1e400}}', '\u00ff\u00fe', '{"name":' + '['.repeat(10000) + ']'.repeat(10000) + '}',
    ];
    for (const [method, path] of routes) {
      for (const body of bodies) {
        const res = await h.api(method, path, body, undefined, { raw: true });
        assert.ok(res.status < 500, `${method} ${path} with ${body.slice(0, 60)} answered ${res.status}: ${res.text.slice(0, 200)}`);
      }
    }
    // Odd path parameters.
    for (const id of ['%00', 'x'.repeat(300), '..%2F..%2Fetc', '%E0%A4%A', "'; DROP TABLE events; --"]) {
      for (const path of [`/api/v1/workspaces/${id}`, `${w}/webhooks/${id}`, `${w}/events/${id}`, `${w}/deliveries/${id}`, `${w}/deliveries/${id}/retry`]) {
        const res = await h.api(path.endsWith('retry') ? 'POST' : 'GET', path);
        assert.ok(res.status >= 400 && res.status < 500, `${path} answered ${res.status}`);
      }
    }
    assert.equal((await h.api('GET', '/healthz', undefined, null)).status, 200);
  });
});
