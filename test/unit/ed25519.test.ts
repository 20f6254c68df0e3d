import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, sign, verify } from 'node:crypto';
import {
  KeyFormatError,
  asymmetricSignature,
  generateKeyPair,
  isPublicKey,
  parsePrivateKey,
  parsePublicKey,
  publicKeyOf,
  verifyAsymmetric,
} from '../../src/domain/ed25519.js';
import { signedHeaders, signingSecret } from '../../src/domain/signing.js';

// RFC 8032 §7.1 TEST 1's key pair, and the Standard Webhooks test message (id, timestamp, body).
// The expected signatures were computed outside Node, with OpenSSL 3:
//   openssl pkeyutl -sign -rawin -inkey k.pem -in m.txt | base64
// where k.pem holds the seed and m.txt is "msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{"test": 2432232314}".
const SEED_HEX = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const PUBLIC_HEX = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const PRIVATE_KEY = 'whsk_' + Buffer.from(SEED_HEX, 'hex').toString('base64');
const PUBLIC_KEY = 'whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=';
const RFC_EMPTY_MESSAGE_SIG =
  'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b';
const VECTOR = {
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1a,fldxM4gAKugP6nnt1hdz3sgGfZ6d99nzrMFnZOELIxbzEHoVmAb2ADpkJK7zgPePmPsle0zV9jSeGlHFG2NVAw==',
};
const HMAC_SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const HMAC_SIGNATURE = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';

/**
 * A receiver's check written from the Standard Webhooks spec alone, with node:crypto and
 * nothing of Herald's: decode whpk_, wrap the 32 bytes as a JWK, verify each v1a signature.
 */
function specVerify(publicKey: string, headers: Record<string, string>, body: string): boolean {
  const raw = Buffer.from(publicKey.slice('whpk_'.length), 'base64');
  const key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  const content = Buffer.from(`${headers['webhook-id']}.${headers['webhook-timestamp']}.${body}`);
  return headers['webhook-signature']!.split(' ').some((s) => {
    const [version, sig] = s.split(',');
    return version === 'v1a' && verify(null, content, key, Buffer.from(sig!, 'base64'));
  });
}

describe('Ed25519 keys', () => {
  it('reads the RFC 8032 key pair: its public key, and its signature of the empty message', () => {
    const key = parsePrivateKey(PRIVATE_KEY);
    assert.equal(publicKeyOf(key), PUBLIC_KEY);
    assert.equal(Buffer.from(PUBLIC_KEY.slice(5), 'base64').toString('hex'), PUBLIC_HEX);
    assert.equal(sign(null, Buffer.alloc(0), key).toString('hex'), RFC_EMPTY_MESSAGE_SIG);
  });

  it('generates whsk_/whpk_ pairs that belong together and differ each time', () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    assert.match(a.privateKey, /^whsk_[A-Za-z0-9+/]{43}=$/);
    assert.match(a.publicKey, /^whpk_[A-Za-z0-9+/]{43}=$/);
    assert.notEqual(a.privateKey, b.privateKey);
    assert.equal(publicKeyOf(parsePrivateKey(a.privateKey)), a.publicKey);
    const sig = asymmetricSignature(parsePrivateKey(a.privateKey), 'msg_1', 1700000000, '{}');
    assert.ok(verifyAsymmetric(parsePublicKey(a.publicKey), sig, 'msg_1', 1700000000, '{}'));
    assert.ok(!verifyAsymmetric(parsePublicKey(b.publicKey), sig, 'msg_1', 1700000000, '{}'));
  });

  it('refuses malformed keys with a KeyFormatError saying what is expected', () => {
    for (const bad of ['', 'whsk_', 'whsec_abc', PRIVATE_KEY.slice(0, -2), PRIVATE_KEY + 'AA', 'whsk_' + Buffer.alloc(31).toString('base64')]) {
      assert.throws(() => parsePrivateKey(bad), KeyFormatError, bad);
    }
    assert.throws(() => parsePublicKey(PRIVATE_KEY), /must start with whpk_/);
    assert.throws(() => parsePublicKey('whpk_!!!!'), /must be whpk_ and the base64 of 32 bytes/);
    assert.ok(isPublicKey(PUBLIC_KEY));
    assert.ok(!isPublicKey(HMAC_SECRET));
  });
});

describe('v1a signature', () => {
  it('signs the test message exactly as OpenSSL does', () => {
    const key = parsePrivateKey(PRIVATE_KEY);
    assert.equal(asymmetricSignature(key, VECTOR.id, VECTOR.timestamp, VECTOR.body), VECTOR.signature);
    assert.equal(asymmetricSignature(key, VECTOR.id, VECTOR.timestamp, Buffer.from(VECTOR.body)), VECTOR.signature);
  });

  it('verifies only the very content, key and signature', () => {
    const pub = parsePublicKey(PUBLIC_KEY);
    assert.ok(verifyAsymmetric(pub, VECTOR.signature, VECTOR.id, VECTOR.timestamp, VECTOR.body));
    assert.ok(verifyAsymmetric(pub, VECTOR.signature, VECTOR.id, String(VECTOR.timestamp), Buffer.from(VECTOR.body)));
    assert.ok(!verifyAsymmetric(pub, VECTOR.signature, VECTOR.id, VECTOR.timestamp, '{"test": 2432232315}'));
    assert.ok(!verifyAsymmetric(pub, VECTOR.signature, 'msg_other', VECTOR.timestamp, VECTOR.body));
    assert.ok(!verifyAsymmetric(pub, VECTOR.signature, VECTOR.id, VECTOR.timestamp + 1, VECTOR.body));
    assert.ok(!verifyAsymmetric(pub, VECTOR.signature.replace('v1a,', 'v1,'), VECTOR.id, VECTOR.timestamp, VECTOR.body));
    assert.ok(!verifyAsymmetric(pub, 'v1a,AAAA', VECTOR.id, VECTOR.timestamp, VECTOR.body));
    assert.ok(!verifyAsymmetric(parsePublicKey(generateKeyPair().publicKey), VECTOR.signature, VECTOR.id, VECTOR.timestamp, VECTOR.body));
  });

  it('signedHeaders carries v1 then v1a, one per secret and key, and the spec-only verifier accepts it', () => {
    const rotated = generateKeyPair();
    const headers = signedHeaders({
      prefix: 'x-nector', topic: 'lead_create', deliveryId: VECTOR.id, timestamp: VECTOR.timestamp, body: VECTOR.body,
      secrets: [signingSecret(HMAC_SECRET)], signingKeys: [parsePrivateKey(PRIVATE_KEY), parsePrivateKey(rotated.privateKey)], userAgent: 'Herald/test',
    });
    const parts = headers['webhook-signature']!.split(' ');
    assert.equal(parts.length, 3);
    assert.equal(parts[0], HMAC_SIGNATURE);
    assert.equal(parts[1], VECTOR.signature);
    assert.match(parts[2]!, /^v1a,[A-Za-z0-9+/]{86}==$/);
    assert.ok(specVerify(PUBLIC_KEY, headers, VECTOR.body));
    assert.ok(specVerify(rotated.publicKey, headers, VECTOR.body));
    assert.ok(!specVerify(generateKeyPair().publicKey, headers, VECTOR.body));
    assert.ok(!specVerify(PUBLIC_KEY, headers, VECTOR.body + ' '));
  });

  it('an HMAC-only webhook is signed exactly as before', () => {
    const input = { prefix: 'x-nector', topic: 'lead_create', deliveryId: VECTOR.id, timestamp: VECTOR.timestamp, body: VECTOR.body, secrets: [signingSecret(HMAC_SECRET)], userAgent: 'Herald/test' };
    assert.equal(signedHeaders(input)['webhook-signature'], HMAC_SIGNATURE);
    assert.deepEqual(signedHeaders({ ...input, signingKeys: [] }), signedHeaders(input));
  });
});
