import type { Pool, PoolClient } from 'pg';
import { newId } from '../../domain/ids.js';
import type { HealthEffect, HealthPolicy } from '../../domain/health.js';
import type { RateGrant } from '../../domain/rate.js';
import { readMigrations } from '../migrations.js';
import type { ExportPage, ImportBatch, PortableValue, TableCounts, TableName } from '../portable.js';
import {
  ConflictError,
  type ApiKey,
  type Attempt,
  type AttemptResult,
  type ClaimedDelivery,
  type Delivery,
  type DeliveryFilter,
  type EventRecord,
  type FanOutPlanner,
  type Page,
  type PageRequest,
  type PublishBatch,
  type PublishOutcome,
  type Store,
  type TopicRecord,
  type Webhook,
  type WebhookPatch,
  type Workspace,
} from '../store.js';
import {
  paged, previousSecretsColumn, rowToAttempt, rowToDelivery, rowToEvent, rowToKey, rowToTopic, rowToWebhook, rowToWorkspace, type Row,
} from '../rows.js';
import { clientConfig, createPool, inTransaction, WorkListener, type PostgresOptions } from './connection.js';
import { insertDeliveries, publishBatches } from './publish.js';
import * as queue from './queue.js';
import * as copy from './copy.js';
import { takeRateTokens } from './rate.js';

export type { PostgresOptions } from './connection.js';

const UNIQUE_VIOLATION = '23505';
const NO_CURSOR = Number.MAX_SAFE_INTEGER;

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
};

/**
 * The store for several nodes sharing one PostgreSQL database. Every multi-row change is one
 * statement over unnest() arrays, so a batch costs a few round trips, not one per row; the
 * queue is claimed with FOR UPDATE SKIP LOCKED, so workers on many nodes never take the same
 * delivery; whatever queues work due now also sends NOTIFY, which listen() turns into a
 * wake-up on every node.
 */
export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  readonly pool: Pool;
  /** The NOTIFY channel: one per schema, so deployments sharing a database do not wake each other. */
  readonly channel: string;
  private readonly listeners = new Set<WorkListener>();
  private closed = false;

  constructor(private readonly options: PostgresOptions) {
    this.pool = createPool(options);
    this.channel = options.schema ? `herald_work_${options.schema}` : 'herald_work';
  }

  private get onError(): (err: Error) => void {
    return this.options.onError ?? (() => undefined);
  }

  private tx<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, fn, { onError: this.onError });
  }

  /** A queue-bookkeeping transaction, committed without waiting for the disk (see TransactionOptions). */
  private relaxedTx<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, fn, { onError: this.onError, relaxed: true });
  }

  private async rows(text: string, values: unknown[] = []): Promise<Row[]> {
    return (await this.pool.query(text, values)).rows;
  }

  /**
   * Applies the migrations not yet applied, in one transaction under an advisory lock, so
   * that nodes starting together apply each exactly once (the others wait, then find it done).
   */
  async migrate(): Promise<void> {
    const migrations = readMigrations('postgres');
    const schema = this.options.schema;
    await this.tx(async (c) => {
      await c.query(`SELECT pg_advisory_xact_lock(hashtext('herald.migrate'), hashtext($1))`, [schema ?? '']);
      if (schema) await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at bigint NOT NULL)');
      const done = new Set((await c.query('SELECT version FROM schema_migrations')).rows.map((r: Row) => Number(r.version)));
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        await c.query(m.sql);
        await c.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [m.version, m.name, Date.now()]);
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.listeners].map((l) => l.stop()));
    this.listeners.clear();
    await this.pool.end();
  }

  async ping(): Promise<void> {
    // A write, not a read: SELECT 1 succeeds on a read-only server, where every publish fails.
    await this.pool.query(
      'INSERT INTO health_probe (id, checked_at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at',
      [Date.now()],
    );
  }

  /** LISTENs for work queued by any node (NOTIFY on this store's channel) until unsubscribed. */
  async listen(onWork: () => void): Promise<() => Promise<void>> {
    const listener = new WorkListener(clientConfig(this.options), this.channel, onWork, this.onError);
    await listener.start();
    this.listeners.add(listener);
    return async () => {
      this.listeners.delete(listener);
      await listener.stop();
    };
  }

  // ---- workspaces -----------------------------------------------------------------------

  async createWorkspace(ws: Workspace): Promise<void> {
    try {
      await this.pool.query(
        'INSERT INTO workspaces (id, name, uri, webhooks_enabled, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)',
        [ws.id, ws.name, ws.uri, ws.webhooksEnabled, ws.createdAt, ws.updatedAt],
      );
    } catch (err: any) {
      if (err?.code === UNIQUE_VIOLATION) throw new ConflictError(`workspace ${ws.id} already exists`);
      throw err;
    }
  }

  async listWorkspaces(page: PageRequest): Promise<Page<Workspace>> {
    const rows = await this.rows('SELECT * FROM workspaces WHERE seq < $1 ORDER BY seq DESC LIMIT $2', [page.cursor ?? NO_CURSOR, page.limit + 1]);
    return paged(rows, page.limit, rowToWorkspace);
  }

  async getWorkspace(id: string): Promise<Workspace | null> {
    const [row] = await this.rows('SELECT * FROM workspaces WHERE id = $1', [id]);
    return row ? rowToWorkspace(row) : null;
  }

  async updateWorkspace(id: string, patch: Partial<Pick<Workspace, 'name' | 'uri' | 'webhooksEnabled'>>, now: number): Promise<Workspace | null> {
    const values: unknown[] = [id, now];
    const sets = ['updated_at = $2'];
    const set = (column: string, value: unknown) => sets.push(`${column} = $${values.push(value)}`);
    if (patch.name !== undefined) set('name', patch.name);
    if (patch.uri !== undefined) set('uri', patch.uri);
    if (patch.webhooksEnabled !== undefined) set('webhooks_enabled', patch.webhooksEnabled);
    const [row] = await this.rows(`UPDATE workspaces SET ${sets.join(', ')} WHERE id = $1 RETURNING *`, values);
    return row ? rowToWorkspace(row) : null;
  }

  async deleteWorkspace(id: string): Promise<boolean> {
    return this.tx(async (c) => {
      // Set-based deletes first (cheaper than the cascade's row-by-row triggers); the last
      // DELETE waits for publishes still holding the workspace row, and its cascade takes
      // whatever they stored meanwhile.
      await c.query('DELETE FROM attempts WHERE delivery_seq IN (SELECT seq FROM deliveries WHERE workspace_id = $1)', [id]);
      await c.query('DELETE FROM deliveries WHERE workspace_id = $1', [id]);
      await c.query('DELETE FROM events WHERE workspace_id = $1', [id]);
      await c.query('DELETE FROM webhook_health WHERE webhook_id IN (SELECT id FROM webhooks WHERE workspace_id = $1)', [id]);
      await c.query('DELETE FROM webhook_rate WHERE webhook_id IN (SELECT id FROM webhooks WHERE workspace_id = $1)', [id]);
      await c.query('DELETE FROM webhooks WHERE workspace_id = $1', [id]);
      await c.query('DELETE FROM api_keys WHERE workspace_id = $1', [id]);
      return ((await c.query('DELETE FROM workspaces WHERE id = $1', [id])).rowCount ?? 0) > 0;
    });
  }

  // ---- API keys -------------------------------------------------------------------------

  async createKey(key: ApiKey, hash: string): Promise<void> {
    await this.pool.query(
      'INSERT INTO api_keys (id, workspace_id, name, key_hash, created_at) VALUES ($1, $2, $3, $4, $5)',
      [key.id, key.workspaceId, key.name, hash, key.createdAt],
    );
  }

  async listKeys(workspaceId: string, page: PageRequest): Promise<Page<ApiKey>> {
    const rows = await this.rows(
      'SELECT * FROM api_keys WHERE workspace_id = $1 AND revoked_at IS NULL AND seq < $2 ORDER BY seq DESC LIMIT $3',
      [workspaceId, page.cursor ?? NO_CURSOR, page.limit + 1],
    );
    return paged(rows, page.limit, rowToKey);
  }

  async revokeKey(workspaceId: string, id: string, now: number): Promise<boolean> {
    const result = await this.pool.query(
      'UPDATE api_keys SET revoked_at = $1 WHERE workspace_id = $2 AND id = $3 AND revoked_at IS NULL', [now, workspaceId, id],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async findKeyByHash(hash: string): Promise<ApiKey | null> {
    const [row] = await this.rows('SELECT * FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL', [hash]);
    return row ? rowToKey(row) : null;
  }

  // ---- topics ---------------------------------------------------------------------------

  async seedTopics(topics: readonly TopicRecord[]): Promise<void> {
    await this.pool.query(
      `INSERT INTO topics (name, label, description, sample)
       SELECT u.name, u.label, u.description, u.sample::json FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(name, label, description, sample)
       ON CONFLICT (name) DO NOTHING`,
      [topics.map((t) => t.name), topics.map((t) => t.label), topics.map((t) => t.description), topics.map((t) => JSON.stringify(t.sample))],
    );
  }

  async listTopics(): Promise<TopicRecord[]> {
    return (await this.rows('SELECT * FROM topics ORDER BY seq')).map(rowToTopic);
  }

  async getTopic(name: string): Promise<TopicRecord | null> {
    const [row] = await this.rows('SELECT * FROM topics WHERE name = $1', [name]);
    return row ? rowToTopic(row) : null;
  }

  async putTopic(topic: TopicRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO topics (name, label, description, sample) VALUES ($1, $2, $3, $4)
       ON CONFLICT (name) DO UPDATE SET label = excluded.label, description = excluded.description, sample = excluded.sample`,
      [topic.name, topic.label, topic.description, JSON.stringify(topic.sample)],
    );
  }

  // ---- webhooks -------------------------------------------------------------------------

  async createWebhook(w: Webhook): Promise<void> {
    await this.pool.query(
      `INSERT INTO webhooks (id, workspace_id, topic, url, secret, prefix, filter, headers, description, enabled, disabled_reason,
         rate_limit, previous_secrets, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
      [
        w.id, w.workspaceId, w.topic, w.url, w.secret, w.prefix, w.filter === null ? null : JSON.stringify(w.filter),
        JSON.stringify(w.headers), w.description, w.enabled, w.disabledReason, w.rateLimit, previousSecretsColumn(w.previousSecrets),
        w.createdAt, w.updatedAt,
      ],
    );
  }

  async listWebhooks(workspaceId: string, topic: string | undefined, page: PageRequest): Promise<Page<Webhook>> {
    const values: unknown[] = [workspaceId, page.cursor ?? NO_CURSOR, page.limit + 1];
    const byTopic = topic === undefined ? '' : `AND topic = $${values.push(topic)}`;
    const rows = await this.rows(`SELECT * FROM webhooks WHERE workspace_id = $1 ${byTopic} AND seq < $2 ORDER BY seq DESC LIMIT $3`, values);
    return paged(rows, page.limit, rowToWebhook);
  }

  async getWebhook(workspaceId: string, id: string): Promise<Webhook | null> {
    const [row] = await this.rows('SELECT * FROM webhooks WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    return row ? rowToWebhook(row) : null;
  }

  async findWebhook(id: string): Promise<Webhook | null> {
    const [row] = await this.rows('SELECT * FROM webhooks WHERE id = $1', [id]);
    return row ? rowToWebhook(row) : null;
  }

  async updateWebhook(workspaceId: string, id: string, patch: WebhookPatch, now: number): Promise<Webhook | null> {
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
    if (patch.enabled !== true) {
      const [row] = await this.rows(update, values);
      return row ? rowToWebhook(row) : null;
    }
    return this.tx(async (c) => {
      const [before] = (await c.query('SELECT enabled FROM webhooks WHERE workspace_id = $1 AND id = $2 FOR UPDATE', [workspaceId, id])).rows;
      if (!before) return null;
      const [row] = (await c.query(update, values)).rows;
      // Switched back on: its receiver gets a fresh start.
      if (!before.enabled) await c.query('DELETE FROM webhook_health WHERE webhook_id = $1', [id]);
      return rowToWebhook(row);
    });
  }

  async deleteWebhook(workspaceId: string, id: string, now: number): Promise<boolean> {
    return this.tx(async (c) => {
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
        await c.query('DELETE FROM webhook_health WHERE webhook_id = $1', [id]);
        await c.query('DELETE FROM webhook_rate WHERE webhook_id = $1', [id]);
      }
      return gone;
    });
  }

  // ---- events ---------------------------------------------------------------------------

  async publish(batches: PublishBatch[], planner: FanOutPlanner, now: number): Promise<(PublishOutcome[] | null)[]> {
    if (batches.length === 0) return [];
    return this.tx((c) => publishBatches(c, batches, planner, now, this.channel));
  }

  async listEvents(workspaceId: string, topic: string | undefined, page: PageRequest): Promise<Page<EventRecord>> {
    const values: unknown[] = [workspaceId, page.cursor ?? NO_CURSOR, page.limit + 1];
    const byTopic = topic === undefined ? '' : `AND topic = $${values.push(topic)}`;
    const rows = await this.rows(`SELECT * FROM events WHERE workspace_id = $1 ${byTopic} AND seq < $2 ORDER BY seq DESC LIMIT $3`, values);
    return paged(rows, page.limit, rowToEvent);
  }

  async getEvent(workspaceId: string, id: string): Promise<EventRecord | null> {
    const [row] = await this.rows('SELECT * FROM events WHERE workspace_id = $1 AND id = $2', [workspaceId, id]);
    return row ? rowToEvent(row) : null;
  }

  async replayEvent(workspaceId: string, id: string, planner: FanOutPlanner, now: number): Promise<number | null> {
    return this.tx(async (c) => {
      const [event] = (await c.query('SELECT seq, topic, body FROM events WHERE workspace_id = $1 AND id = $2 FOR UPDATE', [workspaceId, id])).rows;
      if (!event) return null;
      const webhooks = (
        await c.query('SELECT * FROM webhooks WHERE workspace_id = $1 AND topic = $2 AND enabled ORDER BY seq FOR KEY SHARE', [workspaceId, event.topic])
      ).rows.map(rowToWebhook);
      const targets = webhooks.filter((w) => planner.matches(w, event.body));
      if (targets.length === 0) return 0;
      await insertDeliveries(
        c,
        targets.map((w) => ({ id: newId('dlv', now), workspaceId, eventSeq: Number(event.seq), webhookId: w.id, url: w.url })),
        now,
        this.channel,
      );
      await c.query('UPDATE events SET deliveries = deliveries + $1 WHERE seq = $2', [targets.length, event.seq]);
      return targets.length;
    });
  }

  // ---- deliveries -----------------------------------------------------------------------

  async listDeliveries(workspaceId: string, filter: DeliveryFilter, page: PageRequest): Promise<Page<Delivery>> {
    const values: unknown[] = [workspaceId, page.cursor ?? NO_CURSOR, page.limit + 1];
    let where = '';
    if (filter.webhookId !== undefined) where += ` AND d.webhook_id = $${values.push(filter.webhookId)}`;
    if (filter.eventId !== undefined) where += ` AND e.id = $${values.push(filter.eventId)} AND e.workspace_id = $1`;
    if (filter.status !== undefined) where += ` AND d.status = $${values.push(filter.status)}`;
    const rows = await this.rows(
      `SELECT d.*, e.id AS event_id, e.topic FROM deliveries d JOIN events e ON e.seq = d.event_seq
       WHERE d.workspace_id = $1${where} AND d.seq < $2 ORDER BY d.seq DESC LIMIT $3`,
      values,
    );
    return paged(rows, page.limit, rowToDelivery);
  }

  async getDelivery(workspaceId: string, id: string): Promise<{ delivery: Delivery; attempts: Attempt[] } | null> {
    const [row] = await this.rows(
      'SELECT d.*, e.id AS event_id, e.topic FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.id = $1 AND d.workspace_id = $2',
      [id, workspaceId],
    );
    if (!row) return null;
    const attempts = (await this.rows('SELECT * FROM attempts WHERE delivery_seq = $1 ORDER BY number', [row.seq])).map(rowToAttempt);
    return { delivery: rowToDelivery(row), attempts };
  }

  async retryDelivery(workspaceId: string, id: string, now: number): Promise<boolean> {
    // One more attempt: a new cycle that allows exactly one (not when its webhook is gone: nothing could claim it).
    const n = await queue.requeue(
      this.pool,
      `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, cycle_start = attempts, cycle_limit = 1, updated_at = $1
       WHERE id = $2 AND workspace_id = $3 AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = deliveries.webhook_id)`,
      [now, id, workspaceId],
      this.channel,
    );
    return n > 0;
  }

  async recoverDeliveries(workspaceId: string, webhookId: string, since: number, until: number, now: number): Promise<number> {
    return queue.requeue(
      this.pool,
      `UPDATE deliveries SET status = 'pending', next_attempt_at = $1, cycle_start = attempts, cycle_limit = NULL, updated_at = $1
       WHERE workspace_id = $2 AND webhook_id = $3 AND status = 'failed' AND created_at >= $4 AND created_at < $5`,
      [now, workspaceId, webhookId, since, until],
      this.channel,
    );
  }

  async createTestDelivery(workspaceId: string, webhookId: string, event: EventRecord, deliveryId: string, leaseUntil: number): Promise<ClaimedDelivery> {
    return this.tx((c) => queue.createTestDelivery(c, workspaceId, webhookId, event, deliveryId, leaseUntil));
  }

  // ---- the queue (queue.ts) -------------------------------------------------------------

  claimDue(now: number, limit: number, leaseUntil: number): Promise<ClaimedDelivery[]> {
    return this.relaxedTx((c) => queue.claimDue(c, now, limit, leaseUntil));
  }

  queueStats(now: number): Promise<{ pending: number; oldestDueAt: number | null }> {
    return queue.queueStats(this.pool, now);
  }

  nextDueAt(): Promise<number | null> {
    return queue.nextDueAt(this.pool);
  }

  async recordResults(results: AttemptResult[], now: number, health?: HealthPolicy): Promise<HealthEffect[]> {
    if (results.length === 0) return [];
    return this.relaxedTx(async (c) => {
      if (health) return queue.recordResultsWithHealth(c, results, now, health);
      await queue.recordResults(c, results, now);
      return [];
    });
  }

  async releaseClaims(claims: { seq: number; claim: number; at: number }[]): Promise<void> {
    if (claims.length > 0) await this.relaxedTx((c) => queue.releaseClaims(c, claims, this.channel));
  }

  async holdWebhooks(holds: { webhookId: string; until: number }[], now: number): Promise<void> {
    if (holds.length > 0) await this.relaxedTx((c) => queue.holdWebhooks(c, holds, now));
  }

  takeRateTokens(webhookId: string, perSecond: number, count: number, now: number): Promise<RateGrant> {
    return takeRateTokens(this.pool, webhookId, perSecond, count, now);
  }

  purge(before: number, limit: number): Promise<number> {
    return this.tx((c) => queue.purge(c, before, limit));
  }

  // ---- copying a whole database (copy.ts) ------------------------------------------------

  exportRows(table: TableName, after: PortableValue[] | null, limit: number): Promise<ExportPage> {
    return copy.exportRows(this.pool, table, after, limit);
  }

  importRows(batches: AsyncIterable<ImportBatch>): Promise<void> {
    return this.tx((c) => copy.importRows(c, batches));
  }

  countRows(): Promise<TableCounts> {
    return copy.countRows(this.pool);
  }
}
