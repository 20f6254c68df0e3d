import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { CLIENT_ID_PATTERN, newApiKey, newId, type IdPrefix } from '../../src/domain/ids.js';

const CROCKFORD = /^[0-9A-HJKMNP-TV-Z]+$/;
const PREFIXES: IdPrefix[] = ['ws', 'wh', 'evt', 'dlv', 'key', 'msg'];

/** Decodes the 10 time characters back into milliseconds. */
function timeOf(id: string): number {
  const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
  const chars = id.slice(id.indexOf('_') + 1, id.indexOf('_') + 11);
  let t = 0;
  for (const c of chars) t = t * 32 + alphabet.indexOf(c);
  return t;
}

describe('newId', () => {
  it('starts with its type prefix and an underscore', () => {
    for (const p of PREFIXES) assert.ok(newId(p).startsWith(p + '_'), p);
  });

  it('has 26 Crockford base32 characters after the prefix', () => {
    for (const p of PREFIXES) {
      const id = newId(p);
      const rest = id.slice(p.length + 1);
      assert.equal(id.length, p.length + 1 + 26);
      assert.equal(rest.length, 26);
      assert.match(rest, CROCKFORD);
    }
  });

  it('encodes the given time in its first 10 characters', () => {
    const now = Date.UTC(2024, 2, 14, 10, 0, 0, 123);
    assert.equal(timeOf(newId('evt', now)), now);
    assert.equal(newId('evt', 0).slice(4, 14), '0000000000');
    assert.equal(timeOf(newId('evt', 2 ** 48 - 1)), 2 ** 48 - 1);
    assert.ok(Math.abs(timeOf(newId('evt')) - Date.now()) < 5000);
  });

  it('is unique over 100,000 ids made in the same millisecond', () => {
    const now = Date.now();
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(newId('dlv', now));
    assert.equal(seen.size, 100_000);
  });

  it('is unique over 100,000 ids made as fast as possible', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(newId('evt'));
    assert.equal(seen.size, 100_000);
  });

  it('uses all of its random characters', () => {
    // Each random position takes many values: the bits are not stuck.
    const ids = Array.from({ length: 2000 }, () => newId('wh', 1_700_000_000_000).slice(3 + 10));
    for (let pos = 0; pos < 16; pos++) {
      const values = new Set(ids.map((id) => id[pos]));
      assert.ok(values.size >= 28, `position ${pos}: ${values.size} values`);
    }
  });

  it('sorts by time across milliseconds, as strings', () => {
    const base = Date.UTC(2024, 0, 1);
    const times = [0, 1, 2, 31, 32, 33, 1023, 1024, 60_000, 3_600_000, 86_400_000, 31_536_000_000];
    const ids = times.map((t) => newId('evt', base + t));
    const shuffled = [...ids].reverse();
    assert.deepEqual(shuffled.sort(), ids);
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!);
  });

  it('ids made in later milliseconds sort after earlier ones', () => {
    const ids: string[] = [];
    for (let t = 1_700_000_000_000; t < 1_700_000_000_000 + 2000; t++) ids.push(newId('dlv', t));
    for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! < ids[i]!, `${ids[i - 1]} < ${ids[i]}`);
  });

  it('fits CLIENT_ID_PATTERN', () => {
    for (const p of PREFIXES) assert.match(newId(p), CLIENT_ID_PATTERN);
  });
});

describe('newApiKey', () => {
  it('tells its kind and carries 32 random bytes', () => {
    const admin = newApiKey('admin');
    const ws = newApiKey('workspace');
    assert.match(admin, /^hrd_admin_[A-Za-z0-9_-]{43}$/);
    assert.match(ws, /^hrd_[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(ws.slice(4), 'base64url').length, 32);
    assert.notEqual(newApiKey('workspace'), newApiKey('workspace'));
  });
});

describe('CLIENT_ID_PATTERN', () => {
  it('accepts 1 to 64 letters, digits, _ and -', () => {
    for (const id of ['a', 'Z', '0', '_', '-', 'order-123_ABC', 'x'.repeat(64), 'evt_01HS']) {
      assert.ok(CLIENT_ID_PATTERN.test(id), id);
    }
  });

  it('refuses the empty string, longer ids and other characters', () => {
    for (const id of ['', 'x'.repeat(65), 'a b', 'a.b', 'a/b', 'é', 'a\n', '\nb', 'a:b', 'a+b', '../x']) {
      assert.ok(!CLIENT_ID_PATTERN.test(id), JSON.stringify(id));
    }
  });
});
