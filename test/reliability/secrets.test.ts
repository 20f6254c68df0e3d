// Secrets: with HERALD_ENCRYPTION_KEY set, webhook secrets are encrypted at rest (the SQLite
// files never hold them), yet GET …/secret gives them back and receivers can verify the
// signatures; and no secret, admin key or workspace key is ever written to the log (Herald
// runs as a child process at debug level; everything it prints is captured).
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { waitUntil } from '../helpers/herald.js';
import { queueDrained } from '../helpers/reliability.js';
import { Receiver } from '../helpers/receiver.js';
import { spawnHerald, type HeraldProcess } from '../helpers/process.js';

const cleanups: (() => Promise<unknown>)[] = [];
after(async () => {
  while (cleanups.length) await cleanups.pop()!().catch(() => undefined);
});

/** Every byte of every file in the data directory. */
function dataFiles(dir: string): Buffer {
  return Buffer.concat(readdirSync(dir).map((f) => readFileSync(join(dir, f))));
}

describe('secrets', { timeout: 180_000 }, () => {
  it('are encrypted at rest, readable through the API, and never logged', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'herald-secrets-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const adminKey = `hrd_admin_${randomBytes(24).toString('hex')}`;
    const env = { HERALD_ENCRYPTION_KEY: `passphrase-${randomBytes(16).toString('hex')}`, HERALD_LOG_LEVEL: 'debug', HERALD_MAX_RETRIES: '1', HERALD_RETRY_BASE_MS: '100' };
    const logs: string[] = [];
    let h: HeraldProcess = await spawnHerald({ dataDir, adminKey, env });
    cleanups.push(() => h.kill('SIGKILL'));

    const good = await Receiver.start();
    const bad = await Receiver.start(() => ({ status: 500, body: 'nope' }));
    cleanups.push(() => good.close(), () => bad.close());

    const ws = (await h.api('POST', '/api/v1/workspaces', { name: 'Secret Garden', uri: 'https://garden.example' })).body.id as string;
    assert.equal((await h.api('PATCH', `/api/v1/workspaces/${ws}`, { webhooks_enabled: true })).status, 200);
    const wsKey = (await h.api('POST', `/api/v1/workspaces/${ws}/keys`, { name: 'ci' })).body.key as string;
    assert.match(wsKey, /\S{20,}/);
    const whsec = `whsec_${randomBytes(32).toString('base64')}`;
    const raw = `raw-secret-${randomBytes(12).toString('hex')}`;

    // Created with the workspace key; one webhook fails so that errors are logged too.
    const a = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks`, { topic: 'order_create', url: good.at('/a'), secret: whsec }, wsKey);
    assert.equal(a.status, 201, a.text);
    assert.equal(JSON.stringify(a.body).includes(whsec), false, 'the secret was echoed');
    const b = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks`, { topic: 'order_create', url: bad.at('/b'), secret: raw }, wsKey);
    assert.equal(b.status, 201, b.text);
    // A refused create that carries a secret.
    assert.equal((await h.api('POST', `/api/v1/workspaces/${ws}/webhooks`, { topic: 'nope', url: 'not a url', secret: raw }, wsKey)).status, 400);
    // Wrong and missing keys.
    assert.equal((await h.api('GET', `/api/v1/workspaces/${ws}`, undefined, `${wsKey}x`)).status, 401);

    // A test send and a published event, delivered and signed with the secret.
    const test = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks/${a.body.id}/test`, {}, wsKey);
    assert.equal(test.status, 200, test.text);
    assert.equal(test.body.delivery.status, 'succeeded');
    assert.equal((await h.api('POST', `/api/v1/workspaces/${ws}/events`, { topic: 'order_create', data: { order_id: 'G-1' } }, wsKey)).status, 202);
    await waitUntil(() => queueDrained(h.api, ws), { timeoutMs: 30_000 });
    const verifier = new StandardWebhook(whsec);
    assert.ok(good.requests.length >= 2);
    for (const s of good.requests) {
      verifier.verify(s.body, { 'webhook-id': s.id, 'webhook-timestamp': String(s.headers['webhook-timestamp']), 'webhook-signature': String(s.headers['webhook-signature']) });
    }
    assert.ok(bad.requests.length >= 2, 'the failing webhook was attempted');

    // The API gives the secrets back.
    assert.equal((await h.api('GET', `/api/v1/workspaces/${ws}/webhooks/${a.body.id}/secret`, undefined, wsKey)).body.secret, whsec);
    assert.equal((await h.api('GET', `/api/v1/workspaces/${ws}/webhooks/${b.body.id}/secret`)).body.secret, raw);
    // A rotation: the new secret is shown once, and encrypted too.
    const rotated = await h.api('POST', `/api/v1/workspaces/${ws}/webhooks/${a.body.id}/secret/rotate`, {}, wsKey);
    assert.equal(rotated.status, 200, rotated.text);
    const newSecret = rotated.body.secret as string;
    assert.equal((await h.api('POST', `/api/v1/workspaces/${ws}/events`, { topic: 'order_create', data: { order_id: 'G-2' } }, wsKey)).status, 202);
    await waitUntil(() => queueDrained(h.api, ws), { timeoutMs: 30_000 });

    // A restart with the same key still opens them.
    assert.equal(await h.kill('SIGTERM'), 0);
    logs.push(h.output());
    h = await spawnHerald({ dataDir, adminKey, env, port: h.port });
    cleanups.push(() => h.kill('SIGKILL'));
    assert.equal((await h.api('GET', `/api/v1/workspaces/${ws}/webhooks/${a.body.id}/secret`)).body.secret, newSecret);
    assert.equal((await h.api('POST', `/api/v1/workspaces/${ws}/webhooks/${b.body.id}/test`, {})).status, 200);
    assert.equal(await h.kill('SIGTERM'), 0);
    logs.push(h.output());

    // At rest: the files hold neither the secrets nor their base64 key part, nor the API keys.
    const files = dataFiles(dataDir);
    assert.ok(files.length > 0);
    assert.ok(files.includes('enc:v1:'), 'secrets are stored encrypted');
    const forbidden: [string, string][] = [
      ['the whsec_ secret', whsec], ['its key part', whsec.slice('whsec_'.length)], ['the raw secret', raw], ['the rotated secret', newSecret],
      ['the admin key', adminKey], ['the workspace key', wsKey],
    ];
    for (const [what, value] of forbidden) assert.equal(files.includes(value), false, `${what} is in the data directory`);

    // In the log: none of it either.
    const log = logs.join('\n');
    assert.ok(log.length > 0, "nothing was logged");
    for (const [what, value] of forbidden) assert.equal(log.includes(value), false, `${what} was logged`);
  });
});
