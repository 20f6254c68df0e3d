// HERALD_EGRESS_PROXY against a real proxy: a small one written here with node:http that
// forwards absolute-form requests and opens CONNECT tunnels with node:net, and records both.
// Its name table stands in for DNS: "hooks.example.com" is the local receiver, so a target
// can pass the SSRF check (an injected resolver answers a public address) and still be reached.
// The TLS fixture (test/fixtures/tls) is a self-signed certificate for hooks.example.com,
// made with `openssl req -x509 -newkey ec … -subj /CN=hooks.example.com`, trusted only here.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect as netConnect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HttpSender } from '../../src/delivery/http-sender.js';
import { makeGuardedLookup } from '../../src/delivery/target-guard.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { publish, setupWebhook, startHerald, waitUntil } from '../helpers/herald.js';

const TLS = fileURLToPath(new URL('../fixtures/tls/', import.meta.url));
const CERT = readFileSync(`${TLS}hooks.example.com.crt`);
const KEY = readFileSync(`${TLS}hooks.example.com.key`);

interface Seen {
  kind: 'absolute' | 'connect';
  target: string; // the request line's target: a URL, or host:port for CONNECT
  headers: IncomingMessage['headers'];
}

interface TestProxy {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
}

/** A forwarding proxy; `names` maps a host to the local port that plays it. */
async function startProxy(names: Record<string, number>): Promise<TestProxy> {
  const seen: Seen[] = [];
  const portOf = (host: string, fallback: number) => names[host] ?? fallback;
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    seen.push({ kind: 'absolute', target: req.url ?? '', headers: req.headers });
    const target = new URL(req.url ?? '');
    const upstream = httpRequest(
      { host: '127.0.0.1', port: portOf(target.hostname, Number(target.port) || 80), method: req.method, path: target.pathname + target.search, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502).end('bad gateway'));
    req.pipe(upstream);
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    seen.push({ kind: 'connect', target: req.url ?? '', headers: req.headers });
    const [host, port] = (req.url ?? '').split(':');
    const upstream = netConnect(portOf(host!, Number(port)), '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A receiver answering 200 with what it got (method, Host header, body). */
function answerWithRequest(req: IncomingMessage, res: import('node:http').ServerResponse): void {
  let body = '';
  req.on('data', (c: Buffer) => (body += c.toString()));
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, host: req.headers.host, url: req.url, body })));
}

async function listening(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Answers "hooks.example.com" with a public address, and everything else as the system does. */
const publicDns = makeGuardedLookup(async (hostname) =>
  hostname === 'hooks.example.com' ? [{ address: '93.184.216.34', family: 4 }] : [{ address: '127.0.0.1', family: 4 }],
);

describe('egress proxy', () => {
  let http: Server;
  let https: Server;
  let httpPort: number;
  let httpsPort: number;
  let proxy: TestProxy;
  const senders: HttpSender[] = [];
  const sender = (options: Partial<ConstructorParameters<typeof HttpSender>[0]> = {}) => {
    const s = new HttpSender({ timeoutMs: 3_000, allowPrivateTargets: false, egressProxy: proxy.url, lookup: publicDns, ca: CERT, ...options });
    senders.push(s);
    return s;
  };

  before(async () => {
    http = createServer(answerWithRequest);
    https = createHttpsServer({ cert: CERT, key: KEY }, answerWithRequest) as unknown as Server;
    [httpPort, httpsPort] = await Promise.all([listening(http), listening(https)]);
    proxy = await startProxy({ 'hooks.example.com': 0 });
  });
  after(async () => {
    for (const s of senders) await s.close();
    await proxy.close();
    http.close();
    https.close();
  });

  it('sends an http target through the proxy in absolute form, with the target checked and named', async () => {
    const named = await startProxy({ 'hooks.example.com': httpPort });
    try {
      const out = await sender({ egressProxy: named.url }).send(`http://hooks.example.com:${httpPort}/hooks?a=1`, { 'content-type': 'application/json' }, '{"x":1}');
      assert.equal(out.kind, 'response', JSON.stringify(out));
      assert.equal(out.kind === 'response' && out.statusCode, 200);
      const got = JSON.parse(out.kind === 'response' ? out.body : '{}');
      assert.deepEqual(got, { method: 'POST', host: `hooks.example.com:${httpPort}`, url: '/hooks?a=1', body: '{"x":1}' });
      assert.equal(named.seen.length, 1);
      assert.equal(named.seen[0]!.kind, 'absolute');
      assert.equal(named.seen[0]!.target, `http://hooks.example.com:${httpPort}/hooks?a=1`);
    } finally {
      await named.close();
    }
  });

  it('tunnels an https target with CONNECT and speaks TLS to the target through it', async () => {
    const named = await startProxy({ 'hooks.example.com': httpsPort });
    try {
      const out = await sender({ egressProxy: named.url }).send(`https://hooks.example.com:${httpsPort}/secure`, {}, '{"y":2}');
      assert.equal(out.kind, 'response', JSON.stringify(out));
      const got = JSON.parse(out.kind === 'response' ? out.body : '{}');
      assert.equal(got.url, '/secure');
      assert.equal(got.body, '{"y":2}');
      assert.equal(named.seen.length, 1);
      assert.equal(named.seen[0]!.kind, 'connect');
      assert.equal(named.seen[0]!.target, `hooks.example.com:${httpsPort}`);
      // Without trusting the fixture the same tunnel ends in a certificate error: TLS really is end to end.
      const untrusting = await sender({ egressProxy: named.url, ca: undefined }).send(`https://hooks.example.com:${httpsPort}/secure`, {}, '{}');
      assert.equal(untrusting.kind, 'error');
      assert.match(untrusting.kind === 'error' ? untrusting.error : '', /certificate/i);
    } finally {
      await named.close();
    }
  });

  it('refuses private targets before the proxy is asked, whether named or literal', async () => {
    const s = sender();
    const before = proxy.seen.length;
    const byName = await s.send(`http://localhost:${httpPort}/`, {}, '{}');
    assert.deepEqual(byName.kind === 'error' && byName.error, 'webhook target refused: localhost resolves to 127.0.0.1, a loopback address');
    const literal = await s.send(`https://10.1.2.3/`, {}, '{}');
    assert.deepEqual(literal.kind === 'error' && literal.error, 'webhook target refused: 10.1.2.3 is a private address');
    assert.equal(proxy.seen.length, before, 'the proxy was asked for a refused target');
  });

  it('fails the attempt with an error naming a proxy that is down', async () => {
    // A port that was just free: nothing listens on it.
    const probe = createNetServer();
    const port = await listening(probe as unknown as Server);
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const s = sender({ egressProxy: `http://127.0.0.1:${port}`, allowPrivateTargets: true });
    for (const url of [`http://127.0.0.1:${httpPort}/`, `https://hooks.example.com:${httpsPort}/`]) {
      const out = await s.send(url, {}, '{}');
      assert.deepEqual(out.kind === 'error' && out.error, `egress proxy 127.0.0.1:${port} refused the connection`, JSON.stringify(out));
    }
  });

  it('counts the proxy in the time limit', async () => {
    // A proxy that accepts connections and never answers.
    const held = new Set<Socket>();
    const silent = createNetServer((socket) => {
      held.add(socket);
      socket.on('error', () => {});
    });
    const port = await listening(silent as unknown as Server);
    try {
      const s = sender({ egressProxy: `http://127.0.0.1:${port}`, allowPrivateTargets: true, timeoutMs: 300 });
      const started = Date.now();
      const [plain, tls] = await Promise.all([s.send(`http://127.0.0.1:${httpPort}/`, {}, '{}'), s.send(`https://hooks.example.com:${httpsPort}/`, {}, '{}')]);
      for (const out of [plain, tls]) assert.deepEqual(out.kind === 'error' && out.error, 'timed out after 300 ms');
      assert.ok(Date.now() - started < 2_000, `took ${Date.now() - started} ms`);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('takes HERALD_EGRESS_PROXY as http://host:port only, naming the variable otherwise', () => {
    assert.equal(loadConfig({ HERALD_EGRESS_PROXY: 'http://proxy.internal:3128' }).egressProxy, 'http://proxy.internal:3128');
    assert.equal(loadConfig({ HERALD_EGRESS_PROXY: 'http://10.0.0.5:8080/' }).egressProxy, 'http://10.0.0.5:8080');
    assert.equal(loadConfig({}).egressProxy, undefined);
    for (const bad of ['https://proxy:3128', 'socks5://proxy:1080', 'http://proxy', 'proxy:3128', 'http://u:p@proxy:3128', 'http://proxy:3128/path', 'http://proxy:3128?x=1']) {
      assert.throws(() => loadConfig({ HERALD_EGRESS_PROXY: bad }), (err: Error) => err instanceof ConfigError && /^HERALD_EGRESS_PROXY must be http:\/\/host:port/.test(err.message), bad);
    }
    assert.throws(() => loadConfig({}, { 'egress-proxy': 'ftp://x:1' }), /--egress-proxy must be http:\/\/host:port/);
  });

  it('a running Herald delivers through HERALD_EGRESS_PROXY', async () => {
    const named = await startProxy({});
    const h = await startHerald({ egressProxy: named.url });
    try {
      const { ws } = await setupWebhook(h, `http://127.0.0.1:${httpPort}/via-proxy`);
      const event = await publish(h, ws, 'walletreward_create', { customer_id: '4417', amount: 250 });
      const [delivery] = (await h.api('GET', `/api/v1/workspaces/${ws}/deliveries?event_id=${event.id}`)).body.data;
      await waitUntil(async () => (await h.api('GET', `/api/v1/workspaces/${ws}/deliveries/${delivery.id}`)).body.status === 'succeeded');
      const through = named.seen.find((s) => s.target === `http://127.0.0.1:${httpPort}/via-proxy`);
      assert.ok(through, JSON.stringify(named.seen.map((s) => s.target)));
      assert.equal(through.kind, 'absolute');
      assert.ok(through.headers['webhook-signature'], 'the signed headers went through the proxy');
    } finally {
      await h.stop();
      await named.close();
    }
  });
});
