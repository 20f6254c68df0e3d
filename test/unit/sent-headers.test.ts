import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPair, parsePrivateKey } from '../../src/domain/ed25519.js';
import { attemptHeaders, compactHeaders, sentAndStored, sentHeaders, storedHeaders, type SentFacts } from '../../src/domain/sent-headers.js';
import { signAttempt, signedLayout, signingSecret } from '../../src/domain/signing.js';
import { childTraceparent } from '../../src/domain/traceparent.js';

const FACTS: SentFacts = { deliveryId: 'dlv_01JQ0000000000000000000000', topic: 'walletreward_create', startedAt: 1_767_225_600_123 };
const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

type SentOptions = { prefix?: string; userAgent?: string; topicPrefix?: string; custom?: Record<string, string>; traceparent?: boolean; ed25519?: boolean; rotated?: boolean; facts?: SentFacts };

/** The headers AttemptRunner sends for this webhook and delivery, and their stored form (the same calls it makes). */
function sentAndStoredBy(o: SentOptions = {}) {
  const facts = o.facts ?? FACTS;
  const signed = signAttempt({
    prefix: o.prefix ?? 'x-nector',
    topic: (o.topicPrefix ?? '') + facts.topic,
    deliveryId: facts.deliveryId,
    timestamp: Math.floor(facts.startedAt / 1000),
    body: '{"amount":125,"business_name":"Shop"}',
    secrets: [signingSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'), ...(o.rotated ? [signingSecret('an old secret')] : [])],
    signingKeys: o.ed25519 ? [parsePrivateKey(generateKeyPair().privateKey)] : undefined,
    userAgent: o.userAgent ?? 'Herald/0.1.0',
  });
  return sentAndStored(o.custom ?? {}, signed, facts, o.traceparent ? childTraceparent(PARENT) : null);
}

/** The headers AttemptRunner sends for this webhook and delivery. */
function sent(o: SentOptions = {}) {
  return sentAndStoredBy(o).headers;
}

/** Stored as recordResults stores it (JSON text), then read back as getDelivery reads it. */
function roundTrip(headers: Record<string, string>, facts = FACTS) {
  const stored = JSON.stringify(compactHeaders(headers, facts));
  return { stored, read: sentHeaders(JSON.parse(stored), facts) };
}

/** Same names, values and order. */
function assertExactly(read: Record<string, string>, headers: Record<string, string>) {
  assert.deepEqual(Object.entries(read), Object.entries(headers));
}

describe('stored attempt headers', () => {
  const cases: [string, Parameters<typeof sent>[0]][] = [
    ['plain HMAC webhook', {}],
    ['custom headers, topic prefix, traceparent', { custom: { 'X-Tenant': 'acme', authorization: 'Bearer t "q" é' }, topicPrefix: 'shop.', traceparent: true }],
    ['ed25519 during a secret rotation (three signatures)', { ed25519: true, rotated: true }],
    ['another header prefix and user agent (settings of another run)', { prefix: 'x-acme', userAgent: 'Herald/9.9.9 (custom)' }],
    ['a custom header named traceparent, overwritten by the event\'s', { custom: { traceparent: 'mine', 'x-a': '1' }, traceparent: true }],
    ['a custom header whose name is a number (objects put those first)', { custom: { 'x-b': '2', '123': 'n' } }],
  ];
  for (const [name, o] of cases) {
    it(`${name}: stored as it is signed, read back exactly as sent`, () => {
      const { headers, stored } = sentAndStoredBy(o);
      assert.ok(stored.startsWith('[1,'), stored);
      assertExactly(sentHeaders(JSON.parse(stored), FACTS), headers);
      assert.equal(storedHeaders({ ...FACTS, requestHeaders: headers, storedHeaders: stored }), stored);
    });
    it(`${name}: stored compactly from the headers alone, read back exactly as sent`, () => {
      const headers = sent(o);
      const { stored, read } = roundTrip(headers);
      assert.ok(stored.startsWith('[1,'), stored);
      assertExactly(read, headers);
    });
  }

  it('sends the custom headers, then the signed ones in their layout, then the traceparent', () => {
    const custom = { 'X-Tenant': 'acme' };
    const signed = signAttempt({
      prefix: 'x-nector', topic: FACTS.topic, deliveryId: FACTS.deliveryId, timestamp: Math.floor(FACTS.startedAt / 1000),
      body: '{}', secrets: [signingSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')], userAgent: 'Herald/0.1.0',
    });
    const traceparent = childTraceparent(PARENT)!;
    assertExactly(sentAndStored(custom, signed, FACTS, traceparent).headers, { ...custom, ...signedLayout(signed), traceparent });
  });

  it('stores compactly as it signs even a custom header that a later header prefix made one of the signed ones', () => {
    // Saved when the prefix was x-nector, sent after a restart with HERALD_HEADER_PREFIX=x-acme
    // (compactHeaders, from the headers alone, keeps these whole: below).
    const { headers, stored } = sentAndStoredBy({ prefix: 'x-acme', custom: { 'x-acme-topic': 'mine', 'x-b': '2' } });
    assert.ok(stored.startsWith('[1,'), stored);
    assertExactly(sentHeaders(JSON.parse(stored), FACTS), headers);
  });

  it('stores the headers as compactHeaders does when the values were not signed for the facts', () => {
    const signedFor = (facts: SentFacts) => signAttempt({
      prefix: 'x-nector', topic: facts.topic, deliveryId: facts.deliveryId, timestamp: Math.floor(facts.startedAt / 1000),
      body: '{}', secrets: [signingSecret('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')], userAgent: 'Herald/0.1.0',
    });
    for (const other of [{ ...FACTS, deliveryId: 'dlv_01JQ1111111111111111111111' }, { ...FACTS, startedAt: FACTS.startedAt + 1000 }, { ...FACTS, topic: 'lead_create' }]) {
      const { headers, stored } = sentAndStored({}, signedFor(other), FACTS, null);
      assert.ok(stored.startsWith('{'), stored);
      assertExactly(sentHeaders(JSON.parse(stored), FACTS), headers);
    }
  });

  it('stores well under half of the full header object', () => {
    const headers = sent({ traceparent: true });
    const { stored } = roundTrip(headers);
    assert.ok(stored.length < JSON.stringify(headers).length * 0.45, `${stored.length} of ${JSON.stringify(headers).length}`);
    for (const derived of [FACTS.deliveryId, FACTS.topic, String(Math.floor(FACTS.startedAt / 1000)), 'application/json']) {
      assert.ok(!stored.includes(derived), `${derived} is not stored`);
    }
  });

  it('keeps the full headers when they do not follow from the facts', () => {
    const other = { ...FACTS, deliveryId: 'dlv_01JQ1111111111111111111111' };
    const shapes: [string, Record<string, string>, SentFacts][] = [
      ['no headers (could not sign)', {}, FACTS],
      ['signed for another delivery id', sent({ facts: other }), FACTS],
      ['signed at another second', sent(), { ...FACTS, startedAt: FACTS.startedAt + 1000 }],
      ['another topic', sent(), { ...FACTS, topic: 'lead_create' }],
      ['a digest not in lowercase hex', { ...sent(), 'x-nector-webhook-secret': 'ABCDEF' }, FACTS],
      ['a header after the signed ones', { ...sent(), 'x-late': '1' }, FACTS],
      // Saved when the prefix was x-nector, sent after a restart with HERALD_HEADER_PREFIX=x-acme.
      ['a custom header that a later header prefix made one of the signed ones', sent({ prefix: 'x-acme', custom: { 'x-acme-topic': 'mine' } }), FACTS],
      ['fewer headers than the signed ones', { accept: 'application/json', 'webhook-id': FACTS.deliveryId }, FACTS],
    ];
    for (const [name, headers, facts] of shapes) {
      const { stored, read } = roundTrip(headers, facts);
      assert.ok(stored.startsWith('{'), `${name}: ${stored}`);
      assertExactly(read, headers);
    }
  });

  it('reads rows written before the compact form (a full header object) as they are', () => {
    const old = { 'content-type': 'application/json', 'webhook-id': 'dlv_x', 'x-q': 'say "hi"' };
    assertExactly(sentHeaders(JSON.parse(JSON.stringify(old)), FACTS), old);
  });
});
