import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { VERSION } from './version.js';
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import type { Store } from './store/store.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import { BUILTIN_TOPICS } from './domain/topics.js';
import { newApiKey } from './domain/ids.js';
import { SecretBox } from './domain/secret-box.js';
import { FanOut } from './delivery/fan-out.js';
import { Publisher } from './delivery/publisher.js';
import { HttpSender } from './delivery/http-sender.js';
import { AttemptRunner } from './delivery/attempt.js';
import { DeliveryWorker } from './delivery/worker.js';
import { buildApp } from './api/app.js';
import { hashKey } from './api/auth.js';
import { Metrics } from './metrics.js';
import { TopicCache, recordNow, type Services } from './services.js';

export { VERSION };

export interface Herald {
  config: Config;
  store: Store;
  app: FastifyInstance | null;
  worker: DeliveryWorker | null;
  log: Logger;
  /** The admin key when Herald generated it on this start (to print it once), else null. */
  generatedAdminKey: string | null;
  /** Listens (role api/all) and starts delivering (role worker/all); returns the address. */
  start(): Promise<string | null>;
  /** Stops taking requests and claiming work, lets attempts in flight finish, closes the database. */
  stop(): Promise<void>;
}

export interface HeraldOptions {
  logger?: Logger;
  store?: Store;
}

export async function createHerald(config: Config, options: HeraldOptions = {}): Promise<Herald> {
  const log = options.logger ?? pino({ level: config.logLevel, redact: ['req.headers.authorization', '*.secret'] });
  const store = options.store ?? openStore(config);
  await store.migrate();
  await store.seedTopics(BUILTIN_TOPICS);

  const { adminKey, generated } = resolveAdminKey(config);
  const secrets = new SecretBox(config.encryptionKey);
  const fanOut = new FanOut();
  const metrics = new Metrics(store);
  const sender = new HttpSender({ timeoutMs: config.deliveryTimeoutMs, allowPrivateTargets: config.allowPrivateTargets });
  const runner = new AttemptRunner({
    sender,
    secrets,
    retry: { maxRetries: config.maxRetries, baseMs: config.retryBaseMs, factor: config.retryFactor },
    headerPrefix: config.headerPrefix,
    userAgent: `Herald/${VERSION}`,
  });
  const worker =
    config.role === 'api'
      ? null
      : new DeliveryWorker(store, runner, { concurrency: config.workerConcurrency, leaseMs: config.leaseMs }, log, (r) => metrics.observe(r));
  const wakeWorkers = () => worker?.wake();
  const publisher = new Publisher(store, fanOut, wakeWorkers);

  const services: Services = {
    config, store, adminKeyHash: hashKey(adminKey), fanOut, publisher, runner, secrets,
    topics: new TopicCache(store), metrics, wakeWorkers, recordNow,
  };
  const app = config.role === 'worker' ? null : await buildApp(services, log);

  let stopped = false;
  return {
    config, store, app, worker, log,
    generatedAdminKey: generated ? adminKey : null,
    async start() {
      worker?.start();
      if (!app) return null;
      const address = await app.listen({ host: config.host, port: config.port });
      return address;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await app?.close();
      await worker?.stop();
      await sender.close();
      await store.close();
    },
  };
}

function openStore(config: Config): Store {
  if (config.databaseUrl) {
    throw new Error('HERALD_DATABASE_URL (PostgreSQL) is not supported by this build yet; unset it to use the embedded SQLite store');
  }
  return new SqliteStore({ path: join(resolve(config.dataDir), 'herald.db') });
}

/** HERALD_ADMIN_KEY, else the key stored in the data directory, else a new one stored there (mode 0600). */
function resolveAdminKey(config: Config): { adminKey: string; generated: boolean } {
  if (config.adminKey) return { adminKey: config.adminKey, generated: false };
  const dir = resolve(config.dataDir);
  const file = join(dir, 'admin.key');
  if (existsSync(file)) return { adminKey: readFileSync(file, 'utf8').trim(), generated: false };
  mkdirSync(dir, { recursive: true });
  const key = newApiKey('admin');
  writeFileSync(file, key + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { adminKey: key, generated: true };
}
