import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { VERSION } from './version.js';
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import type { Store } from './store/store.js';
import { SqliteStore } from './store/sqlite/sqlite-store.js';
import { PostgresStore } from './store/postgres/postgres-store.js';
import { BUILTIN_TOPICS } from './domain/topics.js';
import { HERALD_TOPICS } from './domain/health.js';
import { newApiKey } from './domain/ids.js';
import { SecretBox } from './domain/secret-box.js';
import { FanOut } from './delivery/fan-out.js';
import { Publisher } from './delivery/publisher.js';
import { HttpSender } from './delivery/http-sender.js';
import { AttemptRunner } from './delivery/attempt.js';
import { DeliveryWorker } from './delivery/worker.js';
import { WebhookLimiter } from './delivery/limits.js';
import { OwnEvents } from './delivery/own-events.js';
import { Retention } from './delivery/retention.js';
import { prepareEvents, type EventInput } from './delivery/event-input.js';
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
  /** The admin key in force (from HERALD_ADMIN_KEY or the data directory). */
  adminKey: string;
  /** The admin key when Herald generated it on this start (to print it once), else null. */
  generatedAdminKey: string | null;
  /**
   * Publishes events in-process, with the same checks and guarantees as the events API: when
   * the promise resolves, the events and their deliveries are on disk. Throws EventRejected
   * for bad input, and an Error when the workspace does not exist.
   */
  publish(workspaceId: string, events: EventInput[], options?: { idempotencyKey?: string }): Promise<PublishedEvent[]>;
  /** Listens (role api/all) and starts delivering (role worker/all); returns the address. */
  start(): Promise<string | null>;
  /** Stops taking requests and claiming work, lets attempts in flight finish, closes the database. */
  stop(): Promise<void>;
}

export interface PublishedEvent {
  id: string;
  topic: string;
  createdAt: Date;
  /** How many webhooks it was queued for. */
  deliveries: number;
  /** False when an earlier event with the same id or idempotency key was returned instead. */
  created: boolean;
}

export interface HeraldOptions {
  logger?: Logger;
  store?: Store;
}

export async function createHerald(config: Config, options: HeraldOptions = {}): Promise<Herald> {
  const log = options.logger ?? pino({ level: config.logLevel, redact: ['req.headers.authorization', '*.secret'] });
  const store = options.store ?? openStore(config, log);
  await store.migrate();
  await store.seedTopics([...BUILTIN_TOPICS, ...HERALD_TOPICS.map((t) => ({ ...t, sample: { ...t.sample } }))]);

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
  let publisher: Publisher | null = null;
  const ownEvents = new OwnEvents((batch) => publisher!.publish(batch), store, log);
  const worker =
    config.role === 'api'
      ? null
      : new DeliveryWorker(
          store,
          runner,
          new WebhookLimiter({ maxPerWebhook: config.webhookConcurrency, initialPerWebhook: Math.min(8, config.webhookConcurrency), slowMs: 2_000 }),
          {
            concurrency: config.workerConcurrency,
            leaseMs: config.leaseMs,
            health: {
              threshold: config.circuitThreshold,
              cooldownMs: config.circuitCooldownMs,
              maxCooldownMs: Math.max(config.circuitCooldownMs, 600_000),
              disableAfterMs: config.disableAfterMs,
            },
          },
          log,
          {
            onResult: (result, delivery) => {
              metrics.observe(result);
              if (log.isLevelEnabled('debug')) {
                const a = result.attempt;
                log.debug(
                  { delivery: delivery.id, webhook: delivery.webhook.id, topic: delivery.topic, attempt: a?.number, status: result.status,
                    statusCode: a?.statusCode, error: a?.error, ms: a?.durationMs },
                  'attempt',
                );
              }
              ownEvents.afterAttempt(result, delivery);
            },
            onHealth: (effects) => ownEvents.afterHealth(effects),
          },
        );
  const wakeWorkers = () => worker?.wake();
  publisher = new Publisher(store, fanOut, wakeWorkers);
  const retention = worker ? new Retention(store, config.retentionDays, log) : null;

  const services: Services = {
    config, store, adminKeyHash: hashKey(adminKey), fanOut, publisher, runner, secrets,
    topics: new TopicCache(store), metrics, wakeWorkers, recordNow,
  };
  const app = config.role === 'worker' ? null : await buildApp(services, log);

  let stopped = false;
  let unlisten: (() => Promise<void>) | null = null;
  return {
    config, store, app, worker, log,
    adminKey,
    generatedAdminKey: generated ? adminKey : null,
    async publish(workspaceId, events, options = {}) {
      const inputs = await prepareEvents(services.topics, config.maxPayloadBytes, events, options.idempotencyKey ?? null, (i) => `[${i}].`);
      const outcomes = await publisher!.publish({ workspaceId, inputs });
      if (!outcomes) throw new Error(`workspace ${workspaceId} does not exist`);
      await store.durable?.(); // the same promise as the API's 202: on disk
      return outcomes.map((o) => ({
        id: o.event.id, topic: o.event.topic, createdAt: new Date(o.event.createdAt), deliveries: o.event.deliveries, created: o.created,
      }));
    },
    async start() {
      // Listen first: a backlog waiting for the worker must not delay the API's start.
      const address = app ? await app.listen({ host: config.host, port: config.port }) : null;
      // Other nodes' publishes, retries and released claims wake this worker at once.
      if (worker && store.listen) unlisten = await store.listen(() => worker.wake());
      worker?.start();
      retention?.start();
      return address;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (app) {
        // Requests in flight get a few seconds to finish; a client that stalls does not hold
        // the shutdown (attempts in flight are still waited for below).
        const force = setTimeout(() => app.server.closeAllConnections(), 5_000);
        await app.close();
        clearTimeout(force);
      }
      retention?.stop();
      await unlisten?.();
      await worker?.stop();
      await sender.close();
      await store.close();
    },
  };
}

/** The store that the configuration names: PostgreSQL for HERALD_DATABASE_URL, else SQLite in the data directory. */
export function openStore(config: Config, log: Logger): Store {
  if (config.databaseUrl && /^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    return new PostgresStore({
      connectionString: config.databaseUrl,
      poolSize: config.databasePoolSize,
      schema: config.databaseSchema,
      onError: (err) => log.warn({ err }, 'PostgreSQL connection error'),
    });
  }
  if (config.databaseUrl) throw new Error('HERALD_DATABASE_URL must start with postgres:// or postgresql://');
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
