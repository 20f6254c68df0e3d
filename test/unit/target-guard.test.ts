// No test here contacts or resolves a public host: this machine may have no network, and
// a test that depends on outside DNS is flaky anyway. Public answers come from injected
// resolvers; real resolution is exercised only with "localhost" (/etc/hosts).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { Agent, fetch, request } from 'undici';
import {
  TargetRefused,
  checkLiteralHost,
  checkWebhookUrl,
  guardedLookup,
  makeGuardedLookup,
  type Resolver,
} from '../../src/delivery/target-guard.js';

const strict = { allowPrivate: false };

/** A resolver answering from a table, recording what it was asked. */
function fakeResolver(table: Record<string, LookupAddress[]>, calls: unknown[] = []): Resolver {
  return async (hostname, options) => {
    calls.push({ hostname, ...options });
    const answer = table[hostname];
    if (answer === undefined) throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return options.family === 0 ? answer : answer.filter((a) => a.family === options.family);
  };
}

const PUBLIC_V4 = { address: '93.184.216.34', family: 4 };
const PUBLIC_V6 = { address: '2606:2800:220:1:248:1893:25c8:1946', family: 6 };
const dns = fakeResolver({
  'hooks.example.com': [PUBLIC_V4, PUBLIC_V6],
  'internal.example.com': [{ address: '10.0.0.5', family: 4 }],
  'mixed.example.com': [PUBLIC_V4, { address: 'fd00::7', family: 6 }],
  'empty.example.com': [],
});
// Fails the test if anything tries to resolve: checks that must not touch DNS use it.
const noDns: Resolver = async (hostname) => assert.fail(`unexpected resolution of ${hostname}`);

/** Promisified lookup call, returning the callback arguments. */
function callLookup(lookup: (h: string, o: any, cb: any) => void, hostname: string, options: any) {
  return new Promise<{ err: any; address?: any; family?: number }>((resolve) => {
    lookup(hostname, options, (err: any, address?: any, family?: number) => resolve({ err, address, family }));
  });
}

describe('checkWebhookUrl: URL shape', () => {
  it('rejects non-http schemes', async () => {
    assert.match((await checkWebhookUrl('ftp://hooks.example.com/x', strict, noDns))!, /http or https/);
    assert.match((await checkWebhookUrl('file:///etc/passwd', strict, noDns))!, /http or https/);
  });

  it('rejects relative and malformed URLs', async () => {
    assert.equal(await checkWebhookUrl('/hooks/x', strict, noDns), 'not an absolute URL');
    assert.equal(await checkWebhookUrl('hooks.example.com/x', strict, noDns), 'not an absolute URL');
    assert.equal(await checkWebhookUrl('http://[::1/', strict, noDns), 'not an absolute URL');
    assert.equal(await checkWebhookUrl('', strict, noDns), 'URL is required');
  });

  it('rejects URLs over 2048 characters', async () => {
    const long = 'https://hooks.example.com/' + 'a'.repeat(2048);
    assert.match((await checkWebhookUrl(long, strict, noDns))!, /longer than 2048/);
    const exact = 'https://hooks.example.com/' + 'a'.repeat(2048 - 26);
    assert.equal(exact.length, 2048);
    assert.equal(await checkWebhookUrl(exact, strict, dns), null);
  });

  it('rejects credentials', async () => {
    const msg = 'URL must not contain credentials';
    assert.equal(await checkWebhookUrl('https://user:pass@hooks.example.com/', strict, noDns), msg);
    assert.equal(await checkWebhookUrl('https://user@hooks.example.com/', strict, noDns), msg);
    assert.equal(await checkWebhookUrl('https://:pass@hooks.example.com/', strict, noDns), msg);
  });
});

describe('checkWebhookUrl: targets', () => {
  const refusedLiterals: Array<[string, RegExp]> = [
    ['http://127.0.0.1/', /127\.0\.0\.1 is a loopback address/],
    ['http://[::1]/', /::1 is a loopback address/],
    ['http://0x7f.1/', /127\.0\.0\.1 is a loopback address/],
    ['http://2130706433/', /127\.0\.0\.1 is a loopback address/],
    ['http://0177.0.0.1/', /127\.0\.0\.1 is a loopback address/],
    ['http://169.254.169.254/latest', /169\.254\.169\.254 is a link-local address/],
    ['http://[::ffff:169.254.169.254]/', /is a link-local address/],
    ['https://10.1.2.3:8443/hook', /10\.1\.2\.3 is a private address/],
    ['http://0.0.0.0/', /is an unspecified address/],
    ['http://[fd00::1]/', /is a private address/],
  ];
  for (const [url, message] of refusedLiterals) {
    it(`refuses ${url} without resolving`, async () => {
      assert.match((await checkWebhookUrl(url, strict, noDns))!, message);
    });
  }

  it('refuses localhost names without resolving', async () => {
    assert.equal(
      await checkWebhookUrl('http://localhost:8080/', strict, noDns),
      'localhost is a loopback name; set HERALD_ALLOW_PRIVATE_TARGETS=true to allow it (for local testing)',
    );
    assert.match((await checkWebhookUrl('http://LOCALHOST./', strict, noDns))!, /loopback name/);
    assert.match((await checkWebhookUrl('http://api.localhost/', strict, noDns))!, /loopback name/);
  });

  it('accepts public literals and hostnames that resolve only to public addresses', async () => {
    assert.equal(await checkWebhookUrl('https://93.184.216.34/hook', strict, noDns), null);
    assert.equal(await checkWebhookUrl('https://[2606:4700:4700::1111]/hook', strict, noDns), null);
    assert.equal(await checkWebhookUrl('https://hooks.example.com/hook?x=1', strict, dns), null);
  });

  it('refuses hostnames that resolve to any non-public address', async () => {
    assert.equal(
      await checkWebhookUrl('https://internal.example.com/', strict, dns),
      'internal.example.com resolves to 10.0.0.5, a private address; set HERALD_ALLOW_PRIVATE_TARGETS=true to allow it (for local testing)',
    );
    assert.match((await checkWebhookUrl('https://mixed.example.com/', strict, dns))!, /resolves to fd00::7, a private/);
  });

  it('reports hosts that do not resolve', async () => {
    assert.equal(await checkWebhookUrl('https://nowhere.example.com/', strict, dns), 'host does not resolve');
    assert.equal(await checkWebhookUrl('https://empty.example.com/', strict, dns), 'host does not resolve');
  });

  it('accepts private targets when allowPrivate is true, without resolving', async () => {
    const open = { allowPrivate: true };
    for (const url of ['http://127.0.0.1:9000/', 'http://localhost:8080/', 'http://10.0.0.5/', 'http://internal/']) {
      assert.equal(await checkWebhookUrl(url, open, noDns), null, url);
    }
    // Shape rules still apply.
    assert.match((await checkWebhookUrl('ftp://10.0.0.5/', open, noDns))!, /http or https/);
    assert.match((await checkWebhookUrl('http://u:p@10.0.0.5/', open, noDns))!, /credentials/);
  });
});

describe('checkLiteralHost', () => {
  it('refuses non-public literals in URL.hostname form', () => {
    for (const host of ['127.0.0.1', '[::1]', '::ffff:7f00:1', '169.254.169.254', '0x7f.1', '[fe80::1%eth0]']) {
      const refused = checkLiteralHost(host);
      assert.ok(refused instanceof TargetRefused, host);
      assert.equal(refused.code, 'ERR_HERALD_TARGET_REFUSED');
    }
    assert.equal(checkLiteralHost('10.0.0.5')?.reason, '10.0.0.5 is a private address');
  });

  it('passes public literals and non-literals (those go through lookup)', () => {
    assert.equal(checkLiteralHost('8.8.8.8'), null);
    assert.equal(checkLiteralHost('[2606:4700:4700::1111]'), null);
    assert.equal(checkLiteralHost('hooks.example.com'), null);
    assert.equal(checkLiteralHost('localhost'), null);
  });
});

describe('guardedLookup', () => {
  it('refuses localhost through real resolution (loopback)', async () => {
    for (const options of [{}, { all: true }, { family: 4 }, { all: true, family: 0 }]) {
      const { err } = await callLookup(guardedLookup, 'localhost', options);
      assert.ok(err instanceof TargetRefused, JSON.stringify(options));
      assert.equal(err.code, 'ERR_HERALD_TARGET_REFUSED');
      assert.match(err.reason, /^localhost resolves to (127\.0\.0\.1|::1), a loopback address$/);
    }
  });

  it('refuses IP literals handed to it directly', async () => {
    const { err } = await callLookup(guardedLookup, '127.1', { all: true });
    assert.ok(err instanceof TargetRefused);
  });

  it('returns checked public addresses in both callback shapes', async () => {
    const lookup = makeGuardedLookup(dns);
    const all = await callLookup(lookup, 'hooks.example.com', { all: true });
    assert.equal(all.err, null);
    assert.deepEqual(all.address, [PUBLIC_V4, PUBLIC_V6]);

    const one = await callLookup(lookup, 'hooks.example.com', {});
    assert.equal(one.err, null);
    assert.equal(one.address, PUBLIC_V4.address);
    assert.equal(one.family, 4);
  });

  it('passes options.family to the resolver', async () => {
    const calls: any[] = [];
    const lookup = makeGuardedLookup(fakeResolver({ 'hooks.example.com': [PUBLIC_V4, PUBLIC_V6] }, calls));
    const v6 = await callLookup(lookup, 'hooks.example.com', { family: 6 });
    assert.equal(v6.address, PUBLIC_V6.address);
    assert.equal(v6.family, 6);
    const v4 = await callLookup(lookup, 'hooks.example.com', { family: 'IPv4', all: true });
    assert.deepEqual(v4.address, [PUBLIC_V4]);
    assert.deepEqual(
      calls.map((c) => c.family),
      [6, 4],
    );
  });

  it('accepts the (hostname, callback) and (hostname, family, callback) forms', async () => {
    const lookup = makeGuardedLookup(dns);
    const viaFn = await new Promise<any[]>((r) => lookup('hooks.example.com', (...a: any[]) => r(a), undefined));
    assert.deepEqual(viaFn, [null, PUBLIC_V4.address, 4]);
    const viaFamily = await new Promise<any[]>((r) => lookup('hooks.example.com', 6, (...a: any[]) => r(a)));
    assert.deepEqual(viaFamily, [null, PUBLIC_V6.address, 6]);
  });

  it('refuses when any answer is non-public (rebinding to a private address)', async () => {
    const lookup = makeGuardedLookup(dns);
    const { err } = await callLookup(lookup, 'mixed.example.com', { all: true });
    assert.ok(err instanceof TargetRefused);
    assert.equal(err.reason, 'mixed.example.com resolves to fd00::7, a private address');
  });

  it('passes resolver errors through and treats an empty answer as not found', async () => {
    const lookup = makeGuardedLookup(dns);
    assert.equal((await callLookup(lookup, 'nowhere.example.com', {})).err.code, 'ENOTFOUND');
    assert.equal((await callLookup(lookup, 'empty.example.com', { all: true })).err.code, 'ENOTFOUND');
  });
});

/** The TargetRefused somewhere in an error's cause chain (fetch wraps it in TypeError). */
function findRefusal(err: unknown): TargetRefused | undefined {
  for (let e: any = err; e; e = e.cause) if (e instanceof TargetRefused) return e;
  return undefined;
}

describe('undici Agent with guardedLookup (integration)', () => {
  let server: http.Server;
  let port: number;
  let requests = 0;
  let connections = 0;

  before(async () => {
    server = http.createServer((_req, res) => {
      requests++;
      res.end('ok');
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('the server is reachable without the guard (control)', async () => {
    const plain = new Agent();
    try {
      const res = await request(`http://localhost:${port}/`, { dispatcher: plain });
      assert.equal(await res.body.text(), 'ok');
    } finally {
      await plain.close();
    }
    assert.equal(requests, 1);
    requests = 0;
    connections = 0;
  });

  it('refuses http://localhost:<port>/ before connecting', async () => {
    const agent = new Agent({ connect: { lookup: guardedLookup } });
    try {
      const viaRequest = await request(`http://localhost:${port}/`, { dispatcher: agent }).then(
        () => assert.fail('request should have been refused'),
        (err: unknown) => err,
      );
      assert.equal(findRefusal(viaRequest)?.code, 'ERR_HERALD_TARGET_REFUSED');

      const viaFetch = await fetch(`http://localhost:${port}/hook`, { dispatcher: agent, method: 'POST', body: '{}' }).then(
        () => assert.fail('fetch should have been refused'),
        (err: unknown) => err,
      );
      assert.match(findRefusal(viaFetch)?.reason ?? '', /^localhost resolves to .*, a loopback address$/);
    } finally {
      await agent.close();
    }
    assert.equal(requests, 0, 'the server must see no request');
    assert.equal(connections, 0, 'the server must see no connection');
  });

  it('checkLiteralHost refuses the literal host that net.connect would not pass to lookup', () => {
    // net.connect skips `lookup` for "127.0.0.1", so the sender must call checkLiteralHost
    // on URL.hostname first; this pins down that it refuses exactly that host.
    const host = new URL(`http://127.0.0.1:${port}/`).hostname;
    assert.ok(checkLiteralHost(host) instanceof TargetRefused);
  });
});
