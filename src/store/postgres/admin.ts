// Administration on PostgreSQL: workspaces, API keys, topics, webhooks, and reading events
// and deliveries (and queueing them again). Single statements go to the pool; what must see
// one state goes through a transaction (x.tx).
import type { Pool, PoolClient } from 'pg';
import { holdsAllOnSwitch } from '../../domain/ordering.js';
import { holdSet } from '../manual-retry.js';
import { WEBHOOK_CASCADE, WORKSPACE_CASCADE } from '../cascade.js';
import {
  ConflictError, type ApiKey, type Attempt, type Delivery, type DeliveryFilter, type EventRecord, type Page, type PageRequest, type TopicRecord,
  type Webhook, type WebhookPatch, type Workspace,
} from '../store.js';
import {
  paged, previousSecretsColumn, previousSigningKeysColumn, rowToAttempt, rowToDelivery, rowToEvent, rowToKey, rowToTopic, rowToWebhook, rowToWorkspace, type Row,
} from '../rows.js';
import { lockKeys, queueAgain, settleTurns, turnKeys } from './turn.js';

/** What these functions run on: the pool, transactions on it, and the NOTIFY channel. */
export interface PgContext {
  pool: Pool;
  tx<T>(fn: (client: PoolClient) => Promise<T>): Promise<T>;
  channel: string;
}

const UNIQUE_VIOLATION = '23505';
const NO_CURSOR = Number.MAX_SAFE_INTEGER;
const WORKSPACE_DELETES = WORKSPACE_CASCADE.map((s) => s.replaceAll(':id', '$1'));
const WEBHOOK_DELETES = WEBHOOK_CASCADE.map((s) => s.replaceAll(':id', '$1'));

/** Store fields → webhooks columns, for partial updates. */
const WEBHOOK_COLUMNS: Record<keyof WebhookPatch, [column: string, toDb: (v: any) => unknown]> = {
  topic: ['topic', (v) => v],
  url: ['url', (v) => v],
  secret: ['secret', (v) => v],
  prefix: ['prefix', (v) => v],
  filter: ['filter', (v) => (v === null ? null : JSON.stringify(v))],
  headers: ['headers', (v) => JSON.stringify(v)],
  description: ['description', (v) => v],
  enabled: ['enabled', (v) => v],
  disabledReason: ['disabled_reason', (v) => v],
  rateLimit: ['rate_limit', (v) => v],
  previousSecrets: ['previous_secrets', previousSecretsColumn],
  signing: ['signing', (v) => v],
  signingKey: ['signing_key', (v) => v],
  publicKey: ['public_key', (v) => v],
  previousSigningKeys: ['previous_signing_keys', previousSigningKeysColumn],
  ordering: ['ordering', (v) => v],
  paused: ['paused', (v) => v],
};

async function query(x: PgContext, text: string, values: unknown[] = []): Promise<Row[]> {
  return (await x.pool.query(text, values)).rows;
}

// ---- workspaces -----------------------------------------------------------------------

export async function createWorkspace(x: PgContext, ws: Workspace): Promise<void> {
  try {
    await x.pool.query(
      'INSERT INTO workspaces (id, name, uri, webhooks_enabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)',
      [ws.id, ws.name, ws.uri, ws.webhooksEnabled, ws.createdAt, ws.updatedAt],
    );
  } catch (err: any) {
    if (err?.code === UNIQUE_VIOLATION) throw new ConflictError(`workspace ${ws.id} already exists`);
    throw err;
  }
}

export async function listWorkspaces(x: PgContext, page: PageRequest): Promise<Page<Workspace>> {
  const rows = await query(x, 'SELECT * FROM workspaces WHERE seq < $1 ORDER BY seq DESC LIMIT $2', [page.cursor ?? NO_CURSOR, page.limit + 1]);
  return paged(rows, page.limit, rowToWorkspace);
}

export async function getWorkspace(x: PgContext, id: string): Promise<Workspace | null> {
  const [row] = await query(x, 'SELECT * FROM workspaces WHERE id = $1', [id]);
  return row ? rowToWorkspace(row) : null;
}

export async function updateWorkspace(x: PgContext, id: string, patch: Partial<Pick<Workspace, 'name' | 'uri' | 'webhooksEnabled'>>, now: number): Promise<Workspace | null> {
  const values: unknown[] = [id, now];
  const sets = ['updated_at = $2'];
  const set = (column: string, value: unknown) => sets.push(`${column} = $${values.push(value)}`);
  if (patch.name !== undefined) set('name', patch.name);
  if (patch.uri !== undefined) set('uri', patch.uri);
  if (patch.webhooksEnabled !== undefined) set('webhooks_enabled', patch.webhooksEnabled);
  const [row] = await query(x, `UPDATE workspaces SET ${sets.join(', ')} WHERE id = $1 RETURNING *`, values);
  return row ? rowToWorkspace(row) : null;
}

export async function deleteWorkspace(x: PgContext, id: string): Promise<boolean> {
  return x.tx(async (c) => {
    // Set-based deletes first (cheaper than the cascade's row-by-row triggers); the last
    // DELETE waits for publishes still holding the workspace row, and its cascade takes
    // whatever they stored meanwhile.
    let deleted = 0;
    for (const statement of WORKSPACE_DELETES) deleted = (await c.query(statement, [id])).rowCount ?? 0;
    return deleted > 0; // the last statement deletes the workspace
  });
}

// ---- API keys -------------------------------------------------------------------------

export async function createKey(x: PgContext, key: ApiKey, hash: string): Promise<void> {
  await x.pool.query(
    'INSERT INTO api_keys (id, workspace_id, name, key_hash, created_at) VALUES ($1, $2, $3, $4, $5)',
    [key.id, key.workspaceId, key.name, hash, key.createdAt],
  );
}

export async function listKeys(x: PgContext, workspaceId: string, page: PageRequest): Promise<Page<ApiKey>> {
  const rows = await query(x, 
    'SELECT * FROM api_keys WHERE workspace_id = $1 AND revoked_at IS NULL AND seq < $2 ORDER BY seq DESC LIMIT $3',
    [workspaceId, page.cursor ?? NO_CURSOR, page.limit + 1],
  );
  return paged(rows, page.limit, rowToKey);
}

export async function revokeKey(x: PgContext, workspaceId: string, id: string, now: number): Promise<boolean> {
  const result = await x.pool.query(
    'UPDATE api_keys SET revoked_at = $1 WHERE workspace_id = $2 AND id = $3 AND revoked_at IS NULL', [now, workspaceId, id],
  );
  return (result.rowCount ?? 0) > 0;
}

export async function findKeyByHash(x: PgContext, hash: string): Promise<ApiKey | null> {
  const [row] = await query(x, 'SELECT * FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL', [hash]);
  return row ? rowToKey(row) : null;
}

// ---- topics ---------------------------------------------------------------------------

export async function seedTopics(x: PgContext, topics: readonly TopicRecord[]): Promise<void> {
  await x.pool.query(
    `INSERT INTO topics (name, label, description, sample)
     SELECT u.name, u.label, u.description, u.sample::json FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(name, label, description, sample)
     ON CONFLICT (name) DO NOTHING`,
    [topics.map((t) => t.name), topics.map((t) => t.label), topics.map((t) => t.description), topics.map((t) => JSON.stringify(t.sample))],
  );
}

export async function listTopics(x: PgContext): Promise<TopicRecord[]> {
  return (await query(x, 'SELECT * FROM topics ORDER BY seq')).map(rowToTopic);
}

export async function getTopic(x: PgContext, name: string): Promise<TopicRecord | null> {
  const [row] = await query(x, 'SELECT * FROM topics WHERE name = $1', [name]);
  return row ? rowToTopic(row) : null;
}

export async function putTopic(x: PgContext, topic: TopicRecord): Promise<TopicRecord> {
  const [row] = await query(
    x,
    `INSERT INTO topics (name, label, description, sample, schema, schema_version) VALUES ($1, $2, $3, $4, $5, 1)
     ON CONFLICT (name) DO UPDATE SET label = excluded.label, description = excluded.description, sample = excluded.sample,
       schema = excluded.schema, schema_version = topics.schema_version + 1
     RETURNING *`,
    [topic.name, topic.label, topic.description, JSON.stringify(topic.sample), topic.schema == null ? null : JSON.stringify(topic.schema)],
  );
  return rowToTopic(row!);
}

// ---- webhooks -------------------------------------------------------------------------

export async function createWebhook(x: PgContext, w: Webhook): Promise<void> {
  await x.pool.query(
    `INSERT INTO webhooks (id, workspace_id, topic, url, secret, prefix, filter, headers, description, enabled, disabled_reason,
       rate_limit, previous_secrets, signing, signing_key, public_key, previous_signing_keys, ordering, paused, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
    [
      w.id, w.workspaceId, w.topic, w.url, w.secret, w.prefix, w.filter === null ? null : JSON.stringify(w.filter),
      JSON.stringify(w.headers), w.description, w.enabled, w.disabledReason, w.rateLimit, previousSecretsColumn(w.previousSecrets),
      w.signing, w.signingKey, w.publicKey, previousSigningKeysColumn(w.previousSigningKeys), w.ordering, w.paused, w.createdAt, w.updatedAt,
    ],
  );
}

export async function listWebhooks(x: PgContext, workspaceId: string, topic: string | undefined, page: PageRequest): Promise<Page<Webhook>> {
  const values: unknown[] = [workspaceId, page.cursor ?? NO_CURSOR, page.limit + 1];
  const byTopic = topic === undefined ? '' : `AND topic = $${values.push(topic)}`;
  const rows = await query(x, `SELECT * FROM webhooks WHERE workspace_id = $1 ${byTopic} AND seq < $2 ORDER BY seq DESC LIMIT $3`, values);
  return paged(rows, page.limit, rowToWebhook);
}

export async function getWebhook(x: PgContext, workspaceId: string, id: string): Promise<Webhook | null> {
  const [row] = await query(x, 'SELECT * FROM webhooks WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
  return row ? rowToWebhook(row) : null;
}

export async function findWebhook(x: PgContext, id: string): Promise<Webhook | null> {
  const [row] = await query(x, 'SELECT * FROM webhooks WHERE id = $1', [id]);
  return row ? rowToWebhook(row) : null;
}

export async function updateWebhook(x: PgContext, workspaceId: string, id: string, patch: WebhookPatch, now: number): Promise<Webhook | null> {
  // updated_at is the webhook's version (caches of compiled filters and secrets key on it),
  // so it always moves forward, even for two updates in one millisecond.
  const values: unknown[] = [workspaceId, id, now];
  const sets = ['updated_at = greatest($3::bigint, updated_at + 1)'];
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const [column, toDb] = WEBHOOK_COLUMNS[field as keyof WebhookPatch];
    sets.push(`${column} = $${values.push(toDb(value))}`);
  }
  const update = `UPDATE webhooks SET ${sets.join(', ')} WHERE workspace_id = $1 AND id = $2 RETURNING *`;
  const queue = patch.ordering !== undefined || patch.paused !== undefined;
  if (patch.enabled !== true && !queue) {
    const [row] = await query(x, update, values);
    return row ? rowToWebhook(row) : null;
  }
  return x.tx(async (c) => {
    if (queue) await lockKeys(c, turnKeys([id]));
    const [before] = (await c.query('SELECT * FROM webhooks WHERE workspace_id = $1 AND id = $2 FOR UPDATE', [workspaceId, id])).rows;
    if (!before) return null;
    const current = rowToWebhook(before);
    const next = rowToWebhook((await c.query(update, values)).rows[0]);
    // Switched back on, or resumed: its receiver gets a fresh start (a pause is not failing time).
    if ((patch.enabled === true && !current.enabled) || (current.paused && !next.paused)) {
      await c.query('DELETE FROM webhook_health WHERE webhook_id = $1', [id]);
    }
    if (holdsAllOnSwitch(current, next)) {
      // claim + 1: an attempt in flight is disregarded; its delivery goes again in its turn.
      await c.query(`UPDATE deliveries SET ${holdSet()}, claim = claim + 1 WHERE webhook_id = $1 AND status = 'pending'`, [id]);
      await c.query('UPDATE webhooks SET turn_seq = NULL WHERE id = $1', [id]);
    }
    if ((current.ordering !== next.ordering || current.paused !== next.paused) && (await settleTurns(c, [id], now))) {
      await c.query('SELECT pg_notify($1, $2)', [x.channel, '']);
    }
    return next;
  });
}

export async function deleteWebhook(x: PgContext, workspaceId: string, id: string, now: number): Promise<boolean> {
  return x.tx(async (c) => {
    const gone = ((await c.query('DELETE FROM webhooks WHERE workspace_id = $1 AND id = $2', [workspaceId, id])).rowCount ?? 0) > 0;
    // A statement of its own, so that it sees the deliveries of a publish that the DELETE
    // had to wait for (see readWebhooks in publish.ts).
    if (gone) {
      // claim + 1: the result of an attempt still in flight is stale and cannot revive the delivery.
      await c.query(
        `UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, claim = claim + 1, updated_at = $1
         WHERE webhook_id = $2 AND status = 'pending'`,
        [now, id],
      );
      for (const statement of WEBHOOK_DELETES) await c.query(statement, [id]);
    }
    return gone;
  });
}

// ---- events ---------------------------------------------------------------------------


export async function listEvents(x: PgContext, workspaceId: string, topic: string | undefined, page: PageRequest): Promise<Page<EventRecord>> {
  const values: unknown[] = [workspaceId, page.cursor ?? NO_CURSOR, page.limit + 1];
  const byTopic = topic === undefined ? '' : `AND topic = $${values.push(topic)}`;
  const rows = await query(x, `SELECT * FROM events WHERE workspace_id = $1 ${byTopic} AND seq < $2 ORDER BY seq DESC LIMIT $3`, values);
  return paged(rows, page.limit, rowToEvent);
}

export async function getEvent(x: PgContext, workspaceId: string, id: string): Promise<EventRecord | null> {
  const [row] = await query(x, 'SELECT * FROM events WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
  return row ? rowToEvent(row) : null;
}


// ---- deliveries -----------------------------------------------------------------------

export async function listDeliveries(x: PgContext, workspaceId: string, filter: DeliveryFilter, page: PageRequest): Promise<Page<Delivery>> {
  const values: unknown[] = [workspaceId, page.cursor ?? NO_CURSOR, page.limit + 1];
  let where = '';
  if (filter.webhookId !== undefined) where += ` AND d.webhook_id = $${values.push(filter.webhookId)}`;
  if (filter.eventId !== undefined) where += ` AND e.id = $${values.push(filter.eventId)} AND e.workspace_id = $1`;
  if (filter.status !== undefined) where += ` AND d.status = $${values.push(filter.status)}`;
  const rows = await query(x, 
    `SELECT d.*, e.id AS event_id, e.topic FROM deliveries d JOIN events e ON e.seq = d.event_seq
     WHERE d.workspace_id = $1${where} AND d.seq < $2 ORDER BY d.seq DESC LIMIT $3`,
    values,
  );
  return paged(rows, page.limit, rowToDelivery);
}

export async function getDelivery(x: PgContext, workspaceId: string, id: string): Promise<{ delivery: Delivery; attempts: Attempt[] } | null> {
  const [row] = await query(x, 
    'SELECT d.*, e.id AS event_id, e.topic FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.id = $1 AND d.workspace_id = $2',
    [id, workspaceId],
  );
  if (!row) return null;
  const attempts = (await query(x, 'SELECT * FROM attempts WHERE delivery_seq = $1 ORDER BY number', [row.seq])).map((a) => rowToAttempt(a, row));
  return { delivery: rowToDelivery(row), attempts };
}

export async function retryDelivery(x: PgContext, workspaceId: string, id: string, now: number): Promise<boolean> {
  // One more attempt, after the one in flight if any (src/store/manual-retry.ts, through queueAgain).
  return x.tx(async (c) => {
    const { rows } = await c.query('SELECT seq, webhook_id FROM deliveries WHERE id = $1 AND workspace_id = $2', [id, workspaceId]);
    return (await queueAgain(c, rows.map((r: Row) => ({ seq: Number(r.seq), webhook_id: r.webhook_id })), null, now, 1, x.channel)) > 0;
  });
}
