import { createHash, createHmac, timingSafeEqual, type KeyObject } from 'node:crypto';
import { isPublicKey, parsePublicKey, verifyAsymmetric } from '../domain/ed25519.js';
import { standardKey } from '../domain/signing.js';

// Receiver-side verification, for the businesses whose servers get Herald's webhooks:
// checks the Standard Webhooks signature (with a timestamp tolerance against replays) and,
// when present, Nector's compatibility headers. With a whpk_ public key instead of the
// secret, it checks the Ed25519 (v1a) signature alone: the compatibility headers need the secret.

export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

export interface VerifyOptions {
  /** Largest accepted distance between webhook-timestamp and now, in seconds (default 300). */
  toleranceSeconds?: number;
  /** Prefix of the compatibility headers (default "x-nector"). */
  headerPrefix?: string;
  /** Now, in Unix seconds (for tests). */
  now?: number;
}

type Headers = Record<string, string | string[] | undefined> | { get(name: string): string | null };

function header(headers: Headers, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const map = headers as Record<string, string | string[] | undefined>;
  const value = map[name] ?? Object.entries(map).find(([k]) => k.toLowerCase() === name)?.[1];
  return Array.isArray(value) ? value[0] : value;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

// Parsed public keys: a receiver verifies with the same key request after request.
const publicKeys = new Map<string, KeyObject>();

function publicKey(text: string): KeyObject {
  let key = publicKeys.get(text);
  if (!key) {
    try {
      key = parsePublicKey(text);
    } catch (err) {
      throw new WebhookVerificationError((err as Error).message);
    }
    if (publicKeys.size >= 100) publicKeys.clear();
    publicKeys.set(text, key);
  }
  return key;
}

/**
 * Verifies a webhook Herald sent and returns its parsed body; throws
 * WebhookVerificationError saying what is wrong. `rawBody` must be the bytes as received
 * (not re-serialised JSON). `headers` may be Node's IncomingHttpHeaders or a fetch Headers.
 * `secret` is the webhook's secret or, for an ed25519 webhook, its whpk_ public key.
 */
export function verifyWebhook<T = Record<string, unknown>>(
  rawBody: string | Buffer,
  headers: Headers,
  secret: string,
  options: VerifyOptions = {},
): T {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature header');
  if (!/^\d+$/.test(timestamp)) throw new WebhookVerificationError('webhook-timestamp is not a number');
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const tolerance = options.toleranceSeconds ?? 300;
  if (Math.abs(now - Number(timestamp)) > tolerance) throw new WebhookVerificationError('webhook-timestamp is too far from now (replayed or clock skew)');

  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  if (isPublicKey(secret)) {
    const key = publicKey(secret);
    // During a key rotation there is one v1a signature per valid key.
    if (!signatures.split(' ').some((s) => verifyAsymmetric(key, s, id, timestamp, body))) {
      throw new WebhookVerificationError('no v1a signature matches the public key');
    }
    return parseBody<T>(body);
  }
  const expected = 'v1,' + createHmac('sha256', standardKey(secret)).update(`${id}.${timestamp}.`).update(body).digest('base64');
  // During a secret rotation there is one signature per valid secret, the current secret's first.
  const matched = signatures.split(' ').findIndex((s) => safeEqual(s, expected));
  if (matched === -1) throw new WebhookVerificationError('no signature matches the secret');
  // The compatibility headers are made with the current secret only: a receiver still on an
  // older secret during the grace period cannot check them (its signature, already verified,
  // authenticates the body).
  if (matched > 0) return parseBody<T>(body);

  const prefix = options.headerPrefix ?? 'x-nector';
  const hmac = header(headers, `${prefix}-webhook-hmac`);
  if (hmac !== undefined && !safeEqual(hmac, createHmac('sha256', secret).update(body).digest('hex'))) {
    throw new WebhookVerificationError(`${prefix}-webhook-hmac does not match the body`);
  }
  const digest = header(headers, `${prefix}-webhook-secret`);
  if (digest !== undefined && !safeEqual(digest, createHash('sha256').update(secret, 'utf8').digest('hex'))) {
    throw new WebhookVerificationError(`${prefix}-webhook-secret is not the SHA-256 of the secret`);
  }
  return parseBody<T>(body);
}

function parseBody<T>(body: Buffer): T {
  try {
    return JSON.parse(body.toString('utf8')) as T;
  } catch {
    throw new WebhookVerificationError('the body is not JSON');
  }
}
