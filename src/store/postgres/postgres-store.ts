import type { Pool, PoolClient } from 'pg';
import { FanOut } from '../../domain/fan-out.js';
import type { HealthEffect, HealthPolicy } from '../../domain/health.js';
import type { RateGrant } from '../../domain/rate.js';
import { readMigrations } from '../migrations.js';
import type { ExportPage, ImportBatch, PortableValue, TableCounts, TableName } from '../portable.js';
import type {
  ApiKey, Attempt, AttemptResult, ClaimedDelivery, Delivery, DeliveryFilter, EventRecord, Page, PageRequest, PortalSession, PublishBatch, PublishOutcome,
  ReplayWindow, RetryWindow, Store,
  TopicRecord, Webhook, WebhookPatch, Workspace,
} from '../store.js';
import type { Row } from '../rows.js';
import * as admin from './admin.js';
import * as portal from './portal.js';
import { clientConfig, createPool, inTransaction, WorkListener, type PostgresOptions } from './connection.js';
import * as copy from './copy.js';
import * as publishing from './publish.js';
import * as queue from './queue.js';
import { takeRateTokens } from './rate.js';
import { lockKeys, turnKeys } from './turn.js';

export type { PostgresOptions } from './connection.js';

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
  /** Filters compiled once per webhook version, for planning publishes. */
  private readonly fanOut = new FanOut();
  /** What admin.ts runs on. */
  private readonly x: admin.PgContext;

  constructor(private readonly options: PostgresOptions) {
    this.pool = createPool(options);
    this.channel = options.schema ? `herald_work_${options.schema}` : 'herald_work';
    this.x = { pool: this.pool, tx: (fn) => this.tx(fn), channel: this.channel };
  }

  private get onError(): (err: Error) => void {
    return this.options.onError ?? (() => undefined);
  }

  private tx<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, fn);
  }

  /** A queue-bookkeeping transaction, committed without waiting for the disk (see TransactionOptions). */
  private relaxedTx<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, fn, { relaxed: true });
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

  // ---- administration (admin.ts) ---------------------------------------------------------

  createWorkspace(ws: Workspace): Promise<void> { return admin.createWorkspace(this.x, ws); }
  listWorkspaces(page: PageRequest): Promise<Page<Workspace>> { return admin.listWorkspaces(this.x, page); }
  getWorkspace(id: string): Promise<Workspace | null> { return admin.getWorkspace(this.x, id); }
  updateWorkspace(id: string, patch: Partial<Pick<Workspace, 'name' | 'uri' | 'webhooksEnabled'>>, now: number): Promise<Workspace | null> {
    return admin.updateWorkspace(this.x, id, patch, now);
  }
  deleteWorkspace(id: string): Promise<boolean> { return admin.deleteWorkspace(this.x, id); }

  createKey(key: ApiKey, hash: string): Promise<void> { return admin.createKey(this.x, key, hash); }
  listKeys(workspaceId: string, page: PageRequest): Promise<Page<ApiKey>> { return admin.listKeys(this.x, workspaceId, page); }
  revokeKey(workspaceId: string, id: string, now: number): Promise<boolean> { return admin.revokeKey(this.x, workspaceId, id, now); }
  findKeyByHash(hash: string): Promise<ApiKey | null> { return admin.findKeyByHash(this.x, hash); }

  seedTopics(topics: readonly TopicRecord[]): Promise<void> { return admin.seedTopics(this.x, topics); }
  listTopics(): Promise<TopicRecord[]> { return admin.listTopics(this.x); }
  getTopic(name: string): Promise<TopicRecord | null> { return admin.getTopic(this.x, name); }
  putTopic(topic: TopicRecord): Promise<TopicRecord> { return admin.putTopic(this.x, topic); }

  createWebhook(webhook: Webhook): Promise<void> { return admin.createWebhook(this.x, webhook); }
  listWebhooks(workspaceId: string, topic: string | undefined, page: PageRequest): Promise<Page<Webhook>> {
    return admin.listWebhooks(this.x, workspaceId, topic, page);
  }
  getWebhook(workspaceId: string, id: string): Promise<Webhook | null> { return admin.getWebhook(this.x, workspaceId, id); }
  findWebhook(id: string): Promise<Webhook | null> { return admin.findWebhook(this.x, id); }
  updateWebhook(workspaceId: string, id: string, patch: WebhookPatch, now: number): Promise<Webhook | null> {
    return admin.updateWebhook(this.x, workspaceId, id, patch, now);
  }
  deleteWebhook(workspaceId: string, id: string, now: number): Promise<boolean> { return admin.deleteWebhook(this.x, workspaceId, id, now); }

  listEvents(workspaceId: string, topic: string | undefined, page: PageRequest): Promise<Page<EventRecord>> {
    return admin.listEvents(this.x, workspaceId, topic, page);
  }
  getEvent(workspaceId: string, id: string): Promise<EventRecord | null> { return admin.getEvent(this.x, workspaceId, id); }
  listDeliveries(workspaceId: string, filter: DeliveryFilter, page: PageRequest): Promise<Page<Delivery>> {
    return admin.listDeliveries(this.x, workspaceId, filter, page);
  }
  getDelivery(workspaceId: string, id: string): Promise<{ delivery: Delivery; attempts: Attempt[] } | null> {
    return admin.getDelivery(this.x, workspaceId, id);
  }
  retryDelivery(workspaceId: string, id: string, now: number): Promise<boolean> { return admin.retryDelivery(this.x, workspaceId, id, now); }
  recoverDeliveries(workspaceId: string, webhookId: string, since: number, until: number, now: number): Promise<number> {
    return this.retryDeliveries(workspaceId, { since, until, status: 'failed', webhookId }, now);
  }
  retryDeliveries(workspaceId: string, window: RetryWindow, now: number): Promise<number> {
    return queue.retryWindow((fn) => this.tx(fn), workspaceId, window, now, this.channel);
  }

  // ---- portal sessions (portal.ts) -------------------------------------------------------

  createPortalSession(session: PortalSession, tokenHash: string): Promise<void> { return portal.createPortalSession(this.x, session, tokenHash); }
  listPortalSessions(workspaceId: string, page: PageRequest): Promise<Page<PortalSession>> { return portal.listPortalSessions(this.x, workspaceId, page); }
  revokePortalSessions(workspaceId: string, id: string | null, now: number): Promise<number> { return portal.revokePortalSessions(this.x, workspaceId, id, now); }
  openPortalLink(tokenHash: string, sessionHash: string, now: number) { return portal.openPortalLink(this.x, tokenHash, sessionHash, now); }
  findPortalSession(sessionHash: string): Promise<PortalSession | null> { return portal.findPortalSession(this.x, sessionHash); }

  // ---- publishing (publish.ts) -----------------------------------------------------------

  async publish(batches: PublishBatch[], now: number): Promise<(PublishOutcome[] | null)[]> {
    if (batches.length === 0) return [];
    return publishing.publish(this.pool, this.fanOut, batches, now, this.channel);
  }

  replayEvents(workspaceId: string, window: ReplayWindow, now: number): Promise<{ events: number; deliveries: number }> {
    return publishing.replayEvents((fn) => this.tx(fn), this.fanOut, workspaceId, window, now, this.channel);
  }

  replayEvent(workspaceId: string, id: string, now: number): Promise<number | null> {
    return publishing.replayEvent(this.pool, (fn) => this.tx(fn), this.fanOut, workspaceId, id, now, this.channel);
  }

  createTestDelivery(workspaceId: string, webhookId: string, event: EventRecord, deliveryId: string, leaseUntil: number): Promise<ClaimedDelivery> {
    return this.tx((c) => queue.createTestDelivery(c, workspaceId, webhookId, event, deliveryId, leaseUntil));
  }

  // ---- the queue (queue.ts) -------------------------------------------------------------

  claimDue(now: number, limit: number, leaseUntil: number, skipWebhooks: readonly string[] = []): Promise<ClaimedDelivery[]> {
    return this.claim((c) => queue.claimDue(c, now, limit, leaseUntil, skipWebhooks));
  }

  claimFirstDue(now: number, webhookIds: readonly string[], leaseUntil: number): Promise<ClaimedDelivery[]> {
    return webhookIds.length === 0 ? Promise.resolve([]) : this.claim((c) => queue.claimFirstDue(c, now, webhookIds, leaseUntil));
  }

  private async claim(take: (c: PoolClient) => Promise<ClaimedDelivery[]>): Promise<ClaimedDelivery[]> {
    const claimed = await this.relaxedTx(take);
    // A paused webhook's deliveries are held as the claim meets them (src/domain/ordering.ts).
    const paused = claimed.filter((d) => d.webhook.paused);
    if (paused.length === 0) return claimed;
    const held = await this.relaxedTx((c) => queue.holdClaims(c, paused));
    return claimed.filter((d) => !held.has(d.seq));
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
      await lockKeys(c, turnKeys(queue.fifoWebhooks(results)));
      await queue.passTurns(c, results, await queue.recordResults(c, results, now), now);
      return [];
    });
  }

  async releaseClaims(claims: { seq: number; claim: number; at: number }[], now: number): Promise<void> {
    if (claims.length > 0) await this.relaxedTx((c) => queue.releaseClaims(c, claims, now, this.channel));
  }

  async holdWebhooks(holds: { webhookId: string; until: number }[], now: number, dueAfter?: number): Promise<void> {
    if (holds.length > 0) await this.relaxedTx((c) => queue.holdWebhooks(c, holds, now, dueAfter));
  }

  takeRateTokens(webhookId: string, perSecond: number, count: number, now: number): Promise<RateGrant> {
    return this.relaxedTx((c) => takeRateTokens(c, webhookId, perSecond, count, now));
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
