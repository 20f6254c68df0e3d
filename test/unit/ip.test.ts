import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nonPublicReason, parseIp } from '../../src/domain/ip.js';

describe('parseIp: IPv4 spellings', () => {
  // Every spelling WHATWG URL / inet_aton accept for 127.0.0.1 must normalise to it,
  // otherwise a string check could be bypassed by writing loopback differently.
  const loopbackSpellings = [
    '127.0.0.1',
    '2130706433', // one decimal number
    '0x7f000001', // one hex number
    '0X7F000001',
    '0x7f.1', // hex + short form
    '0177.0.0.1', // octal first part
    '0177.0.0.01',
    '127.1', // a.b form
    '127.0.1', // a.b.c form
    '127.0.0.1.', // trailing dot
    '0x7f.0x0.0x0.0x1',
    '0x00000000007f.1', // long hex part
    '017700000001', // octal whole
  ];
  for (const text of loopbackSpellings) {
    it(`${text} is 127.0.0.1`, () => {
      assert.deepEqual(parseIp(text), { family: 4, address: '127.0.0.1' });
      assert.equal(nonPublicReason(text), 'loopback');
    });
  }

  it('matches the WHATWG URL parser on short and odd forms', () => {
    for (const host of ['1.2.3', '1.2', '4294967295', '0x', '0', '1.0x10', '10.0.0.010', '0.0.0.0.']) {
      assert.equal(parseIp(host)?.address, new URL(`http://${host}/`).hostname, host);
    }
  });

  it('rejects what is not an IPv4 literal', () => {
    for (const text of [
      '',
      '.',
      '1.2.3.4.5',
      '256.0.0.1',
      '1.2.3.256',
      '1.2.65536',
      '1.16777216',
      '4294967296',
      '08.0.0.1', // 8 is not an octal digit
      '1..2.3',
      '1.2.3.4..',
      '+1.2.3.4',
      ' 1.2.3.4',
      '1.2.3.4 ',
      '0xg',
      'example.com',
      'localhost',
      '[127.0.0.1]',
    ]) {
      assert.equal(parseIp(text), null, JSON.stringify(text));
    }
  });
});

describe('parseIp: IPv6 forms', () => {
  const cases: Array<[string, string]> = [
    ['::1', '::1'],
    ['[::1]', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['::', '::'],
    ['::ffff:127.0.0.1', '::ffff:127.0.0.1'],
    ['::ffff:7f00:1', '::ffff:127.0.0.1'],
    ['[::FFFF:7F00:0001]', '::ffff:127.0.0.1'],
    ['::127.0.0.1', '::7f00:1'], // IPv4-compatible
    ['fe80::1%eth0', 'fe80::1%eth0'],
    ['[fe80::1%eth0]', 'fe80::1%eth0'],
    ['FD00:0:0:0::1', 'fd00::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['2001:0db8:0000:0000:0001:0000:0000:0001', '2001:db8::1:0:0:1'], // first longest run
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'], // a single zero group is not compressed
    ['2606:4700:4700::1111', '2606:4700:4700::1111'],
    ['64:ff9b::10.0.0.1', '64:ff9b::a00:1'],
  ];
  for (const [text, address] of cases) {
    it(`${text} → ${address}`, () => {
      assert.deepEqual(parseIp(text), { family: 6, address });
    });
  }

  it('rejects malformed IPv6', () => {
    for (const text of [
      ':',
      ':::',
      '1::2::3',
      '1:2:3:4:5:6:7:8:9',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8::',
      '12345::',
      '::g',
      '::ffff:127.0.0.01', // leading zeros are not allowed in the embedded IPv4
      '::ffff:127.1',
      '::1.2.3.4:5',
      'fe80::1%',
      'fe80::1%eth 0',
      '[::1',
      '::1]',
    ]) {
      assert.equal(parseIp(text), null, JSON.stringify(text));
    }
  });
});

describe('nonPublicReason: IPv4 ranges', () => {
  const cases: Array<[string, string]> = [
    ['0.0.0.0', 'unspecified'],
    ['0.255.255.255', 'unspecified'],
    ['10.0.0.0', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['192.168.255.255', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.0.1', 'link-local'],
    ['169.254.169.254', 'link-local'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['192.0.0.8', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.200', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['198.19.255.255', 'reserved'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
  ];
  for (const [address, reason] of cases) {
    it(`${address} is ${reason}`, () => assert.equal(nonPublicReason(address), reason));
  }

  it('edges just outside the ranges are public', () => {
    for (const address of [
      '1.0.0.0',
      '9.255.255.255',
      '11.0.0.0',
      '100.63.255.255',
      '100.128.0.0',
      '126.255.255.255',
      '128.0.0.0',
      '169.253.255.255',
      '169.255.0.0',
      '172.15.255.255',
      '172.32.0.0',
      '192.0.1.0',
      '192.0.3.0',
      '192.167.255.255',
      '192.169.0.0',
      '198.17.255.255',
      '198.20.0.0',
      '198.51.99.255',
      '198.51.101.0',
      '203.0.112.255',
      '203.0.114.0',
      '223.255.255.255',
    ]) {
      assert.equal(nonPublicReason(address), null, address);
    }
  });

  it('judges every spelling by the address it denotes', () => {
    assert.equal(nonPublicReason('0xa000005'), 'private'); // 10.0.0.5
    assert.equal(nonPublicReason('0251.0376.0251.0376'), 'link-local'); // 169.254.169.254
    assert.equal(nonPublicReason('2852039166'), 'link-local'); // 169.254.169.254
    assert.equal(nonPublicReason('0'), 'unspecified');
    assert.equal(nonPublicReason('134744072'), null); // 8.8.8.8
  });
});

describe('nonPublicReason: IPv6 ranges', () => {
  const cases: Array<[string, string]> = [
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fc00::1', 'private'],
    ['fd00::1', 'private'],
    ['fdff:ffff::1', 'private'],
    ['ff02::1', 'multicast'],
    ['ff0e::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2001:db8:ffff::1', 'reserved'],
    ['100::1', 'discard-only'],
    ['100::ffff:ffff:ffff:ffff', 'discard-only'],
    // Embedded IPv4 decides.
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::127.0.0.1', 'loopback'], // IPv4-compatible
    ['::a00:1', 'private'],
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::192.168.1.1', 'private'],
    ['2002:7f00:1::', 'loopback'], // 6to4 of 127.0.0.1
    ['2002:c0a8:101::1', 'private'], // 6to4 of 192.168.1.1
    // Outside 2000::/3.
    ['fec0::1', 'reserved'],
    ['4000::1', 'reserved'],
    ['1000::1', 'reserved'],
    ['e000::1', 'reserved'],
    ['64:ff9b:1::1', 'reserved'],
    // IETF protocol assignments (Teredo etc.).
    ['2001::1', 'reserved'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'],
  ];
  for (const [address, reason] of cases) {
    it(`${address} is ${reason}`, () => assert.equal(nonPublicReason(address), reason));
  }

  it('mapped, NAT64 and 6to4 forms of a public IPv4 are public', () => {
    assert.equal(nonPublicReason('::ffff:8.8.8.8'), null);
    assert.equal(nonPublicReason('64:ff9b::8.8.8.8'), null);
    assert.equal(nonPublicReason('2002:808:808::1'), null);
  });
});

describe('public addresses', () => {
  for (const address of [
    '1.1.1.1',
    '8.8.8.8',
    '93.184.216.34',
    '2606:4700:4700::1111',
    '[2606:4700:4700::1111]',
    '2a00:1450:4001:80b::200e',
    '2001:4860:4860::8888',
  ]) {
    it(`${address} is public`, () => assert.equal(nonPublicReason(address), null));
  }

  it('fails closed on what is not an address', () => {
    assert.equal(nonPublicReason('example.com'), 'not an IP address');
    assert.equal(nonPublicReason(''), 'not an IP address');
  });
});
