import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

// Standard Webhooks' asymmetric scheme: an Ed25519 signature of "{id}.{timestamp}.{body}",
// sent as "v1a,<base64>". Keys travel as strings: the private key as "whsk_" + base64 of its
// 32-byte seed (what Herald stores, encrypted like secrets), the public key as "whpk_" +
// base64 of its raw 32 bytes (what receivers are given). All the cryptography is node:crypto's.

export const PRIVATE_KEY_PREFIX = 'whsk_';
export const PUBLIC_KEY_PREFIX = 'whpk_';

// The fixed DER headers that wrap a raw 32-byte Ed25519 key (RFC 8410): PKCS #8 for the
// private seed, SubjectPublicKeyInfo for the public key. Only framing; node:crypto parses it.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export class KeyFormatError extends Error {}

export interface Ed25519KeyPair {
  privateKey: string; // whsk_…
  publicKey: string; // whpk_…
}

export function generateKeyPair(): Ed25519KeyPair {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { privateKey: PRIVATE_KEY_PREFIX + seedOf(privateKey).toString('base64'), publicKey: publicKeyOf(privateKey) };
}

/** The 32 bytes after a prefix, or a KeyFormatError naming what is wrong. */
function rawKey(text: string, prefix: string, what: string): Buffer {
  if (typeof text !== 'string' || !text.startsWith(prefix)) throw new KeyFormatError(`${what} must start with ${prefix}`);
  const rest = text.slice(prefix.length);
  const raw = Buffer.from(rest, 'base64');
  if (!/^[A-Za-z0-9+/]{43}=$/.test(rest) || raw.length !== 32) throw new KeyFormatError(`${what} must be ${prefix} and the base64 of 32 bytes`);
  return raw;
}

/** A whsk_ string as a KeyObject. Costs tens of microseconds: callers keep the result. */
export function parsePrivateKey(text: string): KeyObject {
  const seed = rawKey(text, PRIVATE_KEY_PREFIX, 'an Ed25519 private key');
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function parsePublicKey(text: string): KeyObject {
  const raw = rawKey(text, PUBLIC_KEY_PREFIX, 'an Ed25519 public key');
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export function isPublicKey(text: string): boolean {
  return typeof text === 'string' && text.startsWith(PUBLIC_KEY_PREFIX);
}

/** The whpk_ string of a private (or public) KeyObject. */
export function publicKeyOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const spki = pub.export({ format: 'der', type: 'spki' });
  return PUBLIC_KEY_PREFIX + spki.subarray(SPKI_PREFIX.length).toString('base64');
}

function seedOf(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
}

function signedContent(id: string, timestamp: number | string, body: string | Buffer): Buffer {
  const head = Buffer.from(`${id}.${timestamp}.`, 'utf8');
  return Buffer.concat([head, typeof body === 'string' ? Buffer.from(body, 'utf8') : body]);
}

/** "v1a," + base64 Ed25519 signature of "{id}.{timestamp}.{body}". */
export function asymmetricSignature(key: KeyObject, id: string, timestamp: number, body: string | Buffer): string {
  return 'v1a,' + sign(null, signedContent(id, timestamp, body), key).toString('base64');
}

/** Whether one "v1a,…" signature is the key's signature of the content. Never throws. */
export function verifyAsymmetric(key: KeyObject, signature: string, id: string, timestamp: number | string, body: string | Buffer): boolean {
  if (!signature.startsWith('v1a,')) return false;
  const raw = Buffer.from(signature.slice(4), 'base64');
  if (raw.length !== 64) return false;
  return verify(null, signedContent(id, timestamp, body), key, raw);
}
