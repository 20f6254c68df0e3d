import { createHash, createHmac, randomBytes, type KeyObject } from 'node:crypto';
import { asymmetricSignature } from './ed25519.js';

// The signature schemes a receiver may check: Nector's (hex SHA-256 of the secret and a hex
// HMAC of the body) and Standard Webhooks' (base64 HMAC of "id.timestamp.body", and for an
// ed25519 webhook also its Ed25519 signature, src/domain/ed25519.ts).

export function generateSecret(): string {
  return 'whsec_' + randomBytes(32).toString('base64');
}

/** The key Standard Webhooks signs with: the base64-decoded rest of a whsec_ secret, else its UTF-8 bytes. */
export function standardKey(secret: string): Buffer {
  if (secret.startsWith('whsec_')) {
    const rest = secret.slice('whsec_'.length);
    if (/^[A-Za-z0-9+/]+={0,2}$/.test(rest) && rest.length % 4 === 0) return Buffer.from(rest, 'base64');
  }
  return Buffer.from(secret, 'utf8');
}

export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function bodyHmac(secret: string, body: string | Buffer): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

export function standardSignature(key: Buffer, id: string, timestamp: number, body: string | Buffer): string {
  return 'v1,' + createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
}

/**
 * What signing needs of a secret, computed once per webhook rather than once per attempt:
 * the secret's digest for the compatibility header and the Standard Webhooks key.
 */
export interface SigningSecret {
  secret: string;
  digest: string;
  key: Buffer;
}

export function signingSecret(secret: string): SigningSecret {
  return { secret, digest: secretDigest(secret), key: standardKey(secret) };
}

export interface SignInput {
  prefix: string; // header prefix, e.g. "x-nector"
  topic: string; // as the receiver sees it (webhook prefix included)
  deliveryId: string;
  timestamp: number; // Unix seconds of this attempt
  body: string | Buffer;
  /** The current secret first, then any still valid during a rotation. */
  secrets: readonly SigningSecret[];
  /** An ed25519 webhook's private keys, the current first, then any still valid during a rotation. */
  signingKeys?: readonly KeyObject[];
  userAgent: string;
}

/** The headers of contract section 4, names in lowercase. */
export function signedHeaders(input: SignInput): Record<string, string> {
  return signedLayout(signAttempt(input));
}

/** The values of the signed headers of one attempt: its signatures, with what they sign. */
export function signAttempt(input: SignInput): SignedValues {
  const { secrets, body } = input;
  const current = secrets[0]!;
  const signatures = secrets.map((s) => standardSignature(s.key, input.deliveryId, input.timestamp, body));
  for (const key of input.signingKeys ?? []) signatures.push(asymmetricSignature(key, input.deliveryId, input.timestamp, body));
  return {
    prefix: input.prefix, userAgent: input.userAgent, topic: input.topic, deliveryId: input.deliveryId, timestamp: input.timestamp,
    secretDigest: current.digest, hmac: bodyHmac(current.secret, body), signature: signatures.join(' '),
  };
}

/** The values of the signed headers; all but the last three follow from the attempt's settings, its delivery and its time. */
export interface SignedValues {
  prefix: string;
  userAgent: string;
  topic: string;
  deliveryId: string;
  timestamp: number;
  secretDigest: string;
  hmac: string;
  signature: string;
}

/**
 * The signed headers, names and order, from their values: the one layout that signing
 * (signedHeaders) and storing and reading a stored attempt (src/domain/sent-headers.ts) share.
 * Set on `into` (a name it already has keeps its place), which is returned.
 */
export function signedLayout(v: SignedValues, into: Record<string, string> = {}): Record<string, string> {
  const names = signedNames(v.prefix);
  const values = signedValues(v);
  for (let i = 0; i < names.length; i++) into[names[i]!] = values[i]!;
  return into;
}

/** The names of the signed headers, in order (lowercase). */
export function signedNames(prefix: string): readonly string[] {
  let names = namesByPrefix.get(prefix);
  if (!names) {
    names = [
      'accept', 'content-type', 'user-agent', 'x-source',
      `${prefix}-topic`, `${prefix}-delivery-id`, `${prefix}-timestamp`,
      `${prefix}-webhook-secret-algo`, `${prefix}-webhook-secret`, `${prefix}-webhook-hmac-algo`, `${prefix}-webhook-hmac`,
      'webhook-id', 'webhook-timestamp', 'webhook-signature',
    ];
    if (namesByPrefix.size >= 64) namesByPrefix.clear();
    namesByPrefix.set(prefix, names);
  }
  return names;
}

const namesByPrefix = new Map<string, readonly string[]>();

/** The values of the signed headers, in the order of signedNames. */
export function signedValues(v: SignedValues): string[] {
  const ts = String(v.timestamp);
  return [
    'application/json', 'application/json', v.userAgent, 'unix',
    v.topic, v.deliveryId, ts,
    'sha256', v.secretDigest, 'sha256', v.hmac,
    v.deliveryId, ts, v.signature,
  ];
}

/** Names a webhook's custom headers may not use: Herald's own and hop-by-hop ones. */
export function isReservedHeader(name: string, prefix: string): boolean {
  const n = name.toLowerCase();
  return (
    n.startsWith(prefix + '-') ||
    n.startsWith('webhook-') ||
    [
      'accept', 'content-type', 'content-length', 'user-agent', 'x-source', 'host', 'connection',
      'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
      'transfer-encoding', 'upgrade', 'expect', 'content-encoding',
    ].includes(n)
  );
}
