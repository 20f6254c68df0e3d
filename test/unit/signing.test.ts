import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import {
  bodyHmac,
  generateSecret,
  isReservedHeader,
  secretDigest,
  signedHeaders,
  signingSecret,
  standardKey,
  standardSignature,
  type SignInput,
} from '../../src/domain/signing.js';

// The test vector published by Standard Webhooks (and Svix) for its reference libraries.
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

// Values computed outside Node (coreutils sha256sum, openssl dgst), not with the code under test.
const S3CRET_SHA256 = '1ec1c26b50d5d3c58d9583181af8076655fe00756bf7285940ba3670f99fcba0';
const S3CRET_HMAC_OF_A1 = '5910e62016ef5034272c926c27071992a465c2335cecf41851bda071577f4f6d'; // body {"a":1}
const UNICODE_SECRET = 'pässwörd🔑';
const UNICODE_SECRET_SHA256 = 'a2715c1728be8ec0a8d7de815ee3f6ef1f3375d0ce141a2b3396595649c27128';
const UNICODE_BODY = '{"name":"Zoë","note":"日本"}';
const UNICODE_BODY_HMAC = '8e091c7fcaadd169030658ea78652d6f3b1846abd6704cb126aff2671e2416ca';
const UNICODE_STANDARD_SIG = 'v1,GwDnG6XVU2Ye59tEWU+OaRvRye9hMnljXGxUFbVq1g8='; // id msg_1, ts 1700000000

const nowSeconds = () => Math.floor(Date.now() / 1000);

function input(overrides: Partial<SignInput> & { secret?: string } = {}): SignInput {
  const { secret, ...rest } = overrides;
  return {
    prefix: 'x-nector',
    topic: 'walletreward_create',
    deliveryId: 'dlv_01TEST',
    timestamp: nowSeconds(),
    body: '{"customer_id":"c1","amount":150}',
    secrets: [signingSecret(secret ?? VECTOR.secret)],
    userAgent: 'Herald/test',
    ...rest,
  };
}

describe('Standard Webhooks signature', () => {
  it('signs the official test vector exactly', () => {
    const sig = standardSignature(standardKey(VECTOR.secret), VECTOR.id, VECTOR.timestamp, VECTOR.body);
    assert.equal(sig, VECTOR.signature);
  });

  it('signs the test vector from a Buffer body too', () => {
    const sig = standardSignature(standardKey(VECTOR.secret), VECTOR.id, VECTOR.timestamp, Buffer.from(VECTOR.body));
    assert.equal(sig, VECTOR.signature);
  });

  it('signedHeaders produces the test vector signature', () => {
    const headers = signedHeaders({
      prefix: 'x-nector',
      topic: 'lead_create',
      deliveryId: VECTOR.id,
      timestamp: VECTOR.timestamp,
      body: VECTOR.body,
      secrets: [signingSecret(VECTOR.secret)],
      userAgent: 'Herald/test',
    });
    assert.equal(headers['webhook-signature'], VECTOR.signature);
    assert.equal(headers['webhook-id'], VECTOR.id);
    assert.equal(headers['webhook-timestamp'], '1614265330');
  });

  it('standardKey base64-decodes a whsec_ secret', () => {
    assert.deepEqual(standardKey(VECTOR.secret), Buffer.from('MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'base64'));
    assert.equal(standardKey(VECTOR.secret).length, 24);
  });

  it('standardKey uses the UTF-8 bytes of any other secret', () => {
    assert.deepEqual(standardKey('s3cret'), Buffer.from('s3cret', 'utf8'));
    assert.deepEqual(standardKey(UNICODE_SECRET), Buffer.from(UNICODE_SECRET, 'utf8'));
    // whsec_ followed by something that is not base64: the whole string, as text.
    assert.deepEqual(standardKey('whsec_not base64!'), Buffer.from('whsec_not base64!', 'utf8'));
  });

  it('signs non-ASCII secrets and bodies over their UTF-8 bytes', () => {
    const sig = standardSignature(standardKey(UNICODE_SECRET), 'msg_1', 1700000000, UNICODE_BODY);
    assert.equal(sig, UNICODE_STANDARD_SIG);
    assert.equal(standardSignature(standardKey(UNICODE_SECRET), 'msg_1', 1700000000, Buffer.from(UNICODE_BODY)), UNICODE_STANDARD_SIG);
  });
});

describe('verification with the standardwebhooks library', () => {
  it('accepts headers signed with a whsec_ secret', () => {
    const secret = generateSecret();
    const body = '{"customer_id":"c1","amount":150,"business_name":"Café"}';
    const headers = signedHeaders(input({ secret, body }));
    const payload = new Webhook(secret).verify(body, headers);
    assert.deepEqual(payload, JSON.parse(body));
  });

  it('accepts headers signed with the vector secret', () => {
    const body = '{"test": 2432232314}';
    const headers = signedHeaders(input({ secret: VECTOR.secret, body }));
    assert.deepEqual(new Webhook(VECTOR.secret).verify(body, headers), { test: 2432232314 });
  });

  it('accepts headers signed with a plain secret, with format raw', () => {
    const secret = 'my-plain-shared-secret';
    const body = '{"order_id":"o-1"}';
    const headers = signedHeaders(input({ secret, body }));
    assert.deepEqual(new Webhook(secret, { format: 'raw' }).verify(body, headers), { order_id: 'o-1' });
  });

  it('accepts a Buffer body', () => {
    const secret = generateSecret();
    const body = Buffer.from('{"x":"ü"}', 'utf8');
    const headers = signedHeaders(input({ secret, body }));
    assert.deepEqual(new Webhook(secret).verify(body, headers), { x: 'ü' });
  });

  it('accepts a non-ASCII plain secret given to it as UTF-8 bytes', () => {
    // The library's raw format maps a *string* secret char by char (not UTF-8), so a
    // receiver with a non-ASCII secret passes its UTF-8 bytes; that is what Herald signs with.
    const headers = signedHeaders(input({ secret: UNICODE_SECRET, body: UNICODE_BODY }));
    const wh = new Webhook(Buffer.from(UNICODE_SECRET, 'utf8'), { format: 'raw' });
    assert.deepEqual(wh.verify(UNICODE_BODY, headers), JSON.parse(UNICODE_BODY));
  });

  it('rejects a tampered body or the wrong secret', () => {
    const secret = generateSecret();
    const body = '{"amount":1}';
    const headers = signedHeaders(input({ secret, body }));
    assert.throws(() => new Webhook(secret).verify('{"amount":2}', headers));
    assert.throws(() => new Webhook(generateSecret()).verify(body, headers));
  });

  it('during a rotation every secret verifies: signatures are space-separated', () => {
    const current = generateSecret();
    const previous = generateSecret();
    const plain = 'older-plain-secret';
    const body = '{"a":1}';
    const headers = signedHeaders(input({ body, secrets: [current, previous, plain].map(signingSecret) }));
    const sigs = headers['webhook-signature']!.split(' ');
    assert.equal(sigs.length, 3);
    for (const s of sigs) assert.match(s, /^v1,[A-Za-z0-9+/]{43}=$/);
    assert.equal(new Set(sigs).size, 3);
    assert.deepEqual(new Webhook(current).verify(body, headers), { a: 1 });
    assert.deepEqual(new Webhook(previous).verify(body, headers), { a: 1 });
    assert.deepEqual(new Webhook(plain, { format: 'raw' }).verify(body, headers), { a: 1 });
    assert.throws(() => new Webhook(generateSecret()).verify(body, headers));
    // Each signature on its own is the one for its secret.
    assert.equal(sigs[0], standardSignature(standardKey(current), 'dlv_01TEST', Number(headers['webhook-timestamp']), body));
    assert.equal(sigs[1], standardSignature(standardKey(previous), 'dlv_01TEST', Number(headers['webhook-timestamp']), body));
    assert.equal(sigs[2], standardSignature(standardKey(plain), 'dlv_01TEST', Number(headers['webhook-timestamp']), body));
  });
});

describe('Nector compatibility headers', () => {
  it('x-nector-webhook-secret is the lowercase hex SHA-256 of the secret', () => {
    const headers = signedHeaders(input({ secret: 's3cret' }));
    assert.equal(headers['x-nector-webhook-secret'], S3CRET_SHA256);
    assert.equal(headers['x-nector-webhook-secret'], createHash('sha256').update(Buffer.from('s3cret', 'utf8')).digest('hex'));
    assert.match(headers['x-nector-webhook-secret']!, /^[0-9a-f]{64}$/);
    assert.equal(secretDigest('s3cret'), S3CRET_SHA256);
  });

  it('hashes a whsec_ secret as its text, not its decoded key', () => {
    const headers = signedHeaders(input({ secret: VECTOR.secret }));
    assert.equal(headers['x-nector-webhook-secret'], createHash('sha256').update(VECTOR.secret, 'utf8').digest('hex'));
  });

  it('x-nector-webhook-hmac is the hex HMAC-SHA256 of the raw body keyed with the secret', () => {
    const body = '{"a":1}';
    const headers = signedHeaders(input({ secret: 's3cret', body }));
    assert.equal(headers['x-nector-webhook-hmac'], S3CRET_HMAC_OF_A1);
    assert.equal(headers['x-nector-webhook-hmac'], createHmac('sha256', Buffer.from('s3cret', 'utf8')).update(Buffer.from(body, 'utf8')).digest('hex'));
    assert.equal(bodyHmac('s3cret', body), S3CRET_HMAC_OF_A1);
    assert.equal(bodyHmac('s3cret', Buffer.from(body)), S3CRET_HMAC_OF_A1);
  });

  it('non-ASCII secrets and bodies are hashed as UTF-8', () => {
    const headers = signedHeaders(input({ secret: UNICODE_SECRET, body: UNICODE_BODY }));
    assert.equal(headers['x-nector-webhook-secret'], UNICODE_SECRET_SHA256);
    assert.equal(headers['x-nector-webhook-hmac'], UNICODE_BODY_HMAC);
    const fromBuffer = signedHeaders(input({ secret: UNICODE_SECRET, body: Buffer.from(UNICODE_BODY, 'utf8') }));
    assert.equal(fromBuffer['x-nector-webhook-hmac'], UNICODE_BODY_HMAC);
  });

  it('the secret and hmac headers use the current (first) secret during a rotation', () => {
    const body = '{"a":1}';
    const headers = signedHeaders(input({ body, secrets: ['s3cret', 'old-secret'].map(signingSecret) }));
    assert.equal(headers['x-nector-webhook-secret'], S3CRET_SHA256);
    assert.equal(headers['x-nector-webhook-hmac'], S3CRET_HMAC_OF_A1);
  });

  it('sends every header of contract section 4', () => {
    const ts = 1700000123;
    const body = '{"a":1}';
    const headers = signedHeaders(input({
      topic: 'shop1_walletreward_create',
      deliveryId: 'dlv_ABC',
      timestamp: ts,
      body,
      secrets: [signingSecret('s3cret')],
      userAgent: 'Herald/9.9.9',
    }));
    assert.deepEqual(headers, {
      accept: 'application/json',
      'content-type': 'application/json',
      'user-agent': 'Herald/9.9.9',
      'x-source': 'unix',
      'x-nector-topic': 'shop1_walletreward_create',
      'x-nector-delivery-id': 'dlv_ABC',
      'x-nector-timestamp': '1700000123',
      'x-nector-webhook-secret-algo': 'sha256',
      'x-nector-webhook-secret': S3CRET_SHA256,
      'x-nector-webhook-hmac-algo': 'sha256',
      'x-nector-webhook-hmac': S3CRET_HMAC_OF_A1,
      'webhook-id': 'dlv_ABC',
      'webhook-timestamp': '1700000123',
      'webhook-signature': standardSignature(Buffer.from('s3cret'), 'dlv_ABC', ts, body),
    });
    for (const name of Object.keys(headers)) assert.equal(name, name.toLowerCase());
  });

  it('the header prefix is configurable', () => {
    const headers = signedHeaders(input({ prefix: 'x-acme', secret: 's3cret', body: '{"a":1}', deliveryId: 'dlv_X', topic: 'order_create' }));
    assert.equal(headers['x-acme-topic'], 'order_create');
    assert.equal(headers['x-acme-delivery-id'], 'dlv_X');
    assert.equal(headers['x-acme-timestamp'], headers['webhook-timestamp']);
    assert.equal(headers['x-acme-webhook-secret-algo'], 'sha256');
    assert.equal(headers['x-acme-webhook-secret'], S3CRET_SHA256);
    assert.equal(headers['x-acme-webhook-hmac-algo'], 'sha256');
    assert.equal(headers['x-acme-webhook-hmac'], S3CRET_HMAC_OF_A1);
    assert.equal(headers['x-source'], 'unix');
    assert.ok(!Object.keys(headers).some((n) => n.startsWith('x-nector')));
  });
});

describe('generateSecret', () => {
  it('is whsec_ and the base64 of 32 random bytes', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const s = generateSecret();
      assert.match(s, /^whsec_[A-Za-z0-9+/]{43}=$/);
      const raw = Buffer.from(s.slice(6), 'base64');
      assert.equal(raw.length, 32);
      assert.equal(raw.toString('base64'), s.slice(6));
      assert.deepEqual(standardKey(s), raw);
      seen.add(s);
    }
    assert.equal(seen.size, 200);
  });
});

describe('isReservedHeader', () => {
  const prefix = 'x-nector';

  it("refuses Herald's own headers, in any case", () => {
    for (const name of [
      'accept', 'Content-Type', 'user-agent', 'x-source', 'content-length',
      'x-nector-topic', 'X-Nector-Delivery-Id', 'x-nector-timestamp', 'x-nector-webhook-secret',
      'x-nector-webhook-secret-algo', 'x-nector-webhook-hmac', 'x-nector-webhook-hmac-algo', 'x-nector-anything',
      'webhook-id', 'webhook-timestamp', 'Webhook-Signature',
    ]) {
      assert.equal(isReservedHeader(name, prefix), true, name);
    }
  });

  it('refuses hop-by-hop and framing headers', () => {
    for (const name of [
      'host', 'connection', 'Keep-Alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection',
      'te', 'trailer', 'transfer-encoding', 'upgrade', 'expect', 'content-encoding',
    ]) {
      assert.equal(isReservedHeader(name, prefix), true, name);
    }
  });

  it('allows ordinary custom headers', () => {
    for (const name of ['x-api-key', 'Authorization', 'x-tenant', 'x-nectorish', 'x-acme-topic', 'webhookid']) {
      assert.equal(isReservedHeader(name, prefix), false, name);
    }
  });

  it('follows the configured prefix', () => {
    assert.equal(isReservedHeader('x-acme-topic', 'x-acme'), true);
    assert.equal(isReservedHeader('X-ACME-WEBHOOK-HMAC', 'x-acme'), true);
    assert.equal(isReservedHeader('x-nector-topic', 'x-acme'), false);
    assert.equal(isReservedHeader('x-api-key', 'x-acme'), false);
  });
});
