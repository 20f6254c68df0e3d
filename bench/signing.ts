// Micro-benchmark of the per-event and per-attempt costs added by issue 14, in one process:
//
//   node --import tsx bench/signing.ts
//
// - signing an attempt's headers: HMAC only (today), HMAC + one Ed25519 key, HMAC + two keys
//   (a rotation's grace period); and what parsing a private key costs, which is why it is
//   done once per webhook version and not per attempt;
// - a receiver's verification: v1 with the secret, v1a with the public key;
// - a topic schema: compiling it, and validating one walletreward_create event (valid, invalid);
// - a child traceparent.
// Each figure is the median of 7 rounds, in microseconds of this process's CPU time per
// operation (CPU time rather than wall time, so other processes on the machine do not count).
import { readFileSync } from 'node:fs';
import { generateKeyPair, parsePrivateKey } from '../src/domain/ed25519.js';
import { generateSecret, signedHeaders, signingSecret, type SignInput } from '../src/domain/signing.js';
import { childTraceparent } from '../src/domain/traceparent.js';
import { compileSchema, TopicSchemas } from '../src/domain/topic-schema.js';
import { verifyWebhook } from '../src/receiver/verify.js';
import { walletReward } from './payload.js';

function measure(name: string, iterations: number, fn: (i: number) => unknown): number {
  for (let i = 0; i < Math.min(iterations, 2_000); i++) fn(i); // warm-up
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    const started = process.cpuUsage();
    for (let i = 0; i < iterations; i++) fn(i);
    const used = process.cpuUsage(started);
    rounds.push((used.user + used.system) / iterations);
  }
  rounds.sort((a, b) => a - b);
  const median = rounds[3]!;
  console.log(`${name.padEnd(58)} ${median.toFixed(2).padStart(8)} µs`);
  return median;
}

const bodies = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ ...walletReward(i), business_name: 'Brew & Bean', business_uri: 'https://brew.example' }));
const secret = signingSecret(generateSecret());
const [a, b] = [generateKeyPair(), generateKeyPair()];
const keyA = parsePrivateKey(a.privateKey);
const keyB = parsePrivateKey(b.privateKey);
const input = (i: number, signingKeys?: SignInput['signingKeys']): SignInput => ({
  prefix: 'x-nector', topic: 'walletreward_create', deliveryId: `dlv_${i}`, timestamp: 1_700_000_000 + i, body: bodies[i % bodies.length]!,
  secrets: [secret], signingKeys, userAgent: 'Herald/bench',
});

console.log(`body ≈ ${Buffer.byteLength(bodies[0]!)} bytes; node ${process.version}\n`);
console.log('Signing one attempt (signedHeaders)');
const hmac = measure('  HMAC only (v1 + Nector headers)', 20_000, (i) => signedHeaders(input(i)));
const ed = measure('  HMAC + Ed25519, one key (v1 + v1a)', 20_000, (i) => signedHeaders(input(i, [keyA])));
const rot = measure('  HMAC + Ed25519, two keys (rotation grace period)', 10_000, (i) => signedHeaders(input(i, [keyA, keyB])));
console.log(`  → Ed25519 adds ${(ed - hmac).toFixed(1)} µs per attempt (×${(ed / hmac).toFixed(1)}); a second key ${(rot - ed).toFixed(1)} µs more`);
measure('  parsing a whsk_ private key (once per webhook version)', 5_000, () => parsePrivateKey(a.privateKey));

console.log('\nVerifying on the receiver (verifyWebhook)');
const now = 1_700_000_000;
const v1Headers = signedHeaders({ ...input(0), timestamp: now });
const v1aHeaders = signedHeaders({ ...input(0, [keyA]), timestamp: now });
measure('  v1 with the secret (and the Nector headers)', 20_000, () => verifyWebhook(bodies[0]!, v1Headers, secret.secret, { now }));
measure('  v1a with the whpk_ public key', 10_000, () => verifyWebhook(bodies[0]!, v1aHeaders, a.publicKey, { now }));

console.log('\nTopic schema (walletreward_create, test/fixtures/walletreward_create.schema.json)');
const schema = JSON.parse(readFileSync(new URL('../test/fixtures/walletreward_create.schema.json', import.meta.url), 'utf8'));
measure('  compiling the schema (once per topic and schema version)', 200, () => compileSchema(schema));
const schemas = new TopicSchemas();
const events = bodies.map((body) => JSON.parse(body) as Record<string, unknown>);
const invalid = events.map((e) => ({ ...e, amount: -1, operation: 'refund' }));
measure('  validating a valid event (cached validator lookup included)', 200_000, (i) => schemas.validator('walletreward_create', 1, schema)(events[i % events.length]));
measure('  validating an invalid event (2 faults reported)', 100_000, (i) => schemas.validator('walletreward_create', 1, schema)(invalid[i % invalid.length]));

console.log('\nTracing');
measure('  a child traceparent', 200_000, () => childTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'));
