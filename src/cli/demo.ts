import type { Server } from 'node:http';
import { randomInt, randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { createHerald, type Herald } from '../herald.js';
import { BUILTIN_TOPICS } from '../domain/topics.js';
import { listen } from './listen.js';

// `herald demo`: Herald, a listener, and a demo workspace whose webhooks point at the
// listener, with realistic loyalty events published every second — deliveries, retries
// (one webhook's receiver fails a third of the time) and a dashboard filling up at once.

const CUSTOMERS = ['Priya Raman', 'Daniel Okafor', 'Mei Lin', 'Lucas Moreau', 'Amara Nwosu', 'Sofia Rossi', 'Noah Becker'];
const DEMO_SECRET = 'demo-secret';

export interface DemoHandle {
  herald: Herald;
  listener: Server;
  stop(): Promise<void>;
}

export async function runDemo(config: Config, listenPort: number, print: (line: string) => void, everyMs = 1000): Promise<DemoHandle> {
  const herald = await createHerald({ ...config, allowPrivateTargets: true });
  let address: string | null;
  let listener: Server | null = null;
  let port: number;
  try {
    address = await herald.start();
    listener = await listen({
      port: listenPort, host: '127.0.0.1', secret: DEMO_SECRET, failRate: 0, delayMs: 0, headerPrefix: config.headerPrefix, print,
    });
    port = (listener.address() as { port: number }).port;
    await setUp(herald, port);
  } catch (err) {
    // Nothing is left running when the demo cannot start (e.g. the listener's port is taken).
    await herald.stop();
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

  print(`\nHerald demo is running.\n  dashboard:  ${address}/  (admin key: ${adminKey})\n  workspace:  demo, webhooks on, secret "${DEMO_SECRET}"\n  listener:   http://127.0.0.1:${port}/ prints every webhook below\nCtrl-C stops it.\n`);
  const server = listener;
  return {
    herald,
    listener: server,
    async stop() {
      clearInterval(timer);
      await herald.stop();
      await new Promise((resolve) => server.close(resolve));
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
