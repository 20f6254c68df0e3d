// Row → record mapping shared by both adapters (snake_case columns in, the Store
// interface's records out). SQLite gives integers and 0/1 and JSON as text; PostgreSQL gives
// booleans, parsed `json` columns and (unless a type parser says otherwise) bigint as
// strings — so every number goes through Number(), every flag through flag(), every JSON
// column through json().
import type { WebhookHealth } from '../domain/health.js';
import { sentHeaders } from '../domain/sent-headers.js';
import { dueTime } from './manual-retry.js';
import type {
  ApiKey, Attempt, ClaimedDelivery, Delivery, EventRecord, Page, PortalSession, PreviousSecret, PreviousSigningKey, TopicRecord, Webhook, Workspace,
} from './store.js';

export type Row = Record<string, any>;

const flag = (v: unknown): boolean => v === 1 || v === true;
const json = (v: unknown): any => (typeof v === 'string' ? JSON.parse(v) : v);
const numberOrNull = (v: unknown): number | null => (v == null ? null : Number(v));

export function rowToWorkspace(row: Row): Workspace {
  return {
    id: row.id,
    name: row.name,
    uri: row.uri ?? null,
    webhooksEnabled: flag(row.webhooks_enabled),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function rowToKey(row: Row): ApiKey {
  return { id: row.id, workspaceId: row.workspace_id, name: row.name ?? null, createdAt: Number(row.created_at) };
}

export function rowToPortalSession(row: Row): PortalSession {
  return {
    id: row.id,
    workspaceId: row.workspace_id,
    access: row.access === 'view' ? 'view' : 'manage',
    theme: json(row.theme) ?? {},
    expiresAt: Number(row.expires_at),
    createdAt: Number(row.created_at),
    usedAt: numberOrNull(row.used_at),
    revokedAt: numberOrNull(row.revoked_at),
  };
}

export function rowToTopic(row: Row): TopicRecord {
  return {
    name: row.name,
    label: row.label,
    description: row.description,
    sample: json(row.sample),
    schema: row.schema == null ? null : json(row.schema),
    schemaVersion: Number(row.schema_version ?? 0),
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
    filter: row.filter == null ? null : json(row.filter),
    headers: json(row.headers) ?? {},
    description: row.description ?? null,
    enabled: flag(row.enabled),
    disabledReason: row.disabled_reason ?? null,
    rateLimit: numberOrNull(row.rate_limit),
    previousSecrets: previousSecrets(row.previous_secrets),
    signing: row.signing === 'ed25519' ? 'ed25519' : 'hmac',
    signingKey: row.signing_key ?? null,
    publicKey: row.public_key ?? null,
    previousSigningKeys: previousSigningKeys(row.previous_signing_keys),
    ordering: row.ordering ?? 'none',
    paused: flag(row.paused),
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
    traceparent: row.traceparent ?? null,
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
    nextAttemptAt: row.status === 'pending' ? dueTime(numberOrNull(row.next_attempt_at), numberOrNull(row.leased_until)) : null,
    lastStatusCode: numberOrNull(row.last_status_code),
    lastError: row.last_error ?? null,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** An attempt from its row and its delivery's (with the event's topic), which its headers are rebuilt from. */
export function rowToAttempt(row: Row, delivery: Row): Attempt {
  const startedAt = Number(row.started_at);
  return {
    number: Number(row.number),
    startedAt,
    durationMs: Number(row.duration_ms),
    statusCode: numberOrNull(row.status_code),
    error: row.error ?? null,
    responseBody: row.response_body ?? null,
    requestHeaders: sentHeaders(json(row.request_headers), { deliveryId: delivery.id, topic: delivery.topic, startedAt }),
  };
}

/**
 * The columns a claimed delivery is read from, by table alias: deliveries d, events e,
 * webhooks w and webhook_health h (left joined). Both adapters build their claim queries from
 * this one list; rowToClaimed and claimedFrom read these names.
 */
const CLAIMED_COLUMNS = {
  d: ['seq', 'id', 'claim', 'workspace_id', 'attempts', 'cycle_start', 'cycle_limit'],
  e: ['id AS event_id', 'topic', 'body', 'traceparent'],
  w: [
    'id AS webhook_id', 'url', 'secret', 'prefix', 'headers', 'enabled', 'updated_at AS webhook_version', 'rate_limit', 'previous_secrets',
    'signing', 'signing_key', 'previous_signing_keys', 'ordering', 'paused',
  ],
  h: ['open_until'],
} as const;

/** The claimed-row columns of these tables, for a SELECT list (`d.seq, …`). */
export function claimedColumns(tables: readonly (keyof typeof CLAIMED_COLUMNS)[]): string {
  return tables.flatMap((t) => CLAIMED_COLUMNS[t].map((c) => `${t}.${c}`)).join(', ');
}

/** A claimed delivery from a row holding every column of claimedColumns(['d', 'e', 'w', 'h']). */
export function rowToClaimed(row: Row): ClaimedDelivery {
  return claimedFrom(row, rowToClaimedWebhook(row));
}

/** A claimed delivery from a row of its delivery's and its event's columns, and its webhook (read once per batch). */
export function claimedFrom(row: Row, webhook: ClaimedDelivery['webhook']): ClaimedDelivery {
  return {
    seq: Number(row.seq),
    id: row.id,
    claim: Number(row.claim),
    workspaceId: row.workspace_id,
    eventId: row.event_id,
    topic: row.topic,
    body: row.body,
    attempts: Number(row.attempts),
    cycleStart: Number(row.cycle_start),
    cycleLimit: numberOrNull(row.cycle_limit),
    traceparent: row.traceparent ?? null,
    webhook,
  };
}

/** The webhook part of a claimed delivery, from the columns of claimedColumns(['w', 'h']). */
export function rowToClaimedWebhook(row: Row): ClaimedDelivery['webhook'] {
  return {
    id: row.webhook_id,
    url: row.url,
    secret: row.secret,
    prefix: row.prefix,
    headers: json(row.headers),
    enabled: flag(row.enabled),
    version: Number(row.webhook_version),
    rateLimit: numberOrNull(row.rate_limit),
    previousSecrets: previousSecrets(row.previous_secrets),
    openUntil: numberOrNull(row.open_until),
    signing: row.signing === 'ed25519' ? 'ed25519' : 'hmac',
    signingKeys: signingKeys(row),
    ordering: row.ordering ?? 'none',
    paused: flag(row.paused),
  };
}

export function rowToHealth(row: Row): WebhookHealth {
  return {
    consecutiveFailures: Number(row.consecutive_failures),
    failingSince: numberOrNull(row.failing_since),
    openUntil: numberOrNull(row.open_until),
  };
}

function previousSecrets(v: unknown): PreviousSecret[] {
  const list = v == null ? [] : (json(v) as { secret: string; expires_at: number }[]);
  return list.map((p) => ({ secret: p.secret, expiresAt: Number(p.expires_at) }));
}

function previousSigningKeys(v: unknown): PreviousSigningKey[] {
  const list = v == null ? [] : (json(v) as { private_key: string; expires_at: number }[]);
  return list.map((p) => ({ privateKey: p.private_key, expiresAt: Number(p.expires_at) }));
}

/** An ed25519 webhook's keys for signing: the current one, then those of a rotation. */
function signingKeys(row: Row): ClaimedDelivery['webhook']['signingKeys'] {
  if (row.signing !== 'ed25519' || row.signing_key == null) return [];
  return [{ privateKey: row.signing_key, expiresAt: null }, ...previousSigningKeys(row.previous_signing_keys)];
}

/** Stored form of previousSigningKeys (snake_case JSON), or null when there are none. */
export function previousSigningKeysColumn(list: PreviousSigningKey[]): string | null {
  return list.length === 0 ? null : JSON.stringify(list.map((p) => ({ private_key: p.privateKey, expires_at: p.expiresAt })));
}

/** Stored form of previousSecrets (snake_case JSON), or null when there are none. */
export function previousSecretsColumn(list: PreviousSecret[]): string | null {
  return list.length === 0 ? null : JSON.stringify(list.map((p) => ({ secret: p.secret, expires_at: p.expiresAt })));
}

/** A page from `limit + 1` rows ordered by seq descending: the extra row says there is more. */
export function paged<T>(rows: Row[], limit: number, map: (row: Row) => T): Page<T> {
  const more = rows.length > limit;
  const slice = more ? rows.slice(0, limit) : rows;
  return { rows: slice.map(map), next: more ? Number(slice[slice.length - 1]!.seq) : null };
}
