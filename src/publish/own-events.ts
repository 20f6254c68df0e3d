import type { Logger } from 'pino';
import { newId } from '../domain/ids.js';
import { isHeraldTopic, type HealthEffect } from '../domain/health.js';
import type { AdminStore, PublishBatch, PublishOutcome } from '../store/store.js';
import type { AttemptReport } from '../delivery/report.js';

/**
 * Herald's own events, published into the workspace like any other so that a business can
 * subscribe to them: `delivery.failed` when a delivery has used up its retries, and
 * `webhook.disabled` when Herald disables a webhook that kept failing.
 */
export class OwnEvents {
  constructor(
    private readonly publish: (batch: PublishBatch) => Promise<PublishOutcome[] | null>,
    private readonly store: Pick<AdminStore, 'findWebhook'>,
    private readonly log: Logger,
  ) {}

  afterAttempt(report: AttemptReport): void {
    // Not for Herald's own topics, so that a failing subscriber cannot start a loop.
    if (report.status !== 'failed' || !report.attempt || isHeraldTopic(report.topic)) return;
    let data: unknown;
    try {
      data = JSON.parse(report.body ?? 'null');
    } catch {
      data = report.body;
    }
    this.emit(report.workspaceId, 'delivery.failed', {
      delivery_id: report.deliveryId,
      event_id: report.eventId,
      webhook_id: report.webhookId,
      topic: report.topic,
      url: report.url,
      attempts: report.attempt.number,
      last_status_code: report.attempt.statusCode,
      last_error: report.attempt.error,
      data,
    });
  }

  afterHealth(effects: HealthEffect[]): void {
    for (const effect of effects) {
      if (effect.kind !== 'disabled') continue;
      this.log.warn({ webhook: effect.webhookId, reason: effect.reason }, 'webhook disabled');
      void this.webhookDisabled(effect.webhookId, effect.reason);
    }
  }

  private async webhookDisabled(webhookId: string, reason: string): Promise<void> {
    const webhook = await this.store.findWebhook(webhookId);
    if (!webhook || isHeraldTopic(webhook.topic)) return;
    this.emit(webhook.workspaceId, 'webhook.disabled', {
      webhook_id: webhook.id,
      topic: webhook.topic,
      url: webhook.url,
      disabled_reason: reason,
    });
  }

  private emit(workspaceId: string, topic: string, data: Record<string, unknown>): void {
    this.publish({ workspaceId, inputs: [{ id: newId('evt'), clientId: false, idempotencyKey: null, topic, data }] }).catch((err) =>
      this.log.error({ err, topic }, 'publishing a Herald event failed'),
    );
  }
}
