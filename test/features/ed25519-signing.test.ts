// Ed25519 (v1a) signing end to end with real requests: an attempt of an ed25519 webhook (its
// private key sealed as secrets are) reaches a receiver that verifies it with the whpk_ public
// key alone, through verifyWebhook and through a check written from the spec with node:crypto.
// Also the traceparent each attempt carries. The store supplies `signing`, `signingKeys` and
// `traceparent` on claimed deliveries; here they are given as it gives them
// (test/features/ed25519-webhooks.test.ts goes through the API and the store).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { specVerify } from '../helpers/ed25519.js';
import type { AddressInfo } from 'node:net';
import { AttemptRunner } from '../../src/delivery/attempt.js';
import type { ClaimedDelivery } from '../../src/store/store.js';
import { HttpSender } from '../../src/delivery/http-sender.js';
import { generateKeyPair } from '../../src/domain/ed25519.js';
import { SecretBox } from '../../src/domain/secret-box.js';
import { generateSecret } from '../../src/domain/signing.js';
import { parseTraceparent } from '../../src/domain/traceparent.js';
import { verifyWebhook, WebhookVerificationError } from '../../src/index.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

interface Got {
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

/** A receiver that knows only the public key, as the README shows one: 401 unless v1a verifies. */
async function startPublicKeyReceiver(publicKey: string): Promise<{ url: string; got: Got[]; server: Server }> {
  const got: Got[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      got.push({ headers: req.headers, raw });
      try {
        verifyWebhook(raw, req.headers, publicKey);
        res.writeHead(204).end();
      } catch (err) {
        res.writeHead(401).end((err as Error).message);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, got, server };
}

const box = new SecretBox('an encryption key');

function delivery(url: string, over: { webhook?: Partial<ClaimedDelivery['webhook']>; traceparent?: string | null } = {}): ClaimedDelivery {
  return {
    seq: 1, id: `dlv_${Math.random().toString(36).slice(2)}`, claim: 1, workspaceId: 'ws_1', eventId: 'evt_1', topic: 'walletreward_create',
    body: '{"customer_id":"4417","amount":250,"business_name":"Acme Coffee"}', attempts: 0, cycleStart: 0, cycleLimit: null,
    traceparent: over.traceparent ?? null,
    webhook: {
      id: `wh_${Math.random().toString(36).slice(2)}`, url, secret: box.seal(generateSecret()), prefix: '', headers: {}, enabled: true, version: 1,
      rateLimit: null, previousSecrets: [], openUntil: null, signing: 'hmac', signingKeys: [], ...over.webhook,
    },
  };
}

describe('ed25519 webhooks', () => {
  const current = generateKeyPair();
  const previous = generateKeyPair();
  const expired = generateKeyPair();
  let sender: HttpSender;
  let runner: AttemptRunner;
  const servers: Server[] = [];
  before(() => {
    sender = new HttpSender({ timeoutMs: 5_000, allowPrivateTargets: true });
    runner = new AttemptRunner({ sender, secrets: box, retry: { maxRetries: 5, baseMs: 1000, factor: 2 }, headerPrefix: 'x-nector', userAgent: 'Herald/test' });
  });
  after(async () => {
    await sender.close();
    for (const s of servers) s.close();
  });
  const receiver = async (publicKey: string) => {
    const r = await startPublicKeyReceiver(publicKey);
    servers.push(r.server);
    return r;
  };

  it('signs v1 and v1a; a receiver with only the public key verifies it, by verifyWebhook and by the spec', async () => {
    const r = await receiver(current.publicKey);
    const d = delivery(r.url, { webhook: { signing: 'ed25519', signingKeys: [{ privateKey: box.seal(current.privateKey), expiresAt: null }] } });
    const result = await runner.run(d);
    assert.equal(result.status, 'succeeded', JSON.stringify(result.attempt));
    assert.equal(result.attempt!.statusCode, 204);
    const [{ headers, raw }] = r.got as [Got];
    const signatures = String(headers['webhook-signature']).split(' ');
    assert.equal(signatures.length, 2);
    assert.match(signatures[0]!, /^v1,/);
    assert.match(signatures[1]!, /^v1a,[A-Za-z0-9+/]{86}==$/);
    assert.ok(specVerify(current.publicKey, headers, raw));
    assert.deepEqual(verifyWebhook(raw, headers, current.publicKey), JSON.parse(d.body));
    // The secret still verifies the same request, Nector's headers included.
    assert.deepEqual(verifyWebhook(raw, headers, box.open(d.webhook.secret)), JSON.parse(d.body));
    assert.equal(result.attempt!.requestHeaders['webhook-signature'], headers['webhook-signature']);
  });

  it('during a rotation signs with every key still valid, and a receiver on the old key keeps verifying', async () => {
    const onOld = await receiver(previous.publicKey);
    const now = Date.now();
    const keys = [
      { privateKey: box.seal(current.privateKey), expiresAt: null },
      { privateKey: box.seal(previous.privateKey), expiresAt: now + 3_600_000 },
      { privateKey: box.seal(expired.privateKey), expiresAt: now - 1 },
    ];
    const result = await runner.run(delivery(onOld.url, { webhook: { signing: 'ed25519', signingKeys: keys } }));
    assert.equal(result.status, 'succeeded', JSON.stringify(result.attempt));
    const [{ headers, raw }] = onOld.got as [Got];
    assert.equal(String(headers['webhook-signature']).split(' ').filter((s) => s.startsWith('v1a,')).length, 2);
    for (const k of [current, previous]) assert.ok(specVerify(k.publicKey, headers, raw));
    assert.ok(!specVerify(expired.publicKey, headers, raw));
    assert.throws(() => verifyWebhook(raw, headers, expired.publicKey), /no v1a signature matches the public key/);
  });

  it('an hmac webhook (or one the store says nothing about) is signed as before: no v1a', async () => {
    const r = await receiver(current.publicKey);
    for (const webhook of [{}, { signing: 'hmac' as const, signingKeys: [{ privateKey: current.privateKey, expiresAt: null }] }]) {
      const result = await runner.run(delivery(r.url, { webhook }));
      assert.equal(result.attempt!.statusCode, 401); // this receiver wants v1a
      assert.equal(result.attempt!.responseBody, 'no v1a signature matches the public key');
      assert.doesNotMatch(result.attempt!.requestHeaders['webhook-signature']!, /v1a,/);
      assert.equal(result.attempt!.requestHeaders.traceparent, undefined);
    }
  });

  it('an ed25519 webhook without a private key fails its attempt without sending', async () => {
    const r = await receiver(current.publicKey);
    const result = await runner.run(delivery(r.url, { webhook: { signing: 'ed25519', signingKeys: [] } }));
    assert.equal(result.attempt!.error, 'could not sign: the ed25519 webhook has no private key');
    assert.equal(r.got.length, 0);
  });

  it('each attempt carries a child traceparent of the event: same trace id, its own span id', async () => {
    const r = await receiver(current.publicKey);
    const keys = [{ privateKey: box.seal(current.privateKey), expiresAt: null }];
    const d = delivery(r.url, { traceparent: TRACEPARENT, webhook: { signing: 'ed25519', signingKeys: keys, headers: { traceparent: 'custom' } } });
    const first = await runner.run(d);
    const second = await runner.run({ ...d, attempts: 1 });
    const spans = r.got.map((g) => parseTraceparent(g.headers.traceparent));
    assert.equal(spans.length, 2);
    for (const t of spans) {
      assert.equal(t?.traceId, '4bf92f3577b34da6a3ce929d0e0e4736');
      assert.equal(t?.flags, '01');
      assert.notEqual(t?.parentId, '00f067aa0ba902b7');
    }
    assert.notEqual(spans[0]!.parentId, spans[1]!.parentId);
    assert.equal(first.attempt!.requestHeaders.traceparent, r.got[0]!.headers.traceparent);
    assert.equal(second.attempt!.requestHeaders.traceparent, r.got[1]!.headers.traceparent);
    // A malformed stored value sends none (and the webhook's own header stays as it was set).
    await runner.run(delivery(r.url, { traceparent: 'garbage', webhook: { headers: { traceparent: 'custom' } } }));
    assert.equal(r.got[2]!.headers.traceparent, 'custom');
  });

  it('verifyWebhook with a public key refuses tampering, other keys, stale timestamps and malformed keys', async () => {
    const r = await receiver(current.publicKey);
    await runner.run(delivery(r.url, { webhook: { signing: 'ed25519', signingKeys: [{ privateKey: box.seal(current.privateKey), expiresAt: null }] } }));
    const [{ headers, raw }] = r.got as [Got];
    const refuses = (fn: () => unknown, message: RegExp) => assert.throws(fn, (err: Error) => err instanceof WebhookVerificationError && message.test(err.message));
    refuses(() => verifyWebhook(Buffer.concat([raw, Buffer.from(' ')]), headers, current.publicKey), /no v1a signature matches/);
    refuses(() => verifyWebhook(raw, headers, previous.publicKey), /no v1a signature matches/);
    refuses(() => verifyWebhook(raw, { ...headers, 'webhook-id': 'dlv_other' }, current.publicKey), /no v1a signature matches/);
    refuses(() => verifyWebhook(raw, headers, current.publicKey, { now: Number(headers['webhook-timestamp']) + 301 }), /too far from now/);
    refuses(() => verifyWebhook(raw, headers, 'whpk_short'), /must be whpk_ and the base64 of 32 bytes/);
    // Only v1 signatures (an hmac webhook's request): nothing to verify a public key against.
    const v1only = { ...headers, 'webhook-signature': String(headers['webhook-signature']).split(' ')[0] };
    refuses(() => verifyWebhook(raw, v1only, current.publicKey), /no v1a signature matches/);
  });
});
