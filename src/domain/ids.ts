import { randomBytes, randomFillSync } from 'node:crypto';

// Ids are a type prefix and 26 characters of Crockford base32: 48 bits of milliseconds then
// 80 random bits (ULID layout), so ids sort by creation time and cannot be guessed.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const pool = Buffer.alloc(10 * 256);
let poolOffset = pool.length;

export type IdPrefix = 'ws' | 'wh' | 'evt' | 'dlv' | 'key' | 'msg' | 'ps';

export function newId(prefix: IdPrefix, now = Date.now()): string {
  if (poolOffset + 10 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  let out = prefix + '_';
  let time = now;
  const timeChars = new Array<string>(10);
  for (let i = 9; i >= 0; i--) {
    timeChars[i] = ALPHABET[time % 32]!;
    time = Math.floor(time / 32);
  }
  out += timeChars.join('');
  // 80 random bits → 16 characters of 5 bits each.
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < 10; i++) {
    acc = (acc << 8) | pool[poolOffset + i]!;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(acc >> bits) & 31];
    }
    acc &= (1 << bits) - 1;
  }
  poolOffset += 10;
  return out;
}

/** How a portal session's credential starts, so authentication knows where to look it up. */
export const PORTAL_SESSION_PREFIX = 'hps_';

const KEY_PREFIXES = { admin: 'hrd_admin_', workspace: 'hrd_', 'portal-link': 'hpl_', 'portal-session': PORTAL_SESSION_PREFIX } as const;

/**
 * A secret: a prefix telling its kind, then 32 random bytes in base64url. API keys; a portal
 * link's token (opens once); the credential that opening it gives.
 */
export function newApiKey(kind: keyof typeof KEY_PREFIXES): string {
  return KEY_PREFIXES[kind] + randomBytes(32).toString('base64url');
}

export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
