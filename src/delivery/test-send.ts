import type { Config } from '../config.js';
import { eventBody } from '../domain/fan-out.js';
import { newId } from '../domain/ids.js';
import type { EventRecord, PublishStore, QueueStore, Webhook, Workspace } from '../store/store.js';
import type { AttemptRunner } from './attempt.js';

/** What a test send needs: the store, the runner that makes attempts, and the lease. */
export interface TestSendDeps {
  store: Pick<PublishStore, 'createTestDelivery'> & Pick<QueueStore, 'recordResults'>;
  runner: AttemptRunner;
  config: Pick<Config, 'leaseMs'>;
}

/**
 * Sends one test request to a webhook now, outside the worker loop, and records it; it is not
 * retried. The event and its delivery are stored already claimed, so no worker takes it.
 * Returns the delivery's id.
 */
export async function recordNow(deps: TestSendDeps, workspace: Workspace, webhook: Webhook, data: Record<string, unknown>): Promise<string> {
  const now = Date.now();
  const { body, addedFields } = eventBody(workspace, data);
  const event: EventRecord = { id: newId('evt', now), workspaceId: workspace.id, topic: webhook.topic, body, addedFields, createdAt: now, deliveries: 1 };
  const deliveryId = newId('dlv', now);
  const claimed = await deps.store.createTestDelivery(workspace.id, webhook.id, event, deliveryId, now + deps.config.leaseMs);
  const result = await deps.runner.run({ ...claimed, webhook: { ...claimed.webhook, enabled: true } });
  await deps.store.recordResults([result], Date.now());
  return deliveryId;
}
