// IP literal parsing and classification for the webhook target guard.
//
// Pure and dependency-free on purpose: the guard is a security boundary, so every spelling
// an attacker could use to smuggle an internal address past a naive string check
// ("2130706433", "0x7f.1", "::ffff:7f00:1", ...) is normalised here with plain integer
// arithmetic, and the classification is a fixed table we can read and test line by line.

export interface ParsedIp {
  family: 4 | 6;
  address: string;
}

// Internal form: IPv4 as an unsigned 32-bit number, IPv6 as a 128-bit BigInt plus zone id.
type Raw = { family: 4; value: number } | { family: 6; value: bigint; zone: string | undefined };

/**
 * Parses an IP literal in any spelling a URL host or a resolver may produce and returns it
 * normalised (dotted-quad IPv4; RFC 5952 IPv6, keeping a zone id), or null when the string
 * is not an IP literal.
 */
export function parseIp(text: string): ParsedIp | null {
  const raw = parseRaw(text);
  if (raw === null) return null;
  return raw.family === 4
    ? { family: 4, address: formatV4(raw.value) }
    : { family: 6, address: formatV6(raw.value, raw.zone) };
}

/**
 * The reason an address is not a public unicast address, or null when it is public.
 * Anything that is not an IP literal is refused too: callers only ask about addresses,
 * and failing closed is the safe answer to a malformed one.
 */
export function nonPublicReason(address: string): string | null {
  const raw = parseRaw(address);
  if (raw === null) return 'not an IP address';
  return raw.family === 4 ? v4Reason(raw.value) : v6Reason(raw.value);
}

function parseRaw(text: string): Raw | null {
  if (typeof text !== 'string' || text.length === 0) return null;
  let s = text;
  let bracketed = false;
  if (s.startsWith('[')) {
    if (!s.endsWith(']')) return null;
    s = s.slice(1, -1);
    bracketed = true;
  }
  if (s.includes(':')) return parseV6(s);
  if (bracketed) return null; // "[127.0.0.1]" is not a valid host in any grammar we accept
  const v4 = parseV4(s);
  return v4 === null ? null : { family: 4, value: v4 };
}

// ---------------------------------------------------------------------------------------
// IPv4, following the WHATWG URL "IPv4 parser" (which itself mirrors inet_aton): one to
// four parts, each decimal, octal (leading 0) or hex (0x); the last part fills all the
// remaining bytes, so "127.1" is 127.0.0.1 and "2130706433" is 127.0.0.1 as well.

function parseV4(s: string): number | null {
  const parts = s.split('.');
  // A single trailing dot is accepted (fully qualified form), as URL and resolvers do.
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length === 0 || parts.length > 4) return null;
  const nums: bigint[] = [];
  for (const part of parts) {
    const n = parseV4Part(part);
    if (n === null) return null;
    nums.push(n);
  }
  // BigInt because a part may be arbitrarily long ("0x000...07f"), beyond Number precision.
  const last = nums.pop()!;
  if (nums.some((n) => n > 255n)) return null;
  if (last >= 256n ** BigInt(5 - parts.length)) return null;
  let value = last;
  nums.forEach((n, i) => {
    value += n << BigInt(8 * (3 - i));
  });
  return Number(value);
}

function parseV4Part(part: string): bigint | null {
  if (/^0[xX][0-9a-fA-F]*$/.test(part)) return part.length === 2 ? 0n : BigInt('0x' + part.slice(2));
  if (/^0[0-7]+$/.test(part)) return BigInt('0o' + part.slice(1));
  if (/^(?:0|[1-9][0-9]*)$/.test(part)) return BigInt(part);
  return null; // includes "08", "", "+1", " 1": not numbers in any accepted base
}

// Strict dotted quad, used only for the IPv4 tail of an IPv6 literal, where the grammar
// (RFC 4291, WHATWG, inet_pton) admits nothing but four decimal bytes without leading zeros.
const DOTTED_QUAD = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

function parseDottedQuad(s: string): number | null {
  if (!DOTTED_QUAD.test(s)) return null;
  return s.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
}

function formatV4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

// ---------------------------------------------------------------------------------------
// IPv6: eight hex groups, one "::" for a run of zero groups, an optional dotted IPv4 tail
// and an optional zone id ("fe80::1%eth0"), which resolvers return for link-local addresses.

function parseV6(input: string): Raw | null {
  let s = input;
  let zone: string | undefined;
  const pct = s.indexOf('%');
  if (pct >= 0) {
    zone = s.slice(pct + 1);
    s = s.slice(0, pct);
    if (!/^[0-9A-Za-z._~-]+$/.test(zone)) return null;
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  let groups: number[];
  if (halves.length === 1) {
    const all = parseGroups(halves[0], true);
    if (all === null || all.length !== 8) return null;
    groups = all;
  } else {
    const head = parseGroups(halves[0], false);
    const tail = parseGroups(halves[1], true);
    if (head === null || tail === null || head.length + tail.length > 7) return null;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const value = groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
  return { family: 6, value, zone };
}

function parseGroups(part: string, allowV4Tail: boolean): number[] | null {
  if (part === '') return [];
  const items = part.split(':');
  const out: number[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    if (allowV4Tail && i === items.length - 1 && item.includes('.')) {
      const v4 = parseDottedQuad(item);
      if (v4 === null) return null;
      out.push(v4 >>> 16, v4 & 0xffff);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(item)) {
      out.push(parseInt(item, 16));
    } else {
      return null;
    }
  }
  return out;
}

function formatV6(value: bigint, zone: string | undefined): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(16 * i)) & 0xffffn));
  const suffix = zone === undefined ? '' : `%${zone}`;
  // RFC 5952 §5: IPv4-mapped addresses are written with the dotted tail.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatV4(Number(value & 0xffffffffn))}${suffix}`;
  }
  // RFC 5952 §4.2: compress the longest run (first on a tie) of two or more zero groups.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':') + suffix;
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLen).join(':');
  return `${head}::${tail}${suffix}`;
}

// ---------------------------------------------------------------------------------------
// Classification tables (IANA special-purpose registries, RFC 6890 and successors).

function v4(text: string): number {
  const n = parseV4(text);
  if (n === null) throw new Error(`bad table entry ${text}`);
  return n;
}

function v6(text: string): bigint {
  const raw = parseV6(text);
  if (raw === null || raw.family !== 6) throw new Error(`bad table entry ${text}`);
  return raw.value;
}

// Ordered; the first match wins. 240/4 also covers 255.255.255.255 (limited broadcast).
const V4_RANGES: ReadonlyArray<readonly [number, number, string]> = [
  [v4('0.0.0.0'), 8, 'unspecified'],
  [v4('10.0.0.0'), 8, 'private'],
  [v4('100.64.0.0'), 10, 'carrier-grade NAT'],
  [v4('127.0.0.0'), 8, 'loopback'],
  [v4('169.254.0.0'), 16, 'link-local'], // includes 169.254.169.254, cloud metadata
  [v4('172.16.0.0'), 12, 'private'],
  [v4('192.0.0.0'), 24, 'reserved'], // IETF protocol assignments
  [v4('192.0.2.0'), 24, 'reserved'], // TEST-NET-1
  [v4('192.168.0.0'), 16, 'private'],
  [v4('198.18.0.0'), 15, 'reserved'], // benchmarking
  [v4('198.51.100.0'), 24, 'reserved'], // TEST-NET-2
  [v4('203.0.113.0'), 24, 'reserved'], // TEST-NET-3
  [v4('224.0.0.0'), 4, 'multicast'],
  [v4('240.0.0.0'), 4, 'reserved'],
];

function v4Reason(n: number): string | null {
  for (const [prefix, len, reason] of V4_RANGES) {
    // XOR then shift: the bits that differ must all lie below the prefix length.
    if ((n ^ prefix) >>> (32 - len) === 0) return reason;
  }
  return null;
}

function inV6(value: bigint, prefix: bigint, len: number): boolean {
  const shift = BigInt(128 - len);
  return value >> shift === prefix >> shift;
}

const LOW32 = 0xffffffffn;
const V6_MAPPED = v6('::ffff:0:0');
const V6_NAT64 = v6('64:ff9b::');
const V6_DISCARD = v6('100::');
const V6_IETF = v6('2001::');
const V6_DOC = v6('2001:db8::');
const V6_DOC2 = v6('3fff::');
const V6_6TO4 = v6('2002::');
const V6_GLOBAL = v6('2000::');
const V6_UNIQUE_LOCAL = v6('fc00::');
const V6_LINK_LOCAL = v6('fe80::');
const V6_MULTICAST = v6('ff00::');

function v6Reason(value: bigint): string | null {
  if (value === 0n) return 'unspecified';
  if (value === 1n) return 'loopback';
  // Forms that carry an IPv4 address and reach it (mapped, IPv4-compatible, NAT64):
  // judging them by that address stops "::ffff:127.0.0.1" from being a way around the
  // IPv4 rules, while a mapped public address stays usable.
  if (inV6(value, V6_MAPPED, 96) || inV6(value, 0n, 96) || inV6(value, V6_NAT64, 96)) {
    return v4Reason(Number(value & LOW32));
  }
  if (inV6(value, V6_DISCARD, 64)) return 'discard-only';
  // 6to4 routes to the IPv4 address in bits 16..47, so that address decides.
  if (inV6(value, V6_6TO4, 16)) return v4Reason(Number((value >> 80n) & LOW32));
  // 2001::/23 holds IETF protocol assignments (Teredo, benchmarking, ORCHID, AS112...):
  // tunnels and infrastructure, never a webhook receiver. Teredo in particular would let
  // an address tunnel to an arbitrary (obfuscated) IPv4 one.
  if (inV6(value, V6_IETF, 23)) return 'reserved';
  if (inV6(value, V6_DOC, 32) || inV6(value, V6_DOC2, 20)) return 'reserved'; // documentation
  if (inV6(value, V6_LINK_LOCAL, 10)) return 'link-local';
  if (inV6(value, V6_UNIQUE_LOCAL, 7)) return 'private';
  if (inV6(value, V6_MULTICAST, 8)) return 'multicast';
  // Only 2000::/3 is allocated for global unicast; everything else (site-local fec0::/10,
  // unallocated space) is not a place a public webhook can live.
  if (!inV6(value, V6_GLOBAL, 3)) return 'reserved';
  return null;
}
