// Refuses webhook targets on private and internal networks (SSRF protection).
//
// Two checkpoints, because either alone is not enough:
//  - checkWebhookUrl runs when a webhook is saved, to give the user an immediate, readable
//    error. It resolves the host, but DNS may change afterwards (rebinding).
//  - guardedLookup is handed to the HTTP client as the socket's `lookup`, so the address
//    that is checked at send time is exactly the address the socket connects to: there is
//    no second resolution an attacker's DNS server could answer differently.
// net.connect does not call `lookup` for IP-literal hosts, hence checkLiteralHost.

import dns from 'node:dns';
import type { LookupAddress } from 'node:dns';
import { nonPublicReason, parseIp } from '../domain/ip.js';

export const TARGET_REFUSED_CODE = 'ERR_HERALD_TARGET_REFUSED';
export const MAX_URL_LENGTH = 2048;

export class TargetRefused extends Error {
  readonly code = TARGET_REFUSED_CODE;
  /** Human-readable cause, e.g. "localhost resolves to 127.0.0.1, a loopback address". */
  readonly reason: string;

  constructor(reason: string) {
    super(`webhook target refused: ${reason}`);
    this.name = 'TargetRefused';
    this.reason = reason;
  }
}

export interface TargetPolicy {
  allowPrivate: boolean;
}

/**
 * Resolves a hostname to all of its addresses. Injectable so tests can simulate public DNS
 * answers without network access; production uses the system resolver (getaddrinfo), the
 * same one net.connect would use, so /etc/hosts and search domains behave as usual.
 */
export type Resolver = (
  hostname: string,
  options: { family: 0 | 4 | 6; hints?: number },
) => Promise<LookupAddress[]>;

export const systemResolver: Resolver = (hostname, options) =>
  dns.promises.lookup(hostname, { all: true, family: options.family, hints: options.hints });

/** "a private address", "an unspecified address". */
function kind(reason: string): string {
  return `${/^[aeiou]/i.test(reason) ? 'an' : 'a'} ${reason} address`;
}

/** The first non-public address among a resolver's answers, as a refusal message. */
function refuseResolved(hostname: string, addresses: readonly LookupAddress[]): string | null {
  // Every address must be public, not just the first: the client may fall back to (or,
  // with happy eyeballs, race) any of them.
  for (const { address } of addresses) {
    const reason = nonPublicReason(address);
    if (reason !== null) return `${hostname} resolves to ${address}, ${kind(reason)}`;
  }
  return null;
}

/** Names that mean this machine whatever DNS says (RFC 6761 §6.3). */
function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/** A refusal of a non-public target, with the setting that lifts it (the first thing someone trying Herald locally meets). */
function refusedPrivate(reason: string): string {
  return `${reason}; set HERALD_ALLOW_PRIVATE_TARGETS=true to allow it (for local testing)`;
}

/**
 * Validates a webhook URL when saved. Returns null when fine, or a message naming the
 * problem for the API to show the user.
 */
export async function checkWebhookUrl(
  url: string,
  policy: TargetPolicy,
  resolve: Resolver = systemResolver,
): Promise<string | null> {
  if (typeof url !== 'string' || url.length === 0) return 'URL is required';
  if (url.length > MAX_URL_LENGTH) return `URL is longer than ${MAX_URL_LENGTH} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url); // no base: relative URLs throw
  } catch {
    return 'not an absolute URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `scheme must be http or https, not ${parsed.protocol.replace(/:$/, '')}`;
  }
  // Credentials would be stored and logged with the URL; secrets belong in signing.
  if (parsed.username !== '' || parsed.password !== '') return 'URL must not contain credentials';
  const host = parsed.hostname;
  if (host === '') return 'URL has no host';
  if (policy.allowPrivate) return null;

  const literal = checkLiteralHost(host);
  if (literal !== null) return refusedPrivate(literal.reason);
  if (parseIp(host) !== null) return null; // a public IP literal: nothing to resolve
  if (isLocalhostName(host)) return refusedPrivate(`${host} is a loopback name`);

  let addresses: LookupAddress[];
  try {
    addresses = await resolve(host, { family: 0 });
  } catch {
    return 'host does not resolve';
  }
  if (addresses.length === 0) return 'host does not resolve';
  const refusal = refuseResolved(host, addresses);
  return refusal === null ? null : refusedPrivate(refusal);
}

/**
 * For hosts that are IP literals (which net.connect does not pass to lookup): the refusal
 * to raise before sending, or null when the host is a public literal or not a literal.
 * Accepts URL.hostname as is, brackets included.
 */
export function checkLiteralHost(hostname: string): TargetRefused | null {
  const ip = parseIp(hostname);
  if (ip === null) return null;
  const reason = nonPublicReason(ip.address);
  return reason === null ? null : new TargetRefused(`${ip.address} is ${kind(reason)}`);
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address?: string | LookupAddress[],
  family?: number,
) => void;

/** The dns.lookup signature net/tls accept as the `lookup` connect option. */
export type LookupFunction = (hostname: string, options: any, callback: any) => void;

function normaliseFamily(family: unknown): 0 | 4 | 6 {
  // dns.lookup also accepts 'IPv4' / 'IPv6'.
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return 0;
}

function notFound(hostname: string): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(`getaddrinfo ENOTFOUND ${hostname}`);
  err.code = 'ENOTFOUND';
  err.syscall = 'getaddrinfo';
  return err;
}

/**
 * Builds a dns.lookup-compatible function that resolves with `resolve` and refuses (error
 * of class TargetRefused, code ERR_HERALD_TARGET_REFUSED) when any answer is non-public.
 */
export function makeGuardedLookup(resolve: Resolver): LookupFunction {
  return function guardedLookup(hostname: string, options: any, callback: any): void {
    // The (hostname, callback) and (hostname, family, callback) forms of dns.lookup.
    if (typeof options === 'function') {
      callback = options;
      options = {};
    } else if (typeof options === 'number' || typeof options === 'string') {
      options = { family: options };
    }
    const opts = (options ?? {}) as { family?: unknown; all?: boolean; hints?: number };
    const cb = callback as LookupCallback;
    const family = normaliseFamily(opts.family);

    const answer = (result: { error: NodeJS.ErrnoException } | { addresses: LookupAddress[] }): void => {
      // Called outside any promise chain so an exception thrown by the callback surfaces
      // normally instead of becoming an unhandled rejection.
      process.nextTick(() => {
        if ('error' in result) return cb(result.error);
        if (opts.all === true) return cb(null, result.addresses);
        return cb(null, result.addresses[0].address, result.addresses[0].family);
      });
    };

    // Literals need no resolution (dns.lookup returns them as they are); they are still
    // checked, in case a caller passes one (or an odd spelling such as "127.1").
    const literal = parseIp(hostname);
    if (literal !== null) {
      const refused = checkLiteralHost(hostname);
      if (refused !== null) return answer({ error: refused });
      return answer({ addresses: [{ address: literal.address, family: literal.family }] });
    }

    resolve(hostname, { family, hints: opts.hints }).then(
      (addresses) => {
        if (addresses.length === 0) return answer({ error: notFound(hostname) });
        const refusal = refuseResolved(hostname, addresses);
        if (refusal !== null) return answer({ error: new TargetRefused(refusal) });
        // Hand back only what was checked, in the resolver's order.
        answer({ addresses: addresses.map(({ address, family: f }) => ({ address, family: f })) });
      },
      (err: NodeJS.ErrnoException) => answer({ error: err }),
    );
  };
}

const systemGuardedLookup = makeGuardedLookup(systemResolver);

/**
 * The system-resolver lookup for undici `new Agent({ connect: { lookup: guardedLookup } })`
 * (or net/tls connect options). Honours options.all and options.family.
 */
export function guardedLookup(hostname: string, options: any, callback: any): void {
  systemGuardedLookup(hostname, options, callback);
}
