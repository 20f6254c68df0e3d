// The embedded store: one SQLite connection per thread (connection.ts), with its queries by
// role in admin.ts, publish.ts, queue.ts and copy.ts. better-sqlite3 is synchronous, so each
// method runs to completion on the caller's turn of the event loop unless it waits for the
// write lock; the async signatures are the Store interface's.
import type Database from 'better-sqlite3';
import { FanOut } from '../../domain/fan-out.js';
import type { HealthEffect, HealthPolicy } from '../../domain/health.js';
import type { RateGrant } from '../../domain/rate.js';
import type { ExportPage, ImportBatch, PortableValue, TableCounts, TableName } from '../portable.js';
import type {
  ApiKey, Attempt, AttemptResult, ClaimedDelivery, Delivery, DeliveryFilter, EventRecord, Page, PageRequest, PortalSession, PublishBatch, PublishOutcome,
  ReplayWindow, RetryWindow, Store,
  TopicRecord, Webhook, WebhookPatch, Workspace,
} from '../store.js';
import * as admin from './admin.js';
import * as portal from './portal.js';
import { SqliteConnection, type SqliteOptions } from './connection.js';
import * as copy from './copy.js';
import * as publishing from './publish.js';
import * as queue from './queue.js';

export type { SqliteOptions } from './connection.js';

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly c: SqliteConnection;
  /** Filters compiled once per webhook version, for planning publishes. */
  private readonly fanOut = new FanOut();

  constructor(options: SqliteOptions) {
    this.c = new SqliteConnection(options);
  }

  /** The connection, for tests and tools that look at the database directly. */
  get db(): Database.Database {
    return this.c.db;
  }

  migrate(): Promise<void> { return this.c.migrate(); }
  close(): Promise<void> { return this.c.close(); }
  ping(): Promise<void> { return this.c.ping(); }
  durable(): Promise<void> { return this.c.durable(); }

  // ---- administration (admin.ts) ---------------------------------------------------------

  createWorkspace(ws: Workspace): Promise<void> { return admin.createWorkspace(this.c, ws); }
  async listWorkspaces(page: PageRequest): Promise<Page<Workspace>> { return admin.listWorkspaces(this.c, page); }
  async getWorkspace(id: string): Promise<Workspace | null> { return admin.getWorkspace(this.c, id); }
  updateWorkspace(id: string, patch: Partial<Pick<Workspace, 'name' | 'uri' | 'webhooksEnabled'>>, now: number): Promise<Workspace | null> {
    return admin.updateWorkspace(this.c, id, patch, now);
  }
  deleteWorkspace(id: string): Promise<boolean> { return admin.deleteWorkspace(this.c, id); }

  createKey(key: ApiKey, hash: string): Promise<void> { return admin.createKey(this.c, key, hash); }
  async listKeys(workspaceId: string, page: PageRequest): Promise<Page<ApiKey>> { return admin.listKeys(this.c, workspaceId, page); }
  revokeKey(workspaceId: string, id: string, now: number): Promise<boolean> { return admin.revokeKey(this.c, workspaceId, id, now); }
  async findKeyByHash(hash: string): Promise<ApiKey | null> { return admin.findKeyByHash(this.c, hash); }

  seedTopics(topics: readonly TopicRecord[]): Promise<void> { return admin.seedTopics(this.c, topics); }
  async listTopics(): Promise<TopicRecord[]> { return admin.listTopics(this.c); }
  async getTopic(name: string): Promise<TopicRecord | null> { return admin.getTopic(this.c, name); }
  putTopic(topic: TopicRecord): Promise<TopicRecord> { return admin.putTopic(this.c, topic); }

  createWebhook(webhook: Webhook): Promise<void> { return admin.createWebhook(this.c, webhook); }
  async listWebhooks(workspaceId: string, topic: string | undefined, page: PageRequest): Promise<Page<Webhook>> {
    return admin.listWebhooks(this.c, workspaceId, topic, page);
  }
  async getWebhook(workspaceId: string, id: string): Promise<Webhook | null> { return admin.getWebhook(this.c, workspaceId, id); }
  async findWebhook(id: string): Promise<Webhook | null> { return admin.findWebhook(this.c, id); }
  updateWebhook(workspaceId: string, id: string, patch: WebhookPatch, now: number): Promise<Webhook | null> {
    return admin.updateWebhook(this.c, workspaceId, id, patch, now);
  }
  deleteWebhook(workspaceId: string, id: string, now: number): Promise<boolean> { return admin.deleteWebhook(this.c, workspaceId, id, now); }

  async listEvents(workspaceId: string, topic: string | undefined, page: PageRequest): Promise<Page<EventRecord>> {
    return admin.listEvents(this.c, workspaceId, topic, page);
  }
  async getEvent(workspaceId: string, id: string): Promise<EventRecord | null> { return admin.getEvent(this.c, workspaceId, id); }
  async listDeliveries(workspaceId: string, filter: DeliveryFilter, page: PageRequest): Promise<Page<Delivery>> {
    return admin.listDeliveries(this.c, workspaceId, filter, page);
  }
  async getDelivery(workspaceId: string, id: string): Promise<{ delivery: Delivery; attempts: Attempt[] } | null> {
    return admin.getDelivery(this.c, workspaceId, id);
  }
  retryDelivery(workspaceId: string, id: string, now: number): Promise<boolean> { return queue.retryDelivery(this.c, workspaceId, id, now); }
  recoverDeliveries(workspaceId: string, webhookId: string, since: number, until: number, now: number): Promise<number> {
    return queue.retryWindow(this.c, workspaceId, { since, until, status: 'failed', webhookId }, now);
  }

  // ---- portal sessions (portal.ts) -------------------------------------------------------

  createPortalSession(session: PortalSession, tokenHash: string): Promise<void> { return portal.createPortalSession(this.c, session, tokenHash); }
  async listPortalSessions(workspaceId: string, page: PageRequest): Promise<Page<PortalSession>> { return portal.listPortalSessions(this.c, workspaceId, page); }
  revokePortalSessions(workspaceId: string, id: string | null, now: number): Promise<number> { return portal.revokePortalSessions(this.c, workspaceId, id, now); }
  openPortalLink(tokenHash: string, sessionHash: string, now: number) { return portal.openPortalLink(this.c, tokenHash, sessionHash, now); }
  async findPortalSession(sessionHash: string): Promise<PortalSession | null> { return portal.findPortalSession(this.c, sessionHash); }

  // ---- publishing (publish.ts) -----------------------------------------------------------

  publish(batches: PublishBatch[], now: number): Promise<(PublishOutcome[] | null)[]> { return publishing.publish(this.c, this.fanOut, batches, now); }
  retryDeliveries(workspaceId: string, window: RetryWindow, now: number): Promise<number> {
    return queue.retryWindow(this.c, workspaceId, window, now);
  }
  replayEvents(workspaceId: string, window: ReplayWindow, now: number): Promise<{ events: number; deliveries: number }> {
    return publishing.replayEvents(this.c, this.fanOut, workspaceId, window, now);
  }
  replayEvent(workspaceId: string, id: string, now: number): Promise<number | null> {
    return publishing.replayEvent(this.c, this.fanOut, workspaceId, id, now);
  }
  createTestDelivery(workspaceId: string, webhookId: string, event: EventRecord, deliveryId: string, leaseUntil: number): Promise<ClaimedDelivery> {
    return publishing.createTestDelivery(this.c, workspaceId, webhookId, event, deliveryId, leaseUntil);
  }

  // ---- the queue (queue.ts) --------------------------------------------------------------

  claimDue(now: number, limit: number, leaseUntil: number, skipWebhooks: readonly string[] = []): Promise<ClaimedDelivery[]> {
    return queue.claimDue(this.c, now, limit, leaseUntil, skipWebhooks);
  }
  claimFirstDue(now: number, webhookIds: readonly string[], leaseUntil: number): Promise<ClaimedDelivery[]> {
    return queue.claimFirstDue(this.c, now, webhookIds, leaseUntil);
  }
  async queueStats(now: number): Promise<{ pending: number; oldestDueAt: number | null }> { return queue.queueStats(this.c, now); }
  async nextDueAt(): Promise<number | null> { return queue.nextDueAt(this.c); }
  recordResults(results: AttemptResult[], now: number, health?: HealthPolicy): Promise<HealthEffect[]> {
    return queue.recordResults(this.c, results, now, health);
  }
  releaseClaims(claims: { seq: number; claim: number; at: number }[], now: number): Promise<void> { return queue.releaseClaims(this.c, claims, now); }
  holdWebhooks(holds: { webhookId: string; until: number }[], now: number, dueAfter?: number): Promise<void> {
    return queue.holdWebhooks(this.c, holds, now, dueAfter);
  }
  takeRateTokens(webhookId: string, perSecond: number, count: number, now: number): Promise<RateGrant> {
    return queue.takeRateTokens(this.c, webhookId, perSecond, count, now);
  }
  purge(before: number, limit: number): Promise<number> { return queue.purge(this.c, before, limit); }

  // ---- copying a whole database (copy.ts) ------------------------------------------------

  async exportRows(table: TableName, after: PortableValue[] | null, limit: number): Promise<ExportPage> {
    return copy.exportRows(this.c.db, table, after, limit);
  }
  async importRows(batches: AsyncIterable<ImportBatch>): Promise<void> {
    await this.c.writeWhile(() => copy.importRows(this.c.db, batches));
    this.c.planVersion++;
  }
  async countRows(): Promise<TableCounts> { return copy.countRows(this.c.db); }
}
