// Records → the API's JSON (snake_case, ISO 8601 times).
import { publishedData } from '../domain/fan-out.js';
import type { ApiKey, Attempt, Delivery, EventRecord, TopicRecord, Webhook, Workspace } from '../store/store.js';

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export function presentWorkspace(w: Workspace) {
  return {
    id: w.id,
    name: w.name,
    uri: w.uri,
    webhooks_enabled: w.webhooksEnabled,
    created_at: iso(w.createdAt),
    updated_at: iso(w.updatedAt),
  };
}

export function presentKey(k: ApiKey) {
  return { id: k.id, name: k.name, created_at: iso(k.createdAt) };
}

export function presentTopic(t: TopicRecord) {
  return { name: t.name, label: t.label, description: t.description, sample: t.sample };
}

export function presentWebhook(w: Webhook) {
  return {
    id: w.id,
    workspace_id: w.workspaceId,
    topic: w.topic,
    url: w.url,
    prefix: w.prefix,
    filter: w.filter,
    headers: w.headers,
    description: w.description,
    enabled: w.enabled,
    disabled_reason: w.disabledReason,
    rate_limit: w.rateLimit,
    created_at: iso(w.createdAt),
    updated_at: iso(w.updatedAt),
  };
}

export function presentEvent(e: EventRecord) {
  return {
    id: e.id,
    workspace_id: e.workspaceId,
    topic: e.topic,
    data: publishedData(e.body, e.addedFields),
    created_at: iso(e.createdAt),
    deliveries: e.deliveries,
  };
}

export function presentDelivery(d: Delivery) {
  return {
    id: d.id,
    event_id: d.eventId,
    webhook_id: d.webhookId,
    topic: d.topic,
    url: d.url,
    status: d.status,
    attempts: d.attempts,
    next_attempt_at: iso(d.nextAttemptAt),
    last_status_code: d.lastStatusCode,
    last_error: d.lastError,
    created_at: iso(d.createdAt),
    updated_at: iso(d.updatedAt),
  };
}

export function presentAttempt(a: Attempt) {
  return {
    number: a.number,
    started_at: iso(a.startedAt),
    duration_ms: a.durationMs,
    status_code: a.statusCode,
    error: a.error,
    response_body: a.responseBody,
    request_headers: a.requestHeaders,
  };
}

export function presentDeliveryDetail(d: Delivery, attempts: Attempt[]) {
  return { ...presentDelivery(d), attempts: attempts.map(presentAttempt) };
}
