// Ed25519 webhooks through the API, the store and the worker (contract section 8): a webhook
// created or switched to `signing: "ed25519"` gets a key pair, its receiver verifies the v1a
// signature with the public key alone (verifyWebhook, and a node:crypto check from the spec),
// a rotation signs with the old and the new key during its grace period, and the private key
// is sealed at rest and never shown, neither in API answers nor in logs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createHerald } from '../../src/herald.js';
import { loadConfig } from '../../src/config.js';
import { verifyWebhook } from '../../src/receiver/verify.js';
import { specVerify, signatureCounts } from '../helpers/ed25519.js';
import { ADMIN_KEY, publish, setupWebhook, startHeraldAndReceiver, stopHeraldAndReceiver, TEST_DEFAULTS, waitForDelivery, type TestHerald } from '../helpers/herald.js';
import type { Receiver, RecordedRequest } from '../helpers/receiver.js';

let h: TestHerald;
let receiver: Receiver;

before(async () => ({ h, receiver } = await startHeraldAndReceiver()));
after(() => stopHeraldAndReceiver(h, receiver));

/** A receiver that holds only `publicKey` of each path: 204 when a v1a signature verifies, else 401. */
function verifyingWith(keys: Map<string, string>): void {
  receiver.respondWith((req) => {
    const key = keys.get(req.path);
    if (!key) return { status: 404 };
    try {
      verifyWebhook(req.raw, req.headers, key);
      return { status: 204 };
    } catch (err) {
      return { status: 401, body: (err as Error).message };
    }
  });
}

const publicKeys = new Map<string, string>();
let sent = 0;

/** Publishes one event to the workspace and returns the request its webhook's receiver got. */
async function next(ws: string, path: string): Promise<RecordedRequest> {
  const before = receiver.requests.filter((r) => r.path === path).length;
  await publish(h, ws, 'walletreward_create', { customer_id: '4417', amount: 100 + sent++ });
  return (await receiver.waitFor(before + 1, { path }))[before]!;
}

describe('ed25519 webhooks', () => {
  it('signs v1a beside v1; a receiver with only the public key verifies it', async () => {
    verifyingWith(publicKeys);
    const path = '/ed25519';
    const { ws, webhook } = await setupWebhook(h, receiver.at(path), { signing: 'ed25519' });
    assert.equal(webhook.signing, 'ed25519');
    const base = `/api/v1/workspaces/${ws}/webhooks/${webhook.id}`;
    const { public_key } = (await h.api('GET', `${base}/public-key`)).body;
    assert.match(public_key, /^whpk_[A-Za-z0-9+/]{43}=$/);
    publicKeys.set(path, public_key);

    const req = await next(ws, path);
    assert.deepEqual(signatureCounts(req.headers), { v1: 1, v1a: 1 });
    assert.ok(specVerify(public_key, req.headers, req.raw), 'the spec check with node:crypto verifies it');
    const secret = (await h.api('GET', `${base}/secret`)).body.secret;
    assert.deepEqual(verifyWebhook(req.raw, req.headers, secret), JSON.parse(req.body), 'v1 still verifies with the secret');
    const [delivery] = (await h.api('GET', `/api/v1/workspaces/${ws}/deliveries?webhook_id=${webhook.id}`)).body.data;
    const done = await waitForDelivery(h, ws, delivery.id, (d) => d.status !== 'pending');
    assert.equal(done.status, 'succeeded', 'the receiver accepted it with the public key alone');
    assert.equal(done.last_status_code, 204);
  });

  it('rotation makes a new key pair; both keys sign during the grace period, only the new one after grace 0', async () => {
    verifyingWith(publicKeys);
    const path = '/ed25519-rotation';
    const { ws, webhook } = await setupWebhook(h, receiver.at(path), { signing: 'ed25519' });
    const base = `/api/v1/workspaces/${ws}/webhooks/${webhook.id}`;
    const keyA = (await h.api('GET', `${base}/public-key`)).body.public_key as string;
    publicKeys.set(path, keyA);
    assert.deepEqual(signatureCounts((await next(ws, path)).headers), { v1: 1, v1a: 1 });

    const rotated = await h.api('POST', `${base}/secret/rotate`, { grace_seconds: 3600 });
    assert.equal(rotated.status, 200, rotated.text);
    const keyB = (await h.api('GET', `${base}/public-key`)).body.public_key as string;
    assert.notEqual(keyB, keyA, 'a new key pair');
    const during = await next(ws, path);
    assert.deepEqual(signatureCounts(during.headers), { v1: 2, v1a: 2 });
    for (const [label, key] of [['old', keyA], ['new', keyB]]) {
      assert.ok(specVerify(key!, during.headers, during.raw), `the ${label} key verifies during the grace period (spec check)`);
      assert.ok(verifyWebhook(during.raw, during.headers, key!), `the ${label} key verifies during the grace period (verifyWebhook)`);
    }

    await h.api('POST', `${base}/secret/rotate`, { grace_seconds: 0 });
    const keyC = (await h.api('GET', `${base}/public-key`)).body.public_key as string;
    const afterGrace = await next(ws, path);
    assert.deepEqual(signatureCounts(afterGrace.headers), { v1: 1, v1a: 1 });
    assert.ok(specVerify(keyC, afterGrace.headers, afterGrace.raw));
    for (const old of [keyA, keyB]) {
      assert.equal(specVerify(old, afterGrace.headers, afterGrace.raw), false, 'an earlier key no longer verifies');
      assert.throws(() => verifyWebhook(afterGrace.raw, afterGrace.headers, old), /no v1a signature matches/);
    }
  });

  it('switching signing on and off: a key pair appears and goes; hmac webhooks have no public key (409)', async () => {
    const path = '/switch';
    const { ws, webhook } = await setupWebhook(h, receiver.at(path));
    assert.equal(webhook.signing, 'hmac', 'hmac by default');
    const base = `/api/v1/workspaces/${ws}/webhooks/${webhook.id}`;
    const none = await h.api('GET', `${base}/public-key`);
    assert.equal(none.status, 409);
    assert.match(none.body.detail, /signs with hmac and has no public key/);
    receiver.respondWith(() => ({ status: 200 }));
    assert.deepEqual(signatureCounts((await next(ws, path)).headers), { v1: 1, v1a: 0 });

    const on = await h.api('PATCH', `${base}`, { signing: 'ed25519' });
    assert.equal(on.status, 200, on.text);
    assert.equal(on.body.signing, 'ed25519');
    const key = (await h.api('GET', `${base}/public-key`)).body.public_key as string;
    const signed = await next(ws, path);
    assert.ok(specVerify(key, signed.headers, signed.raw), 'the new key signs at once (the version moved)');
    // Patching something else keeps the key pair.
    await h.api('PATCH', `${base}`, { description: 'still ed25519' });
    assert.equal((await h.api('GET', `${base}/public-key`)).body.public_key, key);

    const off = await h.api('PATCH', `${base}`, { signing: 'hmac' });
    assert.equal(off.body.signing, 'hmac');
    assert.equal((await h.api('GET', `${base}/public-key`)).status, 409);
    assert.deepEqual(signatureCounts((await next(ws, path)).headers), { v1: 1, v1a: 0 });
  });

  it('refuses other signing values and secrets that look like Ed25519 keys, naming the field', async () => {
    const { ws, webhook } = await setupWebhook(h, receiver.at('/refused'));
    const base = `/api/v1/workspaces/${ws}/webhooks`;
    for (const [method, url] of [['POST', base], ['PATCH', `${base}/${webhook.id}`]] as const) {
      const bad = await h.api(method, url, { topic: 'walletreward_create', url: receiver.at('/x'), signing: 'rsa' });
      assert.equal(bad.status, 400, bad.text);
      assert.equal(bad.body.errors[0].path, 'signing');
    }
    for (const secret of ['whpk_' + Buffer.alloc(32).toString('base64'), 'whsk_abc']) {
      const created = await h.api('POST', base, { topic: 'walletreward_create', url: receiver.at('/x'), secret });
      assert.equal(created.status, 400);
      assert.equal(created.body.errors[0].path, 'secret');
      const rotated = await h.api('POST', `${base}/${webhook.id}/secret/rotate`, { secret });
      assert.equal(rotated.status, 400);
      assert.equal(rotated.body.errors[0].path, 'secret');
    }
  });
});

describe('an ed25519 private key at rest', () => {
  it('is sealed with HERALD_ENCRYPTION_KEY, never in API answers or logs, and still signs', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'trace' }, new Writable({ write: (chunk, _enc, done) => void (lines.push(String(chunk)), done()) }));
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/herald-ed25519-`);
    const config = loadConfig({}, {}, { ...TEST_DEFAULTS, encryptionKey: 'correct horse battery staple', dataDir: dir, deliveryThread: false });
    const herald = await createHerald(config, { logger });
    const url = await herald.start();
    const answers: string[] = [];
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      answers.push(text);
      return JSON.parse(text || 'null');
    };
    try {
      const ws = (await api('POST', '/api/v1/workspaces', { name: 'Sealed' })).id;
      await api('PATCH', `/api/v1/workspaces/${ws}`, { webhooks_enabled: true });
      const hook = await api('POST', `/api/v1/workspaces/${ws}/webhooks`, { topic: 'walletreward_create', url: receiver.at('/sealed'), signing: 'ed25519' });
      const base = `/api/v1/workspaces/${ws}/webhooks/${hook.id}`;
      const { public_key } = await api('GET', `${base}/public-key`);
      receiver.respondWith(() => ({ status: 200 }));
      await api('POST', `/api/v1/workspaces/${ws}/events`, { topic: 'walletreward_create', data: { n: 1 } });
      const [req] = await receiver.waitFor(1, { path: '/sealed' });
      assert.ok(specVerify(public_key, req!.headers, req!.raw), 'the sealed key signs');
      await api('POST', `${base}/secret/rotate`, {});
      await api('GET', base);
      await api('GET', `/api/v1/workspaces/${ws}/webhooks`);
      await api('GET', `${base}/secret`);
      const [delivery] = (await api('GET', `/api/v1/workspaces/${ws}/deliveries?webhook_id=${hook.id}`)).data;
      await api('GET', `/api/v1/workspaces/${ws}/deliveries/${delivery.id}`);

      const stored = herald.store as unknown as { findWebhook(id: string): Promise<{ signingKey: string; previousSigningKeys: { privateKey: string }[] }> };
      const row = await stored.findWebhook(hook.id);
      const sealed = [row.signingKey, ...row.previousSigningKeys.map((k) => k.privateKey)];
      assert.equal(sealed.length, 2, 'the current key and the rotated-out one');
      for (const s of sealed) assert.match(s, /^enc:v1:/, 'stored sealed');
      // The private keys, opened, as they would appear if they leaked.
      const { SecretBox } = await import('../../src/domain/secret-box.js');
      const box = new SecretBox('correct horse battery staple');
      const privateKeys = sealed.map((s) => box.open(s));
      for (const k of privateKeys) assert.match(k, /^whsk_/);
      const seeds = privateKeys.map((k) => k.slice(5));
      for (const f of readdirSync(dir)) {
        const bytes = readFileSync(`${dir}/${f}`);
        for (const seed of seeds) assert.equal(bytes.includes(Buffer.from(seed)), false, `a private key is readable in ${f}`);
      }
      const shown = answers.join('\n') + lines.join('');
      assert.ok(lines.length > 0, 'the logger was written to');
      assert.equal(shown.includes('whsk_'), false, 'no private key in answers or logs');
      for (const seed of seeds) assert.equal(shown.includes(seed), false, 'no private key in answers or logs');
    } finally {
      await herald.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
