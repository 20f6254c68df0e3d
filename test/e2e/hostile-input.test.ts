// Input that used to get through to the database or to receivers, on both stores: a NUL in a
// path, query or body string (PostgreSQL refuses it: a 500), header values that can never be
// sent, a javascript: business URI, __proto__ keys, oversized requests and headers, and the
// /docs page's policy and redirect.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import pg from 'pg';
import { createWorkspace, startHerald, type TestHerald } from '../helpers/herald.js';
import { DATABASE_URL, unreachable } from '../helpers/postgres.js';
import { DOCS_CSP } from '../../src/api/openapi.js';

const reason = await unreachable();
const schema = `herald_input_${randomBytes(4).toString('hex')}`;
const heralds: TestHerald[] = [];
after(async () => {
  for (const h of heralds) await h.stop();
  if (reason === null) {
    const admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
});

/** The status and first field error of an answer. */
function refusal(res: { status: number; body: any }): [number, string | undefined] {
  return [res.status, res.body?.errors?.[0]?.path];
}

/** Sends raw bytes and reads the whole answer (the server closes the connection after it). */
function rawRequest(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.write(request));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk) => (answer += chunk));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

for (const store of ['sqlite', 'postgres'] as const) {
  const skip = store === 'postgres' && reason !== null && process.env.CI !== 'true' ? `PostgreSQL is unreachable: ${reason}` : false;
  describe(`hostile input (${store})`, { skip }, () => {
    let h: TestHerald;
    let w: string;
    it('starts', async () => {
      h = await startHerald(store === 'postgres' ? { databaseUrl: DATABASE_URL, databaseSchema: schema } : {});
      heralds.push(h);
      w = `/api/v1/workspaces/${(await createWorkspace(h)).id}`;
    });

    it('a NUL in a path id, a query or a body string is a 400 naming it, never a 500', async () => {
      const cases: [string, string, unknown, string][] = [
        ['GET', '/api/v1/workspaces/a%00b', undefined, 'params.ws'],
        ['GET', `${w}/webhooks/a%00b`, undefined, 'params.id'],
        ['POST', `${w}/deliveries/a%00/retry`, undefined, 'params.id'],
        ['GET', `${w}/events?topic=%00`, undefined, 'query.topic'],
        ['GET', `${w}/webhooks?topic=a%00`, undefined, 'query.topic'],
        ['GET', `${w}/deliveries?webhook_id=a%00b`, undefined, 'query.webhook_id'],
        ['GET', `${w}/deliveries?event_id=%00`, undefined, 'query.event_id'],
        ['GET', `${w}/events?cursor=%00`, undefined, 'query.cursor'],
        ['POST', `${w}/events/batch`, { events: [{ topic: 'walletreward_create', data: {} }, { topic: 'wallet\u0000', data: {} }] }, 'events[1].topic'],
        ['POST', `${w}/events`, { topic: 'walletreward_create', data: {}, id: 'a\u0000' }, 'id'],
        ['POST', `${w}/webhooks`, { topic: 'walletreward_create', url: 'https://x.example', headers: { 'x-a': 'b\u0000' } }, 'headers.x-a'],
        ['PATCH', w, { name: 'n', uri: 'https://x.example/\u0000' }, 'uri'],
      ];
      for (const [method, path, body, field] of cases) {
        const res = await h.api(method, path, body);
        assert.deepEqual(refusal(res), [400, field], `${method} ${path}: ${res.text}`);
      }
      // A NUL inside event data is JSON, stored escaped: it is published and read back as sent.
      const ok = await h.api('POST', `${w}/events`, { topic: 'walletreward_create', data: { note: 'a\u0000b' } });
      assert.equal(ok.status, 202, ok.text);
      assert.equal((await h.api('GET', `${w}/events/${ok.body.id}`)).body.data.note, 'a\u0000b');
    });

    it('refuses header values that can never be sent, naming headers.<name>', async () => {
      for (const value of ['日本', 'a\u0001b', 'line\r\nbreak', 'tab\u007f', 'a\nb']) {
        const res = await h.api('POST', `${w}/webhooks`, { topic: 'walletreward_create', url: 'https://x.example', headers: { 'x-custom': value } });
        assert.deepEqual(refusal(res), [400, 'headers.x-custom'], `${JSON.stringify(value)}: ${res.text}`);
      }
      const latin1 = await h.api('POST', `${w}/webhooks`, { topic: 'walletreward_create', url: 'https://x.example', headers: { 'x-custom': 'café\tau lait' } });
      assert.equal(latin1.status, 201, latin1.text);
      const patched = await h.api('PATCH', `${w}/webhooks/${latin1.body.id}`, { headers: { 'x-custom': '日本' } });
      assert.deepEqual(refusal(patched), [400, 'headers.x-custom']);
    });

    it('takes only http and https URIs as a workspace uri', async () => {
      for (const uri of ['javascript:alert(1)', 'JAVASCRIPT:alert(1)', 'data:text/html,<script>alert(1)</script>', 'file:///etc/passwd', 'not a uri', '']) {
        const created = await h.api('POST', '/api/v1/workspaces', { name: 'x', uri });
        assert.deepEqual(refusal(created), [400, 'uri'], `${uri}: ${created.text}`);
        assert.deepEqual(refusal(await h.api('PATCH', w, { uri })), [400, 'uri'], uri);
      }
      assert.equal((await h.api('PATCH', w, { uri: 'http://shop.example/a?b=c' })).status, 200);
      assert.equal((await h.api('PATCH', w, { uri: null })).status, 200);
    });

    it('refuses __proto__ keys saying what and why', async () => {
      for (const [body, path] of [
        ['{"topic":"walletreward_create","data":{"__proto__":{"admin":true}}}', 'data.__proto__'],
        ['{"topic":"walletreward_create","data":{"a":[{"constructor":{"prototype":{"x":1}}}]}}', 'data.a[0].constructor'],
        ['{"topic":"walletreward_create","data":{"\\u005f_proto__":1}}', 'data.__proto__'],
      ] as const) {
        const res = await h.api('POST', `${w}/events`, body, undefined, { raw: true });
        assert.equal(res.status, 400, res.text);
        assert.match(res.body.detail, /Herald refuses "__proto__" keys, and "constructor" keys holding "prototype", anywhere in a body, because they can change the prototype/);
        assert.deepEqual(res.body.errors, [{ path, message: 'is a prototype key, which Herald refuses' }]);
      }
      // Plain keys of those names are data like any other.
      const plain = await h.api('POST', `${w}/events`, '{"topic":"walletreward_create","data":{"constructor":"c","proto":1}}', undefined, { raw: true });
      assert.equal(plain.status, 202, plain.text);
      const broken = await h.api('POST', `${w}/events`, '{"topic":', undefined, { raw: true });
      assert.equal(broken.status, 400);
      assert.match(broken.body.detail, /^the body is not valid JSON: /);
    });

    it('says the limit in a 413, and answers headers that are too large with problem+json', async () => {
      const big = await h.api('POST', `${w}/events`, { topic: 'walletreward_create', data: { blob: 'x'.repeat(2 * 1024 * 1024) } });
      assert.equal(big.status, 413);
      assert.match(big.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.match(big.body.detail, /larger than 327680 bytes.*HERALD_MAX_PAYLOAD_BYTES = 262144 bytes/);
      const data = await h.api('POST', `${w}/events`, { topic: 'walletreward_create', data: { blob: 'x'.repeat(270_000) } });
      assert.equal(data.status, 413);
      assert.match(data.body.detail, /larger than 262144 \(HERALD_MAX_PAYLOAD_BYTES\)/);

      const answer = await rawRequest(h.url, `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
      const [head, body] = answer.split('\r\n\r\n');
      assert.match(head!, /^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
      assert.match(head!, /\r\nContent-Type: application\/problem\+json\r\n/i);
      const problem = JSON.parse(body!);
      assert.equal(problem.status, 431);
      assert.match(problem.detail, /headers are larger than \d+ bytes/);
      const garbage = await rawRequest(h.url, 'NOT HTTP AT ALL\r\n\r\n');
      assert.match(garbage, /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*"status":400/);
    });

    it('/docs has a CSP, and /docs/static/index.html?configUrl=… redirects once to /docs/', async () => {
      const docs = await fetch(`${h.url}/docs/`);
      assert.equal(docs.status, 200);
      assert.equal(docs.headers.get('content-security-policy'), DOCS_CSP);
      assert.equal(docs.headers.get('x-content-type-options'), 'nosniff');
      for (const path of ['/docs/static/index.html?configUrl=https://evil.example/x.json', '/docs/static/index.html', '/docs/?url=https://evil.example/o.json', '/docs?configUrl=x']) {
        const res = await fetch(`${h.url}${path}`, { redirect: 'manual' });
        assert.equal(res.status, 302, path);
        assert.equal(res.headers.get('location'), '/docs/', path);
      }
      const followed = await fetch(`${h.url}/docs/static/index.html?configUrl=https://evil.example/x.json`);
      assert.equal(followed.status, 200);
      assert.equal(new URL(followed.url).pathname, '/docs/');
    });
  });
}
