import { signedLayout } from './signing.js';

// The request headers of an attempt, as sent and as stored. Sent: the webhook's custom
// headers, then the signed ones (signedLayout), then traceparent when the event has one.
// Stored: most of those follow from the delivery (its id, its event's topic) and the attempt's
// own start time, so an attempt keeps only what does not — the header prefix and user agent
// of the Herald that sent it (settings can change between runs), the webhook's topic prefix
// and custom headers at the time (the webhook can change), the secret digest, the HMAC, the
// signatures and the traceparent — and sentHeaders builds the full list again when it is read.
//
// The compact form is a JSON array (format 1): [1, prefix, userAgent, topicPrefix,
// secretDigest, hmac, signature, traceparent | null, custom?], the two SHA-256 values in
// base64 rather than hex. Anything else is a full header object: rows written before
// migration 0009, and headers that compactHeaders cannot rebuild exactly (it checks).

/** What an attempt's headers are derived from besides what is stored: its delivery, its event's topic, when it started. */
export interface SentFacts {
  deliveryId: string;
  /** The event's topic, without the webhook's prefix. */
  topic: string;
  /** Unix ms; the signed timestamp is its second. */
  startedAt: number;
}

/** The headers one attempt sends, in the order sent. */
export function attemptHeaders(custom: Record<string, string>, signed: Record<string, string>, traceparent: string | null): Record<string, string> {
  // Custom headers were checked when saved not to override Herald's own.
  const headers = { ...custom, ...signed };
  if (traceparent) headers.traceparent = traceparent;
  return headers;
}

type Compact = [1, string, string, string, string, string, string, string | null, Record<string, string>?];

const SIGNED_COUNT = 14;

/**
 * The stored form of headers an attempt sent (a JSON value): the compact array when
 * sentHeaders gives back exactly these headers, values and order, else the headers as they are.
 */
export function compactHeaders(headers: Record<string, string>, facts: SentFacts): Compact | Record<string, string> {
  const entries = Object.entries(headers);
  let end = entries.length;
  let traceparent: string | null = null;
  if (entries[end - 1]?.[0] === 'traceparent') traceparent = entries[--end]![1];
  const first = end - SIGNED_COUNT;
  if (first < 0) return headers;
  const value = (i: number) => entries[first + i]![1];
  const [topicName, topic] = entries[first + 4]!;
  if (!topicName.endsWith('-topic') || !topic.endsWith(facts.topic)) return headers;
  const compact: Compact = [
    1, topicName.slice(0, -'-topic'.length), value(2), topic.slice(0, topic.length - facts.topic.length),
    hexToBase64(value(8)), hexToBase64(value(10)), value(13), traceparent,
  ];
  if (first > 0) compact.push(Object.fromEntries(entries.slice(0, first)));
  return sameHeaders(sentHeaders(compact, facts), entries) ? compact : headers;
}

/** The headers an attempt sent, from what was stored (either form) and its facts. */
export function sentHeaders(stored: unknown, facts: SentFacts): Record<string, string> {
  if (!Array.isArray(stored) || stored[0] !== 1) return stored as Record<string, string>;
  const [, prefix, userAgent, topicPrefix, secretDigest, hmac, signature, traceparent, custom] = stored as Compact;
  const signed = signedLayout({
    prefix, userAgent, topic: topicPrefix + facts.topic, deliveryId: facts.deliveryId, timestamp: Math.floor(facts.startedAt / 1000),
    secretDigest: base64ToHex(secretDigest), hmac: base64ToHex(hmac), signature,
  });
  return attemptHeaders(custom ?? {}, signed, traceparent);
}

function sameHeaders(rebuilt: Record<string, string>, entries: [string, string][]): boolean {
  const got = Object.entries(rebuilt);
  return got.length === entries.length && got.every(([k, v], i) => k === entries[i]![0] && v === entries[i]![1]);
}

// Anything but lowercase hex comes back different, and compactHeaders then keeps the full form.
const hexToBase64 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');
const base64ToHex = (b64: string): string => Buffer.from(b64, 'base64').toString('hex');
