// Receiver helpers: verifyWebhook (src/receiver/verify.ts) against the Standard Webhooks test
// vector and tampered copies of it, and against requests a real Herald sent to a local
// receiver; the README's plain-Node snippet; a ten-line Fastify receiver using verifyWebhook.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { verifyWebhook, WebhookVerificationError } from '../../src/receiver/verify.js';
import { createWebhook, publish, setupWebhook, startHerald, waitForDelivery, type TestHerald } from '../helpers/herald.js';
import { startReceiver, type Receiver, type RecordedRequest } from '../helpers/receiver.js';

// The test vector of the Standard Webhooks specification.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};
const vectorHeaders = (over: Record<string, string> = {}) => ({
  'webhook-id': VECTOR.id,
  'webhook-timestamp': String(VECTOR.timestamp),
  'webhook-signature': VECTOR.signature,
  ...over,
});

/** Asserts that fn throws a WebhookVerificationError whose message matches. */
function refuses(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof WebhookVerificationError, `expected a WebhookVerificationError, got ${err}`);
    assert.equal(err.name, 'WebhookVerificationError');
    assert.match(err.message, message);
    return true;
  });
}

// ---- The README's plain-Node check ("Verifying a webhook on the receiver"), as it is there. ----
function verify(rawBody: any, headers: any, secret: string) {
  const key = secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret);
  const signed = `${headers['webhook-id']}.${headers['webhook-timestamp']}.${rawBody}`;
  const expected = Buffer.from('v1,' + createHmac('sha256', key).update(signed).digest('base64'));
  const fresh = Math.abs(Date.now() / 1000 - Number(headers['webhook-timestamp'])) < 300;
  return fresh && headers['webhook-signature'].split(' ')
    .some((s: string) => s.length === expected.length && timingSafeEqual(Buffer.from(s), expected));
}

describe('verifyWebhook with the Standard Webhooks test vector', () => {
  const now = VECTOR.timestamp;

  it('accepts it and returns the parsed body', () => {
    assert.deepEqual(verifyWebhook(VECTOR.body, vectorHeaders(), VECTOR.secret, { now }), { test: 2432232314 });
    assert.deepEqual(verifyWebhook(Buffer.from(VECTOR.body), vectorHeaders(), VECTOR.secret, { now }), { test: 2432232314 });
    // Header names in any case, and a fetch Headers object.
    const upper = Object.fromEntries(Object.entries(vectorHeaders()).map(([k, v]) => [k.toUpperCase(), v]));
    assert.deepEqual(verifyWebhook(VECTOR.body, upper, VECTOR.secret, { now }), { test: 2432232314 });
    assert.deepEqual(verifyWebhook(VECTOR.body, new Headers(vectorHeaders()), VECTOR.secret, { now }), { test: 2432232314 });
    // The reference library agrees on the vector.
    assert.equal(new Webhook(VECTOR.secret).sign(VECTOR.id, new Date(VECTOR.timestamp * 1000), VECTOR.body), VECTOR.signature);
  });

  it('refuses a tampered body, signature, id or timestamp, saying why', () => {
    refuses(() => verifyWebhook('{"test": 2432232315}', vectorHeaders(), VECTOR.secret, { now }), /no signature matches the secret/);
    refuses(() => verifyWebhook(VECTOR.body + ' ', vectorHeaders(), VECTOR.secret, { now }), /no signature matches/);
    refuses(() => verifyWebhook(VECTOR.body, vectorHeaders({ 'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OA=' }), VECTOR.secret, { now }), /no signature matches/);
    refuses(() => verifyWebhook(VECTOR.body, vectorHeaders({ 'webhook-signature': 'v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' }), VECTOR.secret, { now }), /no signature matches/);
    refuses(() => verifyWebhook(VECTOR.body, vectorHeaders({ 'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJel' }), VECTOR.secret, { now }), /no signature matches/);
    // A timestamp moved by a second is within the tolerance, but no longer signed.
    refuses(() => verifyWebhook(VECTOR.body, vectorHeaders({ 'webhook-timestamp': String(VECTOR.timestamp + 1) }), VECTOR.secret, { now }), /no signature matches/);
    refuses(() => verifyWebhook(VECTOR.body, vectorHeaders({ 'webhook-timestamp': 'yesterday' }), VECTOR.secret, { now }), /webhook-timestamp is not a number/);
    refuses(() => verifyWebhook(VECTOR.body, vectorHeaders(), 'whsec_' + Buffer.from('another secret').toString('base64'), { now }), /no signature matches the secret/);
    const { 'webhook-signature': _s, ...unsigned } = vectorHeaders();
    refuses(() => verifyWebhook(VECTOR.body, unsigned, VECTOR.secret, { now }), /missing webhook-id, webhook-timestamp or webhook-signature/);
  });

  it('refuses timestamps outside the tolerance (default five minutes, either way)', () => {
    assert.ok(verifyWebhook(VECTOR.body, vectorHeaders(), VECTOR.secret, { now: now + 300 }));
    assert.ok(verifyWebhook(VECTOR.body, vectorHeaders(), VECTOR.secret, { now: now - 300 }));
    refuses(() => verifyWebhook(VECTOR.body, vectorHeaders(), VECTOR.secret, { now: now + 301 }), /too far from now/);
    refuses(() => verifyWebhook(VECTOR.body, vectorHeaders(), VECTOR.secret, { now: now - 301 }), /too far from now/);
    assert.ok(verifyWebhook(VECTOR.body, vectorHeaders(), VECTOR.secret, { now: now + 10, toleranceSeconds: 10 }));
    refuses(() => verifyWebhook(VECTOR.body, vectorHeaders(), VECTOR.secret, { now: now + 11, toleranceSeconds: 10 }), /too far from now/);
    // Without `now`, the clock: the vector is from 2021.
    refuses(() => verifyWebhook(VECTOR.body, vectorHeaders(), VECTOR.secret), /too far from now/);
  });

  it('accepts any one of several signatures (a secret rotation)', () => {
    const other = new Webhook('whsec_' + Buffer.from('the other secret, 32 bytes long!').toString('base64'))
      .sign(VECTOR.id, new Date(VECTOR.timestamp * 1000), VECTOR.body);
    for (const signatures of [`${other} ${VECTOR.signature}`, `${VECTOR.signature} ${other}`, `v1,bm9wZQ== ${VECTOR.signature} v1,`]) {
      assert.deepEqual(verifyWebhook(VECTOR.body, vectorHeaders({ 'webhook-signature': signatures }), VECTOR.secret, { now }), { test: 2432232314 });
    }
    refuses(() => verifyWebhook(VECTOR.body, vectorHeaders({ 'webhook-signature': `${other} v1,bm9wZQ==` }), VECTOR.secret, { now }), /no signature matches/);
  });
});

describe('verifying requests that Herald really sent', () => {
  let h: TestHerald;
  let receiver: Receiver;
  let fastify: FastifyInstance | null = null;
  const PLAIN = 'plain sécret with ünïcode';

  before(async () => {
    h = await startHerald();
    receiver = await startReceiver();
  });
  after(async () => {
    await fastify?.close();
    await h?.stop();
    await receiver?.close();
  });

  async function delivered(secret: string | undefined, path: string): Promise<{ req: RecordedRequest; secret: string }> {
    const { ws, webhook } = await setupWebhook(h, receiver.at(path), { topic: 'walletreward_create', ...(secret ? { secret } : {}), prefix: 'acme_' });
    const used = (await h.api('GET', `/api/v1/workspaces/${ws}/webhooks/${webhook.id}/secret`)).body.secret as string;
    await publish(h, ws, 'walletreward_create', { customer_id: '4417', name: 'Priya Sharma', amount: 250 });
    const [req] = await receiver.waitFor(1, { path });
    return { req: req!, secret: used };
  }

  for (const kind of ['whsec_ (generated)', 'plain'] as const) {
    it(`accepts a real request with a ${kind} secret, and refuses it changed`, async () => {
      const { req, secret } = await delivered(kind === 'plain' ? PLAIN : undefined, `/real/${kind === 'plain' ? 'plain' : 'whsec'}`);
      if (kind === 'plain') assert.equal(secret, PLAIN);
      else assert.match(secret, /^whsec_/);

      const body = verifyWebhook<{ amount: number; business_name: string }>(req.raw, req.headers, secret);
      assert.equal(body.amount, 250);
      assert.equal(body.business_name, 'Blue Bottle Goods');
      assert.deepEqual(verifyWebhook(req.body, req.headers, secret), JSON.parse(req.body));
      // The README's plain-Node check, and the reference library, accept it too.
      assert.equal(verify(req.raw, req.headers, secret), true);
      assert.equal(verify(req.body, req.headers, secret), true);
      const wh = secret.startsWith('whsec_') ? new Webhook(secret) : new Webhook(Buffer.from(secret, 'utf8'), { format: 'raw' });
      assert.deepEqual(wh.verify(req.raw, req.headers as Record<string, string>), JSON.parse(req.body));

      const changed = Buffer.from(req.body.replace('"amount":250', '"amount":2500'));
      refuses(() => verifyWebhook(changed, req.headers, secret), /no signature matches/);
      assert.equal(verify(changed, req.headers, secret), false);
      const wrong = secret.slice(0, 10) + (secret[10] === 'A' ? 'B' : 'A') + secret.slice(11);
      refuses(() => verifyWebhook(req.raw, req.headers, wrong), /no signature matches/);
      assert.equal(verify(req.raw, req.headers, wrong), false);
      // The compatibility headers are checked when present.
      refuses(() => verifyWebhook(req.raw, { ...req.headers, 'x-nector-webhook-hmac': '0'.repeat(64) }, secret), /x-nector-webhook-hmac does not match the body/);
      refuses(() => verifyWebhook(req.raw, { ...req.headers, 'x-nector-webhook-secret': '0'.repeat(64) }, secret), /x-nector-webhook-secret is not the SHA-256 of the secret/);
      // A request replayed ten minutes later is refused.
      refuses(() => verifyWebhook(req.raw, req.headers, secret, { now: Math.floor(Date.now() / 1000) + 600 }), /too far from now/);
    });
  }

  it('works in a ten-line Fastify receiver', async () => {
    const secret = 'whsec_' + Buffer.from('a fastify receiver secret 32 b!!').toString('base64');
    const got: { topic: unknown; event: any }[] = [];
    // ---- the receiver ----
    fastify = Fastify();
    fastify.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    fastify.post('/hooks', async (req, reply) => {
      try {
        const event = verifyWebhook(req.body as Buffer, req.headers, secret);
        got.push({ topic: req.headers['x-nector-topic'], event });
        return { ok: true };
      } catch (err) {
        return reply.status(400).send({ error: (err as Error).message });
      }
    });
    const address = await fastify.listen({ host: '127.0.0.1', port: 0 });
    // ----
    const { ws } = await setupWebhook(h, `${address}/hooks`, { topic: 'coupon_create', secret, prefix: 'shop1_' }, { name: 'Acme Coffee' });
    const event = await publish(h, ws, 'coupon_create', { customer_id: '4417', value: 'ACME-10', amount: 10 });
    const deliveries = (await h.api('GET', `/api/v1/workspaces/${ws}/deliveries?event_id=${event.id}`)).body.data;
    const done = await waitForDelivery(h, ws, deliveries[0].id, (d) => d.status !== 'pending');
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal(done.attempts[0].status_code, 200);
    assert.equal(got.length, 1);
    assert.equal(got[0]!.topic, 'shop1_coupon_create');
    assert.equal(got[0]!.event.value, 'ACME-10');
    assert.equal(got[0]!.event.business_name, 'Acme Coffee');

    // A webhook with another secret is refused by this receiver, with the reason as the answer.
    const other = await createWebhook(h, ws, { topic: 'coupon_create', url: `${address}/hooks`, secret: 'not the receiver secret' });
    const tested = (await h.api('POST', `/api/v1/workspaces/${ws}/webhooks/${other.id}/test`, {})).body.delivery;
    assert.equal(tested.status, 'failed');
    assert.equal(tested.attempts[0].status_code, 400);
    assert.match(tested.attempts[0].response_body, /no signature matches the secret/);
  });
});
