// The portal's rules (CONTRACT section 6): when a link may be opened, and when what it opened
// is still signed in. Both adapters call linkRefusal inside the transaction that marks a link
// used, so a link opens once however many requests race for it.
import type { PortalSession } from './records.js';

/** Why a link or a session does not sign in: no such one (or its workspace was deleted), used, expired, revoked. */
export type PortalRefusal = 'unknown' | 'used' | 'expired' | 'revoked';

/** Why the link of `s` cannot be opened at `now`, or null when it can. */
export function linkRefusal(s: PortalSession | null, now: number): PortalRefusal | null {
  if (!s) return 'unknown';
  if (s.revokedAt !== null) return 'revoked';
  if (s.usedAt !== null) return 'used';
  if (s.expiresAt <= now) return 'expired';
  return null;
}

/** Why the session that the link of `s` opened no longer signs in at `now`, or null when it does. */
export function sessionRefusal(s: PortalSession | null, now: number): PortalRefusal | null {
  if (!s || s.usedAt === null) return 'unknown';
  if (s.revokedAt !== null) return 'revoked';
  if (s.expiresAt <= now) return 'expired';
  return null;
}

/** A session as its list shows it: not opened yet, open, expired or revoked. */
export function portalStatus(s: PortalSession, now: number): 'unopened' | 'open' | 'expired' | 'revoked' {
  if (s.revokedAt !== null) return 'revoked';
  if (s.expiresAt <= now) return 'expired';
  return s.usedAt === null ? 'unopened' : 'open';
}

/** What a `view` portal session sees instead of a header value that may be a credential. */
export const MASKED = '••••';

/**
 * Headers Herald sends whose values are no credential: a `view` session sees these as sent.
 * Every other value of an attempt's request headers is masked for it: the webhook's custom
 * headers (often the receiver's own API key) and what is derived from the secret
 * (webhook-signature, <prefix>-webhook-hmac, <prefix>-webhook-secret). An allowlist, so that a
 * header Herald adds later is masked until someone decides it is harmless.
 */
export const PLAIN_SENT_HEADERS: ReadonlySet<string> = new Set(['accept', 'content-type', 'content-length', 'user-agent', 'x-source', 'webhook-id', 'webhook-timestamp', 'traceparent']);

/** `headers` with every value masked but those named in `plain` (lowercase names). */
export function maskHeaders(headers: Readonly<Record<string, string>>, plain: ReadonlySet<string> = new Set()): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, plain.has(name.toLowerCase()) ? value : MASKED]));
}
