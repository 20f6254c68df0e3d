import type { Config } from './config.js';
import type { Store, TopicRecord, Workspace, Webhook, ClaimedDelivery, EventRecord } from './store/store.js';
import type { FanOut } from './delivery/fan-out.js';
import type { Publisher } from './delivery/publisher.js';
import type { AttemptRunner } from './delivery/attempt.js';
import type { SecretBox } from './domain/secret-box.js';
import type { Metrics } from './metrics.js';
import { newId } from './domain/ids.js';

/** What the API needs of the rest of Herald, built in herald.ts and passed in. */
export interface Services {
  config: Config;
  store: Store;
  adminKeyHash: string;
  fanOut: FanOut;
  publisher: Publisher;
  runner: AttemptRunner;
  secrets: SecretBox;
  topics: TopicCache;
  metrics: Metrics;
  /** Tells local workers that deliveries are due now. */
  wakeWorkers(): void;
  /** Records an attempt made outside the worker loop (a test send). */
  recordNow: typeof recordNow;
}

/** Topic names are checked on every publish; a cache keeps that off the database. */
export class TopicCache {
  private readonly known = new Map<string, TopicRecord>();
  constructor(private readonly store: Store) {}

  async get(name: string): Promise<TopicRecord | null> {
    const hit = this.known.get(name);
    if (hit) return hit;
    const topic = await this.store.getTopic(name);
    if (topic) this.known.set(name, topic);
    return topic;
  }

  forget(name: string): void {
    this.known.delete(name);
  }
}

/** Sends one test request now and records it; it is not retried. */
export async function recordNow(
  services: Pick<Services, 'store' | 'runner' | 'fanOut' | 'config'>,
  workspace: Workspace,
  webhook: Webhook,
  data: Record<string, unknown>,
): Promise<string> {
  const now = Date.now();
  const { body, addedFields } = services.fanOut.body(workspace, data);
  const event: EventRecord = { id: newId('evt', now), workspaceId: workspace.id, topic: webhook.topic, body, addedFields, createdAt: now, deliveries: 1 };
  const deliveryId = newId('dlv', now);
  const claimed: ClaimedDelivery = await services.store.createTestDelivery(
    workspace.id, webhook.id, event, deliveryId, now + services.config.leaseMs,
  );
  const result = await services.runner.run({ ...claimed, webhook: { ...claimed.webhook, enabled: true } });
  await services.store.recordResults([result], Date.now());
  return deliveryId;
}
