// Administration on SQLite: workspaces, API keys, topics, webhooks, and reading events and
// deliveries. Every write is a write transaction behind the shared write lock (c.write).
import { holdsAllOnSwitch } from '../../domain/ordering.js';
import { holdSet } from '../manual-retry.js';
import { WORKSPACE_CASCADE, WEBHOOK_CASCADE } from '../cascade.js';
import {
  ConflictError, type ApiKey, type Attempt, type Delivery, type DeliveryFilter, type EventRecord, type Page, type PageRequest, type TopicRecord,
  type Webhook, type WebhookPatch, type Workspace,
} from '../store.js';
import {
  paged, previousSecretsColumn, previousSigningKeysColumn, rowToAttempt, rowToDelivery, rowToEvent, rowToKey, rowToTopic, rowToWebhook, rowToWorkspace, type Row,
} from '../rows.js';
import type { SqliteConnection } from './connection.js';
import { settleTurns } from './turn.js';

const NO_CURSOR = Number.MAX_SAFE_INTEGER;
const WORKSPACE_DELETES = WORKSPACE_CASCADE.map((s) => s.replaceAll(':id', '?'));
const WEBHOOK_DELETES = WEBHOOK_CASCADE.map((s) => s.replaceAll(':id', '?'));

// ---- workspaces -------------------------------------------------------------------------

export function createWorkspace(c: SqliteConnection, ws: Workspace): Promise<void> {
  return c.write(() => {
    try {
      c.sql('INSERT INTO workspaces (id, name, uri, webhooks_enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(ws.id, ws.name, ws.uri, ws.webhooksEnabled ? 1 : 0, ws.createdAt, ws.updatedAt);
    } catch (err: any) {
      if (err?.code === 'SQLITE_CONSTRAINT_UNIQUE') throw new ConflictError(`workspace ${ws.id} already exists`);
      throw err;
    }
    c.planVersion++;
  });
}

export function listWorkspaces(c: SqliteConnection, page: PageRequest): Page<Workspace> {
  const rows = c.sql('SELECT * FROM workspaces WHERE seq < ? ORDER BY seq DESC LIMIT ?').all(page.cursor ?? NO_CURSOR, page.limit + 1) as Row[];
  return paged(rows, page.limit, rowToWorkspace);
}

export function getWorkspace(c: SqliteConnection, id: string): Workspace | null {
  const row = c.sql('SELECT * FROM workspaces WHERE id = ?').get(id) as Row | undefined;
  return row ? rowToWorkspace(row) : null;
}

export function updateWorkspace(
  c: SqliteConnection, id: string, patch: Partial<Pick<Workspace, 'name' | 'uri' | 'webhooksEnabled'>>, now: number,
): Promise<Workspace | null> {
  return c.write(() => {
    const row = c.sql(
      `UPDATE workspaces SET
         name = coalesce(?, name),
         uri = CASE WHEN ? THEN ? ELSE uri END,
         webhooks_enabled = coalesce(?, webhooks_enabled),
         updated_at = ?
       WHERE id = ? RETURNING *`,
    ).get(
      patch.name ?? null,
      patch.uri !== undefined ? 1 : 0,
      patch.uri ?? null,
      patch.webhooksEnabled === undefined ? null : patch.webhooksEnabled ? 1 : 0,
      now,
      id,
    ) as Row | undefined;
    c.planVersion++;
    return row ? rowToWorkspace(row) : null;
  });
}

export function deleteWorkspace(c: SqliteConnection, id: string): Promise<boolean> {
  return c.write(() => {
    let changes = 0;
    for (const statement of WORKSPACE_DELETES) changes = c.sql(statement).run(id).changes;
    c.planVersion++;
    return changes > 0; // the last statement deletes the workspace
  });
}

// ---- API keys ---------------------------------------------------------------------------

export function createKey(c: SqliteConnection, key: ApiKey, hash: string): Promise<void> {
  return c.write(() => {
    c.sql('INSERT INTO api_keys (id, workspace_id, name, key_hash, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(key.id, key.workspaceId, key.name, hash, key.createdAt);
  });
}

export function listKeys(c: SqliteConnection, workspaceId: string, page: PageRequest): Page<ApiKey> {
  const rows = c.sql('SELECT * FROM api_keys WHERE workspace_id = ? AND revoked_at IS NULL AND seq < ? ORDER BY seq DESC LIMIT ?')
    .all(workspaceId, page.cursor ?? NO_CURSOR, page.limit + 1) as Row[];
  return paged(rows, page.limit, rowToKey);
}

export function revokeKey(c: SqliteConnection, workspaceId: string, id: string, now: number): Promise<boolean> {
  return c.write(
    () => c.sql('UPDATE api_keys SET revoked_at = ? WHERE workspace_id = ? AND id = ? AND revoked_at IS NULL').run(now, workspaceId, id).changes > 0,
  );
}

export function findKeyByHash(c: SqliteConnection, hash: string): ApiKey | null {
  const row = c.sql('SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL').get(hash) as Row | undefined;
  return row ? rowToKey(row) : null;
}

// ---- topics -----------------------------------------------------------------------------

export function seedTopics(c: SqliteConnection, topics: readonly TopicRecord[]): Promise<void> {
  const insert = c.sql('INSERT OR IGNORE INTO topics (name, label, description, sample) VALUES (?, ?, ?, ?)');
  return c.write(() => {
    for (const t of topics) insert.run(t.name, t.label, t.description, JSON.stringify(t.sample));
  });
}

export function listTopics(c: SqliteConnection): TopicRecord[] {
  return (c.sql('SELECT rowid, * FROM topics ORDER BY rowid').all() as Row[]).map(rowToTopic);
}

export function getTopic(c: SqliteConnection, name: string): TopicRecord | null {
  const row = c.sql('SELECT * FROM topics WHERE name = ?').get(name) as Row | undefined;
  return row ? rowToTopic(row) : null;
}

export function putTopic(c: SqliteConnection, topic: TopicRecord): Promise<TopicRecord> {
  return c.write(() => {
    const row = c.sql(
      `INSERT INTO topics (name, label, description, sample, schema, schema_version) VALUES (?, ?, ?, ?, ?, 1)
       ON CONFLICT (name) DO UPDATE SET label = excluded.label, description = excluded.description, sample = excluded.sample,
         schema = excluded.schema, schema_version = topics.schema_version + 1
       RETURNING *`,
    ).get(topic.name, topic.label, topic.description, JSON.stringify(topic.sample), topic.schema == null ? null : JSON.stringify(topic.schema)) as Row;
    return rowToTopic(row);
  });
}

// ---- webhooks ---------------------------------------------------------------------------

export function createWebhook(c: SqliteConnection, w: Webhook): Promise<void> {
  return c.write(() => {
    c.sql(
      `INSERT INTO webhooks (id, workspace_id, topic, url, secret, prefix, filter, headers, description, enabled, disabled_reason,
         rate_limit, previous_secrets, signing, signing_key, public_key, previous_signing_keys, ordering, paused, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      w.id, w.workspaceId, w.topic, w.url, w.secret, w.prefix, w.filter === null ? null : JSON.stringify(w.filter),
      JSON.stringify(w.headers), w.description, w.enabled ? 1 : 0, w.disabledReason, w.rateLimit,
      previousSecretsColumn(w.previousSecrets), w.signing, w.signingKey, w.publicKey, previousSigningKeysColumn(w.previousSigningKeys),
      w.ordering, w.paused ? 1 : 0, w.createdAt, w.updatedAt,
    );
    c.planVersion++;
  });
}

export function listWebhooks(c: SqliteConnection, workspaceId: string, topic: string | undefined, page: PageRequest): Page<Webhook> {
  const rows = c.sql(
    'SELECT * FROM webhooks WHERE workspace_id = ? AND (? IS NULL OR topic = ?) AND seq < ? ORDER BY seq DESC LIMIT ?',
  ).all(workspaceId, topic ?? null, topic ?? null, page.cursor ?? NO_CURSOR, page.limit + 1) as Row[];
  return paged(rows, page.limit, rowToWebhook);
}

export function getWebhook(c: SqliteConnection, workspaceId: string, id: string): Webhook | null {
  const row = c.sql('SELECT * FROM webhooks WHERE workspace_id = ? AND id = ?').get(workspaceId, id) as Row | undefined;
  return row ? rowToWebhook(row) : null;
}

export function findWebhook(c: SqliteConnection, id: string): Webhook | null {
  const row = c.sql('SELECT * FROM webhooks WHERE id = ?').get(id) as Row | undefined;
  return row ? rowToWebhook(row) : null;
}

export function updateWebhook(c: SqliteConnection, workspaceId: string, id: string, patch: WebhookPatch, now: number): Promise<Webhook | null> {
  // Read and rewritten in one write transaction: the delivery thread may disable it meanwhile.
  return c.write(() => {
    const current = getWebhook(c, workspaceId, id);
    if (!current) return null;
    const next: Webhook = { ...current, ...stripUndefined(patch), updatedAt: Math.max(now, current.updatedAt + 1) };
    c.sql(
      `UPDATE webhooks SET topic = ?, url = ?, secret = ?, prefix = ?, filter = ?, headers = ?, description = ?,
         enabled = ?, disabled_reason = ?, rate_limit = ?, previous_secrets = ?, signing = ?, signing_key = ?, public_key = ?,
         previous_signing_keys = ?, ordering = ?, paused = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
    ).run(
      next.topic, next.url, next.secret, next.prefix, next.filter === null ? null : JSON.stringify(next.filter),
      JSON.stringify(next.headers), next.description, next.enabled ? 1 : 0, next.disabledReason, next.rateLimit,
      previousSecretsColumn(next.previousSecrets), next.signing, next.signingKey, next.publicKey,
      previousSigningKeysColumn(next.previousSigningKeys), next.ordering, next.paused ? 1 : 0, next.updatedAt, workspaceId, id,
    );
    // Switched back on, or resumed: its receiver gets a fresh start (a pause is not failing time).
    if ((patch.enabled === true && !current.enabled) || (current.paused && !next.paused)) c.sql('DELETE FROM webhook_health WHERE webhook_id = ?').run(id);
    if (holdsAllOnSwitch(current, next)) {
      // claim + 1: an attempt in flight is disregarded; its delivery goes again in its turn.
      c.sql(`UPDATE deliveries SET ${holdSet()}, claim = claim + 1 WHERE webhook_id = ? AND status = 'pending'`).run(id);
      c.sql('UPDATE webhooks SET turn_seq = NULL WHERE id = ?').run(id);
    }
    if (current.ordering !== next.ordering || current.paused !== next.paused) settleTurns(c, [id], now);
    c.planVersion++;
    return next;
  });
}

export function deleteWebhook(c: SqliteConnection, workspaceId: string, id: string, now: number): Promise<boolean> {
  return c.write(() => {
    const gone = c.sql('DELETE FROM webhooks WHERE workspace_id = ? AND id = ?').run(workspaceId, id).changes > 0;
    if (gone) {
      // claim + 1: the result of an attempt still in flight is stale and cannot revive the delivery.
      c.sql(`UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, claim = claim + 1, updated_at = ? WHERE webhook_id = ? AND status = 'pending'`)
        .run(now, id);
      for (const statement of WEBHOOK_DELETES) c.sql(statement).run(id);
      c.planVersion++;
    }
    return gone;
  });
}

function stripUndefined<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

// ---- reading events and deliveries ------------------------------------------------------

export function listEvents(c: SqliteConnection, workspaceId: string, topic: string | undefined, page: PageRequest): Page<EventRecord> {
  const rows = c.sql(
    'SELECT * FROM events WHERE workspace_id = ? AND (? IS NULL OR topic = ?) AND seq < ? ORDER BY seq DESC LIMIT ?',
  ).all(workspaceId, topic ?? null, topic ?? null, page.cursor ?? NO_CURSOR, page.limit + 1) as Row[];
  return paged(rows, page.limit, rowToEvent);
}

export function getEvent(c: SqliteConnection, workspaceId: string, id: string): EventRecord | null {
  const row = c.sql('SELECT * FROM events WHERE workspace_id = ? AND id = ?').get(workspaceId, id) as Row | undefined;
  return row ? rowToEvent(row) : null;
}

export function listDeliveries(c: SqliteConnection, workspaceId: string, filter: DeliveryFilter, page: PageRequest): Page<Delivery> {
  const rows = c.sql(
    `SELECT d.*, e.id AS event_id, e.topic AS topic FROM deliveries d JOIN events e ON e.seq = d.event_seq
     WHERE d.workspace_id = ? AND (? IS NULL OR d.webhook_id = ?) AND (? IS NULL OR e.id = ?) AND (? IS NULL OR d.status = ?)
       AND d.seq < ? ORDER BY d.seq DESC LIMIT ?`,
  ).all(
    workspaceId, filter.webhookId ?? null, filter.webhookId ?? null, filter.eventId ?? null, filter.eventId ?? null,
    filter.status ?? null, filter.status ?? null, page.cursor ?? NO_CURSOR, page.limit + 1,
  ) as Row[];
  return paged(rows, page.limit, rowToDelivery);
}

export function getDelivery(c: SqliteConnection, workspaceId: string, id: string): { delivery: Delivery; attempts: Attempt[] } | null {
  const row = c.sql(
    'SELECT d.*, e.id AS event_id, e.topic AS topic FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.id = ? AND d.workspace_id = ?',
  ).get(id, workspaceId) as Row | undefined;
  if (!row) return null;
  const attempts = (c.sql('SELECT * FROM attempts WHERE delivery_seq = ? ORDER BY number').all(row.seq) as Row[]).map((a) => rowToAttempt(a, row));
  return { delivery: rowToDelivery(row), attempts };
}
