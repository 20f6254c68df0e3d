import { randomBytes, randomFillSync } from 'node:crypto';

// Ids are a type prefix and 26 characters of Crockford base32: 48 bits of milliseconds then
// 80 random bits (ULID layout), so ids sort by creation time and cannot be guessed.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const pool = Buffer.alloc(10 * 256);
let poolOffset = pool.length;

export type IdPrefix = 'ws' | 'wh' | 'evt' | 'dlv' | 'key' | 'msg';

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

/** A secret API key: a prefix telling its kind, then 32 random bytes in base64url. */
export function newApiKey(kind: 'admin' | 'workspace'): string {
  return (kind === 'admin' ? 'hrd_admin_' : 'hrd_') + randomBytes(32).toString('base64url');
}

export const CLIENT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
