// The portal's API (CONTRACT section 6): portal sessions made with the admin key, their links
// opened once, the session credential held to its workspace (and to reading, for `view`),
// expired, revoked and used links and sessions refused with 401, every bad input a 400 naming
// the field, the /portal page's frame-ancestors, and nothing of a token in the server's log.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { createHerald, type Herald } from '../../src/herald.js';
import { loadConfig } from '../../src/config.js';
import type { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { ADMIN_KEY, TEST_DEFAULTS, makeApi, type Api, type ApiResponse } from '../helpers/herald.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';

const HOST_ORIGIN = 'https://app.loyalty.example';
let dir: string;
let herald: Herald;
let api: Api;
let url: string;
let r: Receiver;
const logLines: string[] = [];
/** Every link token and credential handed out, none of which may reach the log. */
const secrets: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'herald-portal-'));
  r = await startReceiver();
  // The most talkative log there is, captured: the tokens must appear nowhere in it.
  const logger = pino({ level: 'trace' }, { write: (line: string) => void logLines.push(line) });
  herald = await createHerald(loadConfig({}, {}, { ...TEST_DEFAULTS, dataDir: dir, frameAncestors: [HOST_ORIGIN, 'http://127.0.0.1:3000'] }), { logger });
  url = (await herald.start())!;
  api = makeApi(url, ADMIN_KEY);
  for (const id of ['acme', 'other']) {
    assert.equal((await api('POST', '/api/v1/workspaces', { id, name: `Shop ${id}` })).status, 201);
  }
});
after(async () => {
  await herald?.stop();
  await r?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function problem(res: ApiResponse, status: number, what: string, detail?: RegExp) {
  assert.equal(res.status, status, `${what}: ${res.status} ${res.text.slice(0, 300)}`);
  assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/, what);
  if (detail) assert.match(res.body.detail, detail, what);
}

async function createSession(body: unknown = {}, ws = 'acme') {
  const res = await api('POST', `/api/v1/workspaces/${ws}/portal-sessions`, body);
  assert.equal(res.status, 201, res.text);
  const token = new URL(res.body.url).hash.slice(1);
  secrets.push(token);
  return { ...res.body, token } as { id: string; url: string; access: string; expires_at: string; created_at: string; token: string };
}

async function exchange(token: string) {
  return api('POST', '/api/v1/portal/exchange', { token }, null);
}

/** A session's credential, from opening a new link. */
async function open(body: unknown = {}, ws = 'acme') {
  const s = await createSession(body, ws);
  const res = await exchange(s.token);
  assert.equal(res.status, 200, res.text);
  secrets.push(res.body.credential);
  return { ...s, credential: res.body.credential as string, cookie: res.headers.get('set-cookie') ?? '' };
}

function expireInDb(id: string) {
  (herald.store as SqliteStore).db.prepare('UPDATE portal_sessions SET expires_at = ? WHERE id = ?').run(Date.now() - 1000, id);
}

describe('portal sessions', () => {
  it('the admin key creates one: a ps_ id, a link to /portal with the token after #, manage and an hour by default', async () => {
    const before = Date.now();
    const s = await createSession();
    assert.match(s.id, /^ps_/);
    assert.equal(s.access, 'manage');
    assert.ok(s.url.startsWith(`${url}/portal#`), s.url);
    assert.match(s.token, /^[A-Za-z0-9_-]{40,}$/);
    const expires = Date.parse(s.expires_at) - Date.parse(s.created_at);
    assert.equal(expires, 3600_000);
    assert.ok(Date.parse(s.created_at) >= before - 1000);

    const week = await createSession({ access: 'view', expires_in: 604_800, theme: { name: 'Acme Loyalty', primary_color: '#0F766E', dark: true } });
    assert.equal(week.access, 'view');
    assert.equal(Date.parse(week.expires_at) - Date.parse(week.created_at), 604_800_000);

    // The list: newest first, no tokens, each with its state.
    const list = await api('GET', '/api/v1/workspaces/acme/portal-sessions');
    assert.equal(list.status, 200);
    assert.deepEqual(list.body.data.slice(0, 2).map((x: any) => x.id), [week.id, s.id]);
    assert.deepEqual(list.body.data[0].theme, { name: 'Acme Loyalty', primary_color: '#0f766e', dark: true });
    assert.equal(list.body.data[0].status, 'unopened');
    assert.ok(!list.text.includes(s.token) && !list.text.includes(week.token), 'no token in the list');
    assert.equal((await api('GET', '/api/v1/workspaces/other/portal-sessions')).body.data.length, 0);
  });

  it('HERALD_PUBLIC_URL makes the links', async () => {
    const dir2 = await mkdtemp(join(tmpdir(), 'herald-portal-url-'));
    const h2 = await createHerald(loadConfig({ HERALD_PUBLIC_URL: 'https://webhooks.example.com/' }, {}, { ...TEST_DEFAULTS, dataDir: dir2 }));
    try {
      const api2 = makeApi((await h2.start())!, ADMIN_KEY);
      await api2('POST', '/api/v1/workspaces', { id: 'w', name: 'W' });
      const res = await api2('POST', '/api/v1/workspaces/w/portal-sessions');
      assert.equal(res.status, 201, res.text);
      assert.match(res.body.url, /^https:\/\/webhooks\.example\.com\/portal#[A-Za-z0-9_-]+$/);
    } finally {
      await h2.stop();
      await rm(dir2, { recursive: true, force: true });
    }
  });

  it('bad input is a 400 naming the field, and nothing is stored', async () => {
    const count = async () => (await api('GET', '/api/v1/workspaces/acme/portal-sessions?limit=500')).body.data.length;
    const before = await count();
    const cases: [unknown, string][] = [
      [{ access: 'edit' }, 'access'],
      [{ expires_in: 59 }, 'expires_in'],
      [{ expires_in: 604_801 }, 'expires_in'],
      [{ expires_in: '3600' }, 'expires_in'],
      [{ expires_in: 60.5 }, 'expires_in'],
      [{ theme: 'dark' }, 'theme'],
      [{ theme: { name: 'x'.repeat(65) } }, 'theme.name'],
      [{ theme: { name: '' } }, 'theme.name'],
      [{ theme: { primary_color: 'red' } }, 'theme.primary_color'],
      [{ theme: { primary_color: '#12345g' } }, 'theme.primary_color'],
      [{ theme: { logo_url: 'http://cdn.example/logo.png' } }, 'theme.logo_url'],
      [{ theme: { logo_url: 'javascript:alert(1)' } }, 'theme.logo_url'],
      [{ theme: { logo_url: 'data:text/html,<script>1</script>' } }, 'theme.logo_url'],
      [{ theme: { logo_url: `data:image/png;base64,${'A'.repeat(64 * 1024)}` } }, 'theme.logo_url'],
      [{ theme: { dark: 'yes' } }, 'theme.dark'],
      [{ theme: { font: 'Comic Sans' } }, 'theme.font'],
      [{ role: 'admin' }, 'role'],
    ];
    for (const [body, field] of cases) {
      const res = await api('POST', '/api/v1/workspaces/acme/portal-sessions', body);
      problem(res, 400, JSON.stringify(body).slice(0, 80));
      assert.equal(res.body.errors?.[0]?.path, field, `${JSON.stringify(body).slice(0, 80)} names ${field}: ${res.text.slice(0, 200)}`);
    }
    // What is allowed: an https or data:image logo of up to 64 KiB.
    await createSession({ theme: { logo_url: 'https://cdn.example/logo.svg' } });
    await createSession({ theme: { logo_url: `data:image/svg+xml;base64,${'A'.repeat(60 * 1024)}` } });
    assert.equal(await count(), before + 2);
    problem(await api('POST', '/api/v1/workspaces/nope/portal-sessions', {}), 404, 'an unknown workspace');
  });

  it('only the admin key may create, list and revoke them', async () => {
    const key = (await api('POST', '/api/v1/workspaces/acme/keys', { name: 'k' })).body.key;
    const w = '/api/v1/workspaces/acme/portal-sessions';
    for (const [method, path] of [['POST', w], ['GET', w], ['DELETE', w], ['DELETE', `${w}/ps_x`]]) {
      problem(await api(method!, path!, method === 'POST' ? {} : undefined, key), 403, `${method} ${path} with a workspace key`);
      problem(await api(method!, path!, method === 'POST' ? {} : undefined, null), 401, `${method} ${path} without a key`);
    }
  });
});

describe('opening a link', () => {
  it('gives a credential once; the second opening answers 401 "already used"', async () => {
    const s = await createSession({ theme: { name: 'Acme Loyalty' } });
    const first = await exchange(s.token);
    assert.equal(first.status, 200, first.text);
    secrets.push(first.body.credential);
    assert.match(first.body.credential, /^hps_/);
    assert.equal(first.body.workspace_id, 'acme');
    assert.equal(first.body.access, 'manage');
    assert.deepEqual(first.body.theme, { name: 'Acme Loyalty' });
    assert.equal(first.body.expires_at, s.expires_at);
    assert.equal(first.headers.get('cache-control'), 'no-store');
    // The partitioned cookie that lets a framed page survive a reload.
    const cookie = first.headers.get('set-cookie') ?? '';
    assert.equal(first.body.session_id, s.id);
    for (const part of [`herald_portal_${s.id}=hps_`, 'Path=/api/v1/portal', 'HttpOnly', 'Secure', 'SameSite=None', 'Partitioned']) {
      assert.ok(cookie.includes(part), `the cookie has ${part}: ${cookie}`);
    }

    const second = await exchange(s.token);
    problem(second, 401, 'a used link', /already used/);
    assert.equal(second.body.type, 'urn:herald:problem:portal-link-used');
    const list = (await api('GET', '/api/v1/workspaces/acme/portal-sessions')).body.data;
    assert.equal(list.find((x: any) => x.id === s.id).status, 'open');
    assert.ok(list.find((x: any) => x.id === s.id).opened_at);

    problem(await exchange('hpl_not-a-link'), 401, 'an unknown link', /not valid/);
    problem(await api('POST', '/api/v1/portal/exchange', {}, null), 400, 'no token');
  });

  it('many openings at once: exactly one succeeds', async () => {
    const s = await createSession();
    const answers = await Promise.all(Array.from({ length: 10 }, () => exchange(s.token)));
    assert.deepEqual(answers.map((a) => a.status).sort(), [200, ...Array(9).fill(401)]);
    secrets.push(...answers.filter((a) => a.status === 200).map((a) => a.body.credential));
  });

  it('after a reload, /portal/resume gives the session back from the cookie', async () => {
    const s = await open();
    const cookie = s.cookie.split(';')[0]!;
    const resumed = await api('POST', '/api/v1/portal/resume', undefined, null, { headers: { cookie } });
    assert.equal(resumed.status, 200, resumed.text);
    assert.equal(resumed.body.credential, s.credential);
    assert.equal(resumed.body.workspace_id, 'acme');
    problem(await api('POST', '/api/v1/portal/resume', undefined, null), 401, 'no cookie');
    problem(await api('POST', '/api/v1/portal/resume', undefined, null, { headers: { cookie: `herald_portal_${s.id}=hps_forged` } }), 401, 'a forged cookie');
    // Named by the session id it answered with.
    const named = await api('POST', '/api/v1/portal/resume', { session: s.id }, null, { headers: { cookie } });
    assert.equal(named.status, 200, named.text);
    assert.equal(named.body.session_id, s.id);
    // The cookie authenticates nothing else.
    problem(await api('GET', '/api/v1/workspaces/acme', undefined, null, { headers: { cookie } }), 401, 'the cookie on another route');
  });

  it('a browser holding two sessions resumes the one it names (two tabs), and never another', async () => {
    const a = await open();
    const b = await open({}, 'acme');
    const both = [a.cookie.split(';')[0], b.cookie.split(';')[0]].join('; ');
    for (const s of [a, b]) {
      const resumed = await api('POST', '/api/v1/portal/resume', { session: s.id }, null, { headers: { cookie: both } });
      assert.equal(resumed.status, 200, resumed.text);
      assert.equal(resumed.body.credential, s.credential);
    }
    // Without a name, two cookies say nothing about which one is wanted.
    problem(await api('POST', '/api/v1/portal/resume', undefined, null, { headers: { cookie: both } }), 401, 'two cookies, no session named');
    // A's credential under B's name (a cookie renamed by hand) resumes nothing.
    const swapped = `herald_portal_${b.id}=${a.credential}`;
    problem(await api('POST', '/api/v1/portal/resume', { session: b.id }, null, { headers: { cookie: swapped } }), 401, 'a credential under another session\'s name');
    problem(await api('POST', '/api/v1/portal/resume', { session: 'ps_unknown' }, null, { headers: { cookie: both } }), 401, 'an unknown session');
    problem(await api('POST', '/api/v1/portal/resume', { session: 1 }, null, { headers: { cookie: both } }), 400, 'a session that is not a string');
  });

  it('expired and revoked links do not open; the problem type says why', async () => {
    const expired = await createSession();
    expireInDb(expired.id);
    const e = await exchange(expired.token);
    problem(e, 401, 'an expired link', /expired/);
    assert.equal(e.body.type, 'urn:herald:problem:portal-link-expired');

    const revoked = await createSession();
    assert.equal((await api('DELETE', `/api/v1/workspaces/acme/portal-sessions/${revoked.id}`)).status, 204);
    const rv = await exchange(revoked.token);
    problem(rv, 401, 'a revoked link', /revoked/);
    assert.equal(rv.body.type, 'urn:herald:problem:portal-link-revoked');
    problem(await api('DELETE', '/api/v1/workspaces/other/portal-sessions/' + revoked.id), 404, "revoking another workspace's session");
  });
});

describe('a session', () => {
  it('works like the workspace key on its own workspace, and nowhere else', async () => {
    const { credential } = await open();
    const me = await api('GET', '/api/v1/me', undefined, credential);
    assert.equal(me.body.kind, 'portal');
    assert.equal(me.body.workspace_id, 'acme');
    assert.equal(me.body.access, 'manage');
    assert.equal((await api('GET', '/api/v1/workspaces/acme', undefined, credential)).status, 200);
    assert.equal((await api('GET', '/api/v1/topics', undefined, credential)).status, 200);
    const hook = await api('POST', '/api/v1/workspaces/acme/webhooks', { topic: 'walletreward_create', url: r.at('/portal') }, credential);
    assert.equal(hook.status, 201, hook.text);
    const edited = await api('PATCH', `/api/v1/workspaces/acme/webhooks/${hook.body.id}`, { url: r.at('/portal2') }, credential);
    assert.equal(edited.body.url, r.at('/portal2'));
    assert.match((await api('GET', `/api/v1/workspaces/acme/webhooks/${hook.body.id}/secret`, undefined, credential)).body.secret, /^whsec_/);
    assert.equal((await api('PATCH', '/api/v1/workspaces/acme', { webhooks_enabled: true }, credential)).status, 200);

    // Another workspace: 404, as for its key. Keys, portal sessions, deleting the workspace: 403.
    problem(await api('GET', '/api/v1/workspaces/other', undefined, credential), 404, 'another workspace');
    problem(await api('GET', '/api/v1/workspaces/other/webhooks', undefined, credential), 404, "another workspace's webhooks");
    problem(await api('GET', '/api/v1/workspaces', undefined, credential), 403, 'the workspace list');
    for (const [method, path] of [
      ['GET', '/api/v1/workspaces/acme/keys'], ['POST', '/api/v1/workspaces/acme/keys'], ['DELETE', '/api/v1/workspaces/acme/keys/key_x'],
      ['GET', '/api/v1/workspaces/acme/portal-sessions'], ['POST', '/api/v1/workspaces/acme/portal-sessions'],
      ['DELETE', '/api/v1/workspaces/acme/portal-sessions'], ['DELETE', '/api/v1/workspaces/acme'], ['POST', '/api/v1/topics'],
    ]) {
      const body = method === 'POST' ? (path!.endsWith('topics') ? { name: 'x_y' } : {}) : undefined;
      problem(await api(method!, path!, body, credential), 403, `${method} ${path}`);
    }
    assert.equal((await api('GET', '/api/v1/workspaces/acme')).status, 200, 'the workspace is still there');
    await api('DELETE', `/api/v1/workspaces/acme/webhooks/${hook.body.id}`);
  });

  it('a view session reads, and every write is a 403 that says it is view-only', async () => {
    const hook = (await api('POST', '/api/v1/workspaces/acme/webhooks', { topic: 'lead_create', url: r.at('/view') })).body;
    const event = (await api('POST', '/api/v1/workspaces/acme/events', { topic: 'lead_create', data: { n: 1 } })).body;
    const { credential } = await open({ access: 'view' });
    const before = (await api('GET', `/api/v1/workspaces/acme/webhooks`)).text;
    const w = '/api/v1/workspaces/acme';
    for (const path of [w, `${w}/webhooks`, `${w}/webhooks/${hook.id}`, `${w}/events`, `${w}/events/${event.id}`, `${w}/deliveries`, '/api/v1/topics']) {
      assert.equal((await api('GET', path, undefined, credential)).status, 200, `GET ${path}`);
    }
    assert.equal((await api('POST', '/api/v1/filters/test', { filter: { n: 1 }, data: { n: 1 } }, credential)).body.matches, true);
    const writes: [string, string, unknown?][] = [
      ['PATCH', w, { webhooks_enabled: false }],
      ['POST', `${w}/webhooks`, { topic: 'lead_create', url: r.at('/new') }],
      ['PATCH', `${w}/webhooks/${hook.id}`, { description: 'x' }],
      ['DELETE', `${w}/webhooks/${hook.id}`],
      ['POST', `${w}/webhooks/${hook.id}/test`, {}],
      ['POST', `${w}/webhooks/${hook.id}/recover`, { since: new Date(0).toISOString() }],
      ['POST', `${w}/webhooks/${hook.id}/secret/rotate`, {}],
      ['GET', `${w}/webhooks/${hook.id}/secret`],
      ['POST', `${w}/events`, { topic: 'lead_create', data: {} }],
      ['POST', `${w}/events/${event.id}/replay`],
      ['POST', `${w}/deliveries/dlv_x/retry`],
    ];
    for (const [method, path, body] of writes) {
      const res = await api(method, path, body, credential);
      problem(res, 403, `${method} ${path}`, /view-only/);
      assert.equal(res.body.type, 'urn:herald:problem:portal-view-only');
    }
    assert.equal((await api('GET', `/api/v1/workspaces/acme/webhooks`)).text, before, 'nothing changed');
    await api('DELETE', `${w}/webhooks/${hook.id}`);
  });

  it("a view session sees the webhook's custom header values and the signatures masked; a manage session sees them", async () => {
    const headers = { authorization: 'Bearer receiver-own-key', 'x-api-key': 'k-123' };
    const hook = (await api('POST', '/api/v1/workspaces/acme/webhooks', { topic: 'lead_create', url: r.at('/masked'), headers })).body;
    const sent = await api('POST', `/api/v1/workspaces/acme/webhooks/${hook.id}/test`, {});
    assert.equal(sent.status, 200, sent.text);
    const deliveryId = sent.body.delivery.id as string;
    const w = '/api/v1/workspaces/acme';
    const view = (await open({ access: 'view' })).credential;
    const manage = (await open()).credential;

    const one = (await api('GET', `${w}/webhooks/${hook.id}`, undefined, view)).body;
    assert.deepEqual(one.headers, { authorization: '••••', 'x-api-key': '••••' });
    const listed = (await api('GET', `${w}/webhooks`, undefined, view)).body.data.find((x: any) => x.id === hook.id);
    assert.deepEqual(listed.headers, { authorization: '••••', 'x-api-key': '••••' });
    const delivery = await api('GET', `${w}/deliveries/${deliveryId}`, undefined, view);
    assert.equal(delivery.status, 200, delivery.text);
    const sentHeaders = delivery.body.attempts[0].request_headers as Record<string, string>;
    for (const name of ['authorization', 'x-api-key', 'webhook-signature']) assert.equal(sentHeaders[name], '••••', name);
    // <prefix>-webhook-hmac and <prefix>-webhook-secret, derived from the secret.
    const derived = Object.keys(sentHeaders).filter((n) => /-webhook-(hmac|secret)$/.test(n));
    assert.equal(derived.length, 2, Object.keys(sentHeaders).join(' '));
    for (const name of derived) assert.equal(sentHeaders[name], '••••', name);
    assert.equal(sentHeaders['webhook-id'], deliveryId);
    assert.equal(sentHeaders['content-type'], 'application/json');
    for (const secret of ['receiver-own-key', 'k-123']) assert.ok(!delivery.text.includes(secret) && !JSON.stringify(one).includes(secret), secret);

    // A manage session (like a workspace key) sees what was sent.
    assert.deepEqual((await api('GET', `${w}/webhooks/${hook.id}`, undefined, manage)).body.headers, headers);
    const full = (await api('GET', `${w}/deliveries/${deliveryId}`, undefined, manage)).body.attempts[0].request_headers;
    assert.equal(full.authorization, 'Bearer receiver-own-key');
    assert.match(full['webhook-signature'], /^v1,/);
    await api('DELETE', `${w}/webhooks/${hook.id}`);
  });

  it('stops at once when revoked (one or all), when expired, and when its workspace is deleted', async () => {
    const one = await open();
    const all1 = await open();
    const all2 = await open({ access: 'view' });
    const unopened = await createSession();
    assert.equal((await api('DELETE', `/api/v1/workspaces/acme/portal-sessions/${one.id}`)).status, 204);
    const res = await api('GET', '/api/v1/workspaces/acme', undefined, one.credential);
    problem(res, 401, 'a revoked session', /revoked/);
    assert.equal(res.body.type, 'urn:herald:problem:portal-session-revoked');
    assert.equal((await api('GET', '/api/v1/workspaces/acme', undefined, all1.credential)).status, 200);

    assert.equal((await api('DELETE', '/api/v1/workspaces/acme/portal-sessions')).status, 204);
    for (const s of [all1, all2]) problem(await api('GET', '/api/v1/workspaces/acme', undefined, s.credential), 401, 'revoked with all');
    problem(await exchange(unopened.token), 401, 'an unopened link revoked with all', /revoked/);
    const statuses = (await api('GET', '/api/v1/workspaces/acme/portal-sessions?limit=500')).body.data.map((x: any) => x.status);
    assert.ok(statuses.every((st: string) => st === 'revoked' || st === 'expired'), statuses.join(','));

    const late = await open();
    expireInDb(late.id);
    const ex = await api('GET', '/api/v1/workspaces/acme/webhooks', undefined, late.credential);
    problem(ex, 401, 'an expired session', /expired/);
    assert.equal(ex.body.type, 'urn:herald:problem:portal-session-expired');

    await api('POST', '/api/v1/workspaces', { id: 'doomed', name: 'Doomed' });
    const doomed = await open({}, 'doomed');
    const link = await createSession({}, 'doomed');
    assert.equal((await api('DELETE', '/api/v1/workspaces/doomed')).status, 204);
    problem(await api('GET', '/api/v1/workspaces/doomed', undefined, doomed.credential), 401, "a deleted workspace's session", /not valid/);
    problem(await exchange(link.token), 401, "a deleted workspace's link");
    assert.equal(((herald.store as SqliteStore).db.prepare("SELECT count(*) AS n FROM portal_sessions WHERE workspace_id = 'doomed'").get() as { n: number }).n, 0);
  });
});

describe('the /portal page', () => {
  it('may be framed by HERALD_FRAME_ANCESTORS only; every other page by none', async () => {
    const portal = await fetch(`${url}/portal`, { headers: { accept: 'text/html' } });
    assert.equal(portal.status, 200);
    const csp = portal.headers.get('content-security-policy') ?? '';
    assert.match(csp, new RegExp(`frame-ancestors ${HOST_ORIGIN} http://127\\.0\\.0\\.1:3000(;|$)`));
    assert.equal(portal.headers.get('x-frame-options'), null);
    for (const path of ['/', '/index.html', '/some/page']) {
      const page = await fetch(url + path, { headers: { accept: 'text/html' } });
      assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/, path);
      assert.equal(page.headers.get('x-frame-options'), 'DENY', path);
    }
  });

  it("with HERALD_FRAME_ANCESTORS unset, /portal is framed by no one ('none')", async () => {
    const dir2 = await mkdtemp(join(tmpdir(), 'herald-portal-none-'));
    const h2 = await createHerald(loadConfig({}, {}, { ...TEST_DEFAULTS, dataDir: dir2 }));
    try {
      const res = await fetch(`${(await h2.start())!}/portal`, { headers: { accept: 'text/html' } });
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    } finally {
      await h2.stop();
      await rm(dir2, { recursive: true, force: true });
    }
  });
});

describe('the log', () => {
  it('holds nothing of any link token or session credential', () => {
    assert.ok(secrets.length >= 10, `${secrets.length} secrets handed out`);
    assert.ok(logLines.length > 0, 'the log was written to');
    const log = logLines.join('');
    for (const s of secrets) assert.ok(!log.includes(s), `the log holds ${s.slice(0, 8)}…`);
  });
});

describe('the README', () => {
  it('shows the host page that the browser tests run, verbatim', async () => {
    const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
    const example = await readFile(new URL('../../docs/examples/portal-host.mjs', import.meta.url), 'utf8');
    assert.ok(readme.includes('```js\n' + example + '```\n'), 'README.md holds docs/examples/portal-host.mjs as it is');
    for (const shot of ['portal-desktop-light.png', 'portal-phone-light.png', 'portal-desktop-dark.png', 'portal-phone-dark.png']) {
      assert.ok(readme.includes(`(docs/${shot})`), shot);
    }
  });
});
