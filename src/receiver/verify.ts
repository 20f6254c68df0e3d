import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { standardKey } from '../domain/signing.js';

// Receiver-side verification, for the businesses whose servers get Herald's webhooks:
// checks the Standard Webhooks signature (with a timestamp tolerance against replays) and,
// when present, Nector's compatibility headers.

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

/**
 * Verifies a webhook Herald sent and returns its parsed body; throws
 * WebhookVerificationError saying what is wrong. `rawBody` must be the bytes as received
 * (not re-serialised JSON). `headers` may be Node's IncomingHttpHeaders or a fetch Headers.
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
