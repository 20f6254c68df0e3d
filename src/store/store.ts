// The Store interface: the only door to the database. Each adapter (SQLite, PostgreSQL)
// implements it; the conformance cases in test/store/store.cases.ts run against every adapter.
// Times are Unix milliseconds; JSON columns come back parsed.

import type { HealthEffect, HealthPolicy } from '../domain/health.js';
import type { RateGrant } from '../domain/rate.js';
import type { ExportPage, ImportBatch, PortableValue, TableCounts, TableName } from './portable.js';

export type { RateGrant } from '../domain/rate.js';

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed' | 'cancelled';

export interface Workspace {
  id: string;
  name: string;
  uri: string | null;
  webhooksEnabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface ApiKey {
  id: string;
  workspaceId: string;
  name: string | null;
  createdAt: number;
}

export interface TopicRecord {
  name: string;
  label: string;
  description: string;
  sample: Record<string, unknown>;
}

export interface Webhook {
  id: string;
  workspaceId: string;
  topic: string;
  url: string;
  /** As stored: encrypted when an encryption key is configured. */
  secret: string;
  prefix: string;
  filter: Record<string, unknown> | null;
  headers: Record<string, string>;
  description: string | null;
  enabled: boolean;
  disabledReason: string | null;
  /** Requests per second at most, or null for no limit. */
  rateLimit: number | null;
  /** Earlier secrets that still sign during a rotation (stored like `secret`). */
  previousSecrets: PreviousSecret[];
  createdAt: number;
  updatedAt: number;
}

export interface PreviousSecret {
  secret: string;
  expiresAt: number;
}

export type WebhookPatch = Partial<
  Pick<
    Webhook,
    'topic' | 'url' | 'secret' | 'prefix' | 'filter' | 'headers' | 'description' | 'enabled' | 'disabledReason' | 'rateLimit' | 'previousSecrets'
  >
>;

export interface EventRecord {
  id: string;
  workspaceId: string;
  topic: string;
  /** The exact bytes sent to receivers: data plus the business fields it lacked. */
  body: string;
  /** Which business fields Herald added to data (so data can be given back as published). */
  addedFields: string[];
  createdAt: number;
  deliveries: number;
}

export interface Delivery {
  id: string;
  eventId: string;
  webhookId: string;
  topic: string;
  url: string;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: number | null;
  lastStatusCode: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface Attempt {
  number: number;
  startedAt: number;
  durationMs: number;
  statusCode: number | null;
  error: string | null;
  responseBody: string | null;
  requestHeaders: Record<string, string>;
}

export interface PageRequest {
  limit: number;
  /** The position after which to continue, from a previous page's `next`. */
  cursor?: number;
}

export interface Page<T> {
  rows: T[];
  /** Null on the last page. */
  next: number | null;
}

// ---- publishing ------------------------------------------------------------------------

export interface PublishInput {
  id: string;
  /** Whether `id` came from the caller (a repeat then returns the first event). */
  clientId: boolean;
  idempotencyKey: string | null;
  topic: string;
  data: Record<string, unknown>;
}

export interface PublishBatch {
  workspaceId: string;
  inputs: PublishInput[];
}

/** The domain decisions publishing needs, kept out of the adapters. */
export interface FanOutPlanner {
  body(workspace: Workspace, data: Record<string, unknown>): { body: string; addedFields: string[] };
  matches(webhook: Webhook, body: string): boolean;
}

export interface PublishOutcome {
  event: EventRecord;
  /** False when an earlier event with the same id or idempotency key was returned instead. */
  created: boolean;
}

// ---- delivering ------------------------------------------------------------------------

/** A delivery taken by a worker, with everything its attempt needs. */
export interface ClaimedDelivery {
  seq: number;
  id: string;
  claim: number;
  workspaceId: string;
  eventId: string;
  topic: string;
  body: string;
  attempts: number;
  /** Attempts made before the current cycle of retries began (after a manual retry or recover). */
  cycleStart: number;
  /** Attempts allowed in the current cycle; null means the configured retries + 1. */
  cycleLimit: number | null;
  webhook: {
    id: string;
    url: string;
    secret: string;
    prefix: string;
    headers: Record<string, string>;
    enabled: boolean;
    version: number;
    rateLimit: number | null;
    previousSecrets: PreviousSecret[];
    /** The circuit breaker's open-until time, or null when the circuit is closed. */
    openUntil: number | null;
  };
}

export interface AttemptResult {
  seq: number;
  claim: number;
  webhookId: string;
  status: DeliveryStatus;
  nextAttemptAt: number | null;
  url: string;
  /** Null when the delivery was closed without an attempt (its webhook was disabled). */
  attempt: Attempt | null;
}

export interface DeliveryFilter {
  webhookId?: string;
  eventId?: string;
  status?: DeliveryStatus;
}

export class ConflictError extends Error {}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Throws when the database cannot be used. */
  ping(): Promise<void>;
  /** Resolves once the writes made so far are on disk (for stores that commit before syncing). */
  durable?(): Promise<void>;

  createWorkspace(ws: Workspace): Promise<void>;
  listWorkspaces(page: PageRequest): Promise<Page<Workspace>>;
  getWorkspace(id: string): Promise<Workspace | null>;
  updateWorkspace(id: string, patch: Partial<Pick<Workspace, 'name' | 'uri' | 'webhooksEnabled'>>, now: number): Promise<Workspace | null>;
  deleteWorkspace(id: string): Promise<boolean>;

  createKey(key: ApiKey, hash: string): Promise<void>;
  listKeys(workspaceId: string, page: PageRequest): Promise<Page<ApiKey>>;
  revokeKey(workspaceId: string, id: string, now: number): Promise<boolean>;
  findKeyByHash(hash: string): Promise<ApiKey | null>;

  seedTopics(topics: readonly TopicRecord[]): Promise<void>;
  listTopics(): Promise<TopicRecord[]>;
  getTopic(name: string): Promise<TopicRecord | null>;
  putTopic(topic: TopicRecord): Promise<void>;

  createWebhook(webhook: Webhook): Promise<void>;
  listWebhooks(workspaceId: string, topic: string | undefined, page: PageRequest): Promise<Page<Webhook>>;
  getWebhook(workspaceId: string, id: string): Promise<Webhook | null>;
  /** A webhook by id alone, for Herald's own bookkeeping (never for API callers). */
  findWebhook(id: string): Promise<Webhook | null>;
  updateWebhook(workspaceId: string, id: string, patch: WebhookPatch, now: number): Promise<Webhook | null>;
  /** Deletes it and cancels its pending deliveries. */
  deleteWebhook(workspaceId: string, id: string, now: number): Promise<boolean>;

  /**
   * Stores events and their deliveries, for one or more workspaces, in one transaction (so
   * that publishes arriving together share one commit). A batch whose workspace no longer
   * exists comes back as null.
   */
  publish(batches: PublishBatch[], planner: FanOutPlanner, now: number): Promise<(PublishOutcome[] | null)[]>;
  listEvents(workspaceId: string, topic: string | undefined, page: PageRequest): Promise<Page<EventRecord>>;
  getEvent(workspaceId: string, id: string): Promise<EventRecord | null>;
  /** Fans the event out again to the webhooks that match now; returns how many deliveries were queued, or null when there is no such event. */
  replayEvent(workspaceId: string, id: string, planner: FanOutPlanner, now: number): Promise<number | null>;

  listDeliveries(workspaceId: string, filter: DeliveryFilter, page: PageRequest): Promise<Page<Delivery>>;
  getDelivery(workspaceId: string, id: string): Promise<{ delivery: Delivery; attempts: Attempt[] } | null>;
  /** Queues one more attempt now; false when there is no such delivery or its webhook was deleted. */
  retryDelivery(workspaceId: string, id: string, now: number): Promise<boolean>;
  /** Queues a webhook's failed deliveries created in [since, until) for a new cycle of retries. */
  recoverDeliveries(workspaceId: string, webhookId: string, since: number, until: number, now: number): Promise<number>;
  /** Creates an event and a delivery that is already claimed by the caller, for a test send. */
  createTestDelivery(workspaceId: string, webhookId: string, event: EventRecord, deliveryId: string, leaseUntil: number): Promise<ClaimedDelivery>;

  /**
   * Calls `onWork` whenever another process queues work (a multi-node store's LISTEN/NOTIFY);
   * returns the unsubscribe. Absent where one process owns the database.
   */
  listen?(onWork: () => void): Promise<() => Promise<void>>;

  /** Claims up to `limit` due deliveries until `leaseUntil`. */
  claimDue(now: number, limit: number, leaseUntil: number): Promise<ClaimedDelivery[]>;
  /** Pending deliveries, and when the earliest due one (at or before now) became due. */
  queueStats(now: number): Promise<{ pending: number; oldestDueAt: number | null }>;
  /** When the earliest pending delivery is due, or null when none is pending. */
  nextDueAt(): Promise<number | null>;
  /**
   * Records attempt results in one transaction; results whose claim is stale are ignored.
   * With a health policy, also updates each webhook's health in the same transaction: opening
   * a circuit pushes the webhook's pending deliveries to its end, and a webhook failing for
   * too long is disabled. Returns what changed.
   */
  recordResults(results: AttemptResult[], now: number, health?: HealthPolicy): Promise<HealthEffect[]>;
  /** Gives claimed deliveries back, due again at `at` (now, at shutdown). */
  releaseClaims(claims: { seq: number; claim: number; at: number }[]): Promise<void>;
  /**
   * Holds back every delivery of each webhook that is due at `now` (not the claimed ones, nor
   * manual retries) until `until`: a webhook that may not take an attempt for a while is held back in one
   * statement, rather than each of its deliveries being claimed and given back.
   */
  holdWebhooks(holds: { webhookId: string; until: number }[], now: number): Promise<void>;
  /**
   * Takes up to `count` sends of a webhook limited to `perSecond` requests per second, at
   * `now`: how many may go now, and when the next may. Atomic, and shared by every worker of
   * the database, so the limit holds across nodes (src/domain/rate.ts has the rule).
   */
  takeRateTokens(webhookId: string, perSecond: number, count: number, now: number): Promise<RateGrant>;
  /**
   * Deletes up to `limit` events created before `before` whose deliveries are all finished,
   * with their deliveries and attempts. Returns how many events went.
   */
  purge(before: number, limit: number): Promise<number>;

  // ---- copying a whole database (herald copy; the tables are in portable.ts) ------------

  /** Up to `limit` rows of a table in portable form, in key order, after the key `after` (null: from the start). */
  exportRows(table: TableName, after: PortableValue[] | null, limit: number): Promise<ExportPage>;
  /**
   * Stores exported rows as they are (ids, seqs, secrets as stored, queue state), all in one
   * transaction: when the batches end, everything is committed; when they throw (or a row is
   * refused), nothing is. Tables must come parents first, as PORTABLE_TABLES lists them.
   */
  importRows(batches: AsyncIterable<ImportBatch>): Promise<void>;
  /** How many rows each table holds. */
  countRows(): Promise<TableCounts>;
}
