import type { Server } from 'node:http';
import { randomInt, randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { createHerald, type Herald } from '../herald.js';
import { BUILTIN_TOPICS } from '../domain/topics.js';
import { adminKeyFile } from '../admin-key.js';
import { adminKeyCommand } from './admin-key.js';
import { listenFailure } from './errors.js';
import { listen } from './listen.js';
import { startOrExplain } from './serve.js';
import { startDemoHost } from './demo-host.js';

// `herald demo`: Herald, a listener, and a demo workspace whose webhooks point at the
// listener, with realistic loyalty events published every second — deliveries, retries
// (one webhook's receiver fails a third of the time) and a dashboard filling up at once.
// It prints a line per webhook, and the dashboard's address and the admin key again every
// 20 s, so they do not scroll away; on Ctrl-C it says what it kept.

const CUSTOMERS = ['Priya Raman', 'Daniel Okafor', 'Mei Lin', 'Lucas Moreau', 'Amara Nwosu', 'Sofia Rossi', 'Noah Becker'];
const DEMO_SECRET = 'demo-secret';

/** Where the demo keeps its data unless HERALD_DATA_DIR or --data-dir says otherwise: not ./data, so that the demo's workspace and key stay apart from a real Herald's. */
export const DEMO_DATA_DIR = './data-demo';

export interface DemoOptions {
  /** The listener's port (0: any free port). */
  listenPort: number;
  /** The port of the "Acme Loyalty dashboard" that embeds the Webhooks page (0: any free port). */
  portalPort?: number;
  print: (line: string) => void;
  /** How often events are published. */
  everyMs?: number;
  /** How often the dashboard's address and the admin key are printed again, below the webhooks. */
  remindEveryMs?: number;
}

export interface DemoHandle {
  herald: Herald;
  listener: Server;
  /** The "Acme Loyalty dashboard" page that frames the portal. */
  host: Server;
  /** Stops publishing, Herald and the listener, then says what was kept and how to remove it. */
  stop(): Promise<void>;
}

export async function runDemo(config: Config, options: DemoOptions): Promise<DemoHandle> {
  const { print, everyMs = 1000, remindEveryMs = 20_000 } = options;
  // The platform's page first: Herald must know its origin to let it frame the portal.
  const host = await startDemoHost(options.portalPort ?? 0).catch((err) => {
    throw listenFailure(err, 'the demo\'s "Acme Loyalty dashboard"', (p) => `--portal-port ${p}`) ?? err;
  });
  let herald: Herald;
  try {
    herald = await createHerald({ ...config, allowPrivateTargets: true, frameAncestors: [...config.frameAncestors, host.origin] });
  } catch (err) {
    await new Promise((resolve) => host.server.close(resolve));
    throw err;
  }
  let received = 0;
  let address: string;
  let listener: Server | null = null;
  let port: number;
  try {
    address = (await startOrExplain(herald, config))!;
    listener = await listen({
      port: options.listenPort, host: '127.0.0.1', secret: DEMO_SECRET, failRate: 0, delayMs: 0, headerPrefix: config.headerPrefix, compact: true,
      print: (line) => {
        received++;
        print(line);
      },
    }).catch((err) => {
      throw listenFailure(err, "the demo's listener", (p) => `--listen-port ${p}`) ?? err;
    });
    port = (listener.address() as { port: number }).port;
    await setUp(herald, port);
    host.serve(herald, 'demo');
  } catch (err) {
    // Nothing is left running when the demo cannot start (e.g. the listener's port is taken).
    await herald.stop();
    await new Promise((resolve) => host.server.close(resolve));
    if (listener) await new Promise((resolve) => listener!.close(resolve));
    throw err;
  }
  const adminKey = herald.adminKey;

  let n = 0;
  const timer = setInterval(() => {
    const events = [reward(n), ...(n % 3 === 0 ? [coupon(n)] : []), ...(n % 5 === 0 ? [customer(n)] : [])];
    n++;
    herald.publish('demo', events).catch((err) => print(`demo: publishing failed: ${(err as Error).message}`));
  }, everyMs);
  // The introduction has scrolled away by now: the address and the key again.
  const reminder = setInterval(() => {
    print(`-- ${received} webhooks received so far · dashboard ${address}/ · admin key ${adminKey} · Ctrl-C stops the demo`);
  }, remindEveryMs);

  const sqlite = herald.store.kind === 'sqlite';
  const keyFile = adminKeyFile(config.dataDir);
  const own = config.dataDir === DEMO_DATA_DIR ? ", the demo's own, not ./data's" : '';
  const keyFrom = {
    env: 'HERALD_ADMIN_KEY',
    file: `from ${keyFile}${own} (${adminKeyCommand(config.dataDir)} prints it)`,
    generated: `generated into ${keyFile}${own} (${adminKeyCommand(config.dataDir)} prints it)`,
  }[herald.adminKeySource];
  print([
    '',
    'Herald demo is running.',
    `  dashboard:  ${address}/  (admin key: ${adminKey})`,
    `  admin key:  ${keyFrom}`,
    `  data:       ${sqlite ? `${config.dataDir} (kept when the demo stops)` : 'PostgreSQL (HERALD_DATABASE_URL)'}`,
    `  workspace:  demo, webhooks on, secret "${DEMO_SECRET}"`,
    `  listener:   http://127.0.0.1:${port}/ prints a line per webhook below`,
    `  embedded:   ${host.origin}/  the "Acme Loyalty dashboard", with the demo's Webhooks page inside it (no key needed)`,
    'Next: open the dashboard and sign in with the admin key, or ask the API:',
    `  curl -s '${address}/api/v1/workspaces/demo/deliveries?limit=5' -H 'Authorization: Bearer ${adminKey}'`,
    'Ctrl-C stops it.',
    '',
  ].join('\n'));
  const server = listener;
  return {
    herald,
    listener: server,
    host: host.server,
    async stop() {
      clearInterval(timer);
      clearInterval(reminder);
      await herald.stop();
      await new Promise((resolve) => server.close(resolve));
      await new Promise((resolve) => host.server.close(resolve));
      print(sqlite
        ? `Demo stopped after ${received} webhooks. ${config.dataDir} keeps the demo workspace, its events and deliveries and its admin key: the next \`npx herald demo\` goes on from there, and \`rm -rf ${config.dataDir}\` removes it all.`
        : `Demo stopped after ${received} webhooks. The demo workspace, its events and deliveries stay in PostgreSQL (DELETE /api/v1/workspaces/demo removes them); its admin key is in ${keyFile}.`);
    },
  };
}

async function setUp(herald: Herald, port: number): Promise<void> {
  const app = herald.app!;
  const auth = { authorization: `Bearer ${herald.adminKey}` };
  const call = (method: 'POST' | 'PATCH' | 'GET', url: string, payload?: object) =>
    app.inject({ method, url: `/api/v1${url}`, headers: auth, payload });
  const existing = await call('GET', '/workspaces/demo');
  if (existing.statusCode === 200) {
    // A demo data directory from an earlier run: point its webhooks at this run's listener,
    // whose port may differ (--listen-port, or 0 for any free port).
    const hooks = JSON.parse((await call('GET', '/workspaces/demo/webhooks?limit=500')).body).data as { id: string; url: string }[];
    for (const h of hooks) {
      const url = h.url.replace(/^http:\/\/127\.0\.0\.1:\d+\//, `http://127.0.0.1:${port}/`);
      if (url !== h.url) await call('PATCH', `/workspaces/demo/webhooks/${h.id}`, { url });
    }
  } else {
    await call('POST', '/workspaces', { id: 'demo', name: 'Acme Coffee (demo)', uri: 'https://acme-coffee.example' });
    const hooks = [
      { topic: 'walletreward_create', url: `http://127.0.0.1:${port}/hooks/rewards`, filter: { amount: { $gte: 100 } }, description: 'Rewards of 100 coins or more' },
      { topic: 'coupon_create', url: `http://127.0.0.1:${port}/hooks/coupons?fail=0.33`, prefix: 'acme_', description: 'A receiver that fails a third of the time' },
      { topic: 'lead_create', url: `http://127.0.0.1:${port}/hooks/customers`, description: 'New customers' },
    ];
    for (const h of hooks) await call('POST', '/workspaces/demo/webhooks', { ...h, secret: DEMO_SECRET });
  }
  await call('PATCH', '/workspaces/demo', { webhooks_enabled: true });
}

function sample(topic: string): Record<string, unknown> {
  return structuredClone(BUILTIN_TOPICS.find((t) => t.name === topic)!.sample) as Record<string, unknown>;
}

function who(n: number) {
  const name = CUSTOMERS[n % CUSTOMERS.length]!;
  return { name, customer_id: String(7723901884000 + (n % CUSTOMERS.length)), metadetail: { email: `${name.split(' ')[0]!.toLowerCase()}@example.com`, country: 'usa' } };
}

function reward(n: number) {
  const amount = [20, 50, 120, 250, 500][randomInt(5)]!;
  return { topic: 'walletreward_create', data: { ...sample('walletreward_create'), ...who(n), id: randomUUID(), amount, title: 'Order Reward', created_at: new Date().toISOString() } };
}

function coupon(n: number) {
  return { topic: 'coupon_create', data: { ...sample('coupon_create'), ...who(n), id: randomUUID(), value: `ACME-${randomInt(100000, 999999)}` } };
}

function customer(n: number) {
  return { topic: 'lead_create', data: { ...sample('lead_create'), ...who(n), id: randomUUID(), created_at: new Date().toISOString() } };
}
