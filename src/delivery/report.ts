import type { AttemptResult, ClaimedDelivery, DeliveryStatus } from '../store/store.js';

/**
 * What the rest of Herald (metrics, Herald's own events, the debug log) needs to know about
 * one finished attempt. Small and plain, so that a delivery thread can post batches of them
 * to the main thread cheaply.
 */
export interface AttemptReport {
  status: DeliveryStatus;
  deliveryId: string;
  eventId: string;
  workspaceId: string;
  topic: string;
  webhookId: string;
  url: string;
  attempt: { number: number; statusCode: number | null; error: string | null; durationMs: number } | null;
  /** The event's body, only when the delivery has failed for good (delivery.failed carries it). */
  body: string | null;
}

export function reportAttempt(result: AttemptResult, delivery: ClaimedDelivery): AttemptReport {
  const a = result.attempt;
  return {
    status: result.status,
    deliveryId: delivery.id,
    eventId: delivery.eventId,
    workspaceId: delivery.workspaceId,
    topic: delivery.topic,
    webhookId: delivery.webhook.id,
    url: result.url,
    attempt: a ? { number: a.number, statusCode: a.statusCode, error: a.error, durationMs: a.durationMs } : null,
    body: result.status === 'failed' ? delivery.body : null,
  };
}
