import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SecretBox } from '../../src/domain/secret-box.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

describe('SecretBox with a key', () => {
  const box = new SecretBox('correct horse battery staple');

  it('round-trips a secret', () => {
    assert.equal(box.open(box.seal(SECRET)), SECRET);
  });

  it('round-trips non-ASCII, empty and long secrets', () => {
    for (const s of ['pässwörd🔑', '', 'x'.repeat(10_000), 'enc:v1:looks-sealed-but-is-not']) {
      assert.equal(box.open(box.seal(s)), s);
    }
  });

  it('gives a different ciphertext each time', () => {
    const sealed = new Set(Array.from({ length: 50 }, () => box.seal(SECRET)));
    assert.equal(sealed.size, 50);
    for (const s of sealed) assert.equal(box.open(s), SECRET);
  });

  it('does not contain the secret, in any obvious form', () => {
    const sealed = box.seal(SECRET);
    assert.notEqual(sealed, SECRET);
    assert.ok(!sealed.includes(SECRET));
    assert.ok(!sealed.includes(SECRET.slice(6)));
    assert.ok(!sealed.includes(Buffer.from(SECRET).toString('base64')));
    assert.ok(!Buffer.from(sealed.slice('enc:v1:'.length), 'base64').includes(Buffer.from(SECRET)));
    assert.match(sealed, /^enc:v1:[A-Za-z0-9+/]+={0,2}$/);
  });

  it('a different instance with the same key opens it', () => {
    assert.equal(new SecretBox('correct horse battery staple').open(box.seal(SECRET)), SECRET);
  });

  it('the wrong key throws', () => {
    const sealed = box.seal(SECRET);
    assert.throws(() => new SecretBox('another key').open(sealed));
  });

  it('a tampered value throws', () => {
    const sealed = box.seal(SECRET);
    const raw = Buffer.from(sealed.slice('enc:v1:'.length), 'base64');
    raw[raw.length - 1]! ^= 1;
    assert.throws(() => box.open('enc:v1:' + raw.toString('base64')));
  });

  it('reads values stored before a key was configured', () => {
    const before = new SecretBox(undefined).seal(SECRET);
    assert.equal(before, SECRET);
    assert.equal(box.open(before), SECRET);
    assert.equal(box.open('plain-secret'), 'plain-secret');
  });
});

describe('SecretBox without a key', () => {
  for (const passphrase of [undefined, '']) {
    const box = new SecretBox(passphrase);

    it(`stores secrets as they are (key ${JSON.stringify(passphrase)})`, () => {
      assert.equal(box.seal(SECRET), SECRET);
      assert.equal(box.open(SECRET), SECRET);
      assert.equal(box.open(box.seal('pässwörd🔑')), 'pässwörd🔑');
    });

    it(`cannot open an encrypted value and says why (key ${JSON.stringify(passphrase)})`, () => {
      const sealed = new SecretBox('k').seal(SECRET);
      assert.throws(() => box.open(sealed), /HERALD_ENCRYPTION_KEY/);
    });
  }
});
