// Row → record mapping shared by the SQLite adapter's queries (snake_case columns in,
// the Store interface's records out).
import type { Attempt, Delivery, EventRecord, Webhook, Workspace } from '../store.js';

type Row = Record<string, any>;

export function rowToWorkspace(row: Row): Workspace {
  return {
    id: row.id,
    name: row.name,
    uri: row.uri ?? null,
    webhooksEnabled: row.webhooks_enabled === 1 || row.webhooks_enabled === true,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function rowToWebhook(row: Row): Webhook {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    topic: row.topic,
    url: row.url,
    secret: row.secret,
    prefix: row.prefix,
    filter: row.filter == null ? null : typeof row.filter === 'string' ? JSON.parse(row.filter) : row.filter,
    headers: typeof row.headers === 'string' ? JSON.parse(row.headers) : row.headers ?? {},
    description: row.description ?? null,
    enabled: row.enabled === 1 || row.enabled === true,
    disabledReason: row.disabled_reason ?? null,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function rowToEvent(row: Row): EventRecord {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    topic: row.topic,
    body: row.body,
    addedFields: row.added_fields ? String(row.added_fields).split(',') : [],
    createdAt: Number(row.created_at),
    deliveries: Number(row.deliveries),
  };
}

export function rowToDelivery(row: Row): Delivery {
  return {
    id: row.id,
    eventId: row.event_id,
    webhookId: row.webhook_id,
    topic: row.topic,
    url: row.url,
    status: row.status,
    attempts: Number(row.attempts),
    nextAttemptAt: row.status === 'pending' && row.next_attempt_at != null ? Number(row.next_attempt_at) : null,
    lastStatusCode: row.last_status_code ?? null,
    lastError: row.last_error ?? null,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function rowToAttempt(row: Row): Attempt {
  return {
    number: row.number,
    startedAt: Number(row.started_at),
    durationMs: row.duration_ms,
    statusCode: row.status_code ?? null,
    error: row.error ?? null,
    responseBody: row.response_body ?? null,
    requestHeaders: typeof row.request_headers === 'string' ? JSON.parse(row.request_headers) : row.request_headers,
  };
}
