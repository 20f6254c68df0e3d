import { VERSION } from './version.js';
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import type { Store } from './store/store.js';
import { openStore, splitPool } from './store/open.js';
import { WriteLock } from './store/sqlite/write-lock.js';
import { BUILTIN_TOPICS } from './domain/topics.js';
import { HERALD_TOPICS } from './domain/health.js';
import { SecretBox } from './domain/secret-box.js';
import { Publisher } from './publish/publisher.js';
import { OwnEvents } from './publish/own-events.js';
import { prepareEvents, type EventInput } from './publish/event-input.js';
import { TopicCache } from './publish/topic-cache.js';
import { normaliseTraceparent } from './domain/traceparent.js';
import { createSender, createWorker, type DeliveryEvents, type DeliveryLoop } from './delivery/setup.js';
import { DeliveryThread } from './delivery/thread.js';
import { Retention } from './delivery/retention.js';
import { buildApp } from './api/app.js';
import { hashKey } from './api/auth.js';
import { Metrics } from './metrics.js';
import { resolveAdminKey, type AdminKey } from './admin-key.js';
import type { Services } from './services.js';

export { VERSION, openStore };

export interface Herald {
  config: Config;
  store: Store;
  app: FastifyInstance | null;
  worker: DeliveryLoop | null;
  log: Logger;
  /** The admin key in force (from HERALD_ADMIN_KEY or the data directory). */
  adminKey: string;
  /** The admin key when Herald generated it on this start (to print it once), else null. */
  generatedAdminKey: string | null;
  /** Where the admin key came from: HERALD_ADMIN_KEY, the data directory's admin.key, or generated now. */
  adminKeySource: AdminKey['source'];
  /**
   * Publishes events in-process, with the same checks and guarantees as the events API: when
   * the promise resolves, the events and their deliveries are on disk. Throws EventRejected
   * for bad input, and an Error when the workspace does not exist. A `traceparent` (W3C) is
   * kept with the events as the API's header is; a malformed one is ignored.
   */
  publish(workspaceId: string, events: EventInput[], options?: { idempotencyKey?: string; traceparent?: string }): Promise<PublishedEvent[]>;
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
  // A delivery thread opens the database itself, so only a store Herald opens from the
  // configuration can be shared with one; a store given by the caller is delivered from here.
  // Only a node that also serves the API gains from it (the two get a core each): a worker
  // node delivers on its main thread, which has nothing else to do — a thread there would
  // only cost a second JavaScript heap and a message per batch of attempt reports.
  const threaded = config.deliveryThread && config.role === 'all' && !options.store;
  const writeLock = threaded ? new WriteLock() : undefined;
  // The checkpoint thread belongs to this thread's connection; the delivery thread's leaves checkpoints to it.
  const store = options.store ?? openStore(config, log, { writeLock, checkpoints: 'thread', poolSize: threaded ? splitPool(config.databasePoolSize).main : undefined });
  await store.migrate();
  await store.seedTopics([...BUILTIN_TOPICS, ...HERALD_TOPICS.map((t) => ({ ...t, sample: { ...t.sample } }))]);

  const { key: adminKey, source: adminKeySource } = resolveAdminKey(config);
  const secrets = new SecretBox(config.encryptionKey);
  const metrics = new Metrics(store);
  // This thread's sender and runner: test deliveries, and all delivery when there is no delivery thread.
  const { sender, runner } = createSender(config, secrets);
  // Publishing wakes the worker, whose results may publish Herald's own events: the worker
  // comes last, and the publisher reaches it through wakeWorkers (declared below).
  const publisher = new Publisher(store, () => wakeWorkers());
  const ownEvents = new OwnEvents((batch) => publisher.publish(batch), store, log);
  const events: DeliveryEvents = {
    attempted(reports) {
      const debug = log.isLevelEnabled('debug');
      for (const r of reports) {
        metrics.observe(r);
        if (debug) {
          const a = r.attempt;
          log.debug(
            { delivery: r.deliveryId, webhook: r.webhookId, topic: r.topic, attempt: a?.number, status: r.status, statusCode: a?.statusCode, error: a?.error, ms: a?.durationMs },
            'attempt',
          );
        }
        ownEvents.afterAttempt(r);
      }
    },
    health: (effects) => ownEvents.afterHealth(effects),
  };
  const worker: DeliveryLoop | null =
    config.role === 'api' ? null : threaded ? new DeliveryThread(config, log, events, writeLock) : createWorker(config, store, runner, log, events);
  function wakeWorkers(): void {
    worker?.wake();
  }
  const retention = worker ? new Retention(store, config.retentionDays, log) : null;

  const services: Services = {
    config, store, adminKeyHash: hashKey(adminKey), publisher, runner, secrets,
    topics: new TopicCache(store), metrics, wakeWorkers,
  };
  const app = config.role === 'worker' ? null : await buildApp(services, log);

  let stopped = false;
  let unlisten: (() => Promise<void>) | null = null;
  return {
    config, store, app, worker, log,
    adminKey,
    generatedAdminKey: adminKeySource === 'generated' ? adminKey : null,
    adminKeySource,
    async publish(workspaceId, events, options = {}) {
      const inputs = await prepareEvents(
        services.topics, config.maxPayloadBytes, events, options.idempotencyKey ?? null, (i) => `[${i}].`, normaliseTraceparent(options.traceparent),
      );
      const outcomes = await publisher.publish({ workspaceId, inputs });
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
      // (A delivery thread listens on its own connection.)
      if (worker && !threaded && store.listen) unlisten = await store.listen(() => worker.wake());
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
