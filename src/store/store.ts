// The Store: the only door to the database, split by role so that each part of Herald
// depends on what it uses (the worker on the queue, retention on purge, the API on admin and
// publishing). `Store` is all of them; each adapter (SQLite, PostgreSQL) implements it, and
// the conformance cases in test/store/store.cases.ts run against every adapter. Adapters
// only read and write: the rules they apply are in src/domain/ (planPublish, planHealth,
// takeRate) and src/store/ (cascade.ts, replan.ts), as docs/architecture.md lists.
// Times are Unix milliseconds; JSON columns come back parsed.

import type { HealthEffect, HealthPolicy } from '../domain/health.js';
import type { PortalRefusal } from '../domain/portal.js';
import type { Ordering } from '../domain/ordering.js';
import type { RateGrant } from '../domain/rate.js';
import type {
  ApiKey, Attempt, Delivery, DeliveryStatus, EventRecord, PortalSession, PreviousSecret, PublishBatch, PublishOutcome, SigningKind, TopicRecord, Webhook, WebhookPatch,
  Workspace,
} from '../domain/records.js';
import type { ExportPage, ImportBatch, PortableValue, TableCounts, TableName } from './portable.js';

export type { RateGrant } from '../domain/rate.js';
export type {
  ApiKey, Attempt, Delivery, DeliveryStatus, EventRecord, PortalSession, PortalTheme, PreviousSecret, PreviousSigningKey, PublishBatch, PublishInput, PublishOutcome,
  SigningKind, TopicRecord, Webhook, WebhookPatch, Workspace,
} from '../domain/records.js';

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
  /** The W3C traceparent kept with the event (normalised): each attempt sends a child of it. */
  traceparent: string | null;
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
    /** "hmac" signs with the secrets only; "ed25519" adds a v1a signature per key. */
    signing: SigningKind;
    /**
     * whsk_ private keys as stored (sealed by the SecretBox when encryption is on), the current
     * first with expiresAt null, then those of a rotation with the end of their grace period.
     */
    signingKeys: { privateKey: string; expiresAt: number | null }[];
    /** As the webhook was when claimed (src/domain/ordering.ts); absent means 'none' and not paused. */
    ordering?: Ordering;
    paused?: boolean;
  };
}

/**
 * An attempt as recorded: the attempt, and its delivery's id and event topic, which its
 * stored headers are derived from (src/domain/sent-headers.ts).
 */
export interface AttemptMade extends Attempt {
  deliveryId: string;
  /** The event's topic, without the webhook's prefix. */
  topic: string;
  /**
   * requestHeaders in their stored form (JSON text), when the attempt made it as it signed
   * (src/domain/sent-headers.ts sentAndStored). Stores write it instead of requestHeaders: a copy
   * of an attempt with other requestHeaders must leave it out.
   */
  storedHeaders?: string;
}

export interface AttemptResult {
  seq: number;
  claim: number;
  webhookId: string;
  status: DeliveryStatus;
  nextAttemptAt: number | null;
  url: string;
  /** Null when the delivery was closed without an attempt (its webhook was disabled). */
  attempt: AttemptMade | null;
  /** Set when the webhook was fifo at the claim: a finished result passes the turn on. */
  fifo?: boolean;
}

export interface DeliveryFilter {
  webhookId?: string;
  eventId?: string;
  status?: DeliveryStatus;
}

/** Which deliveries a bulk retry queues again: created in [since, until), with this status. */
export interface RetryWindow {
  since: number;
  until: number;
  status: Exclude<DeliveryStatus, 'pending'>;
  webhookId?: string;
  topic?: string;
}

/** Which events a bulk replay fans out again: created in [since, until). */
export interface ReplayWindow {
  since: number;
  until: number;
  topic?: string;
}

export class ConflictError extends Error {}

/** Opening, migrating, checking and closing the database. */
export interface StoreLifecycle {
  readonly kind: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Throws when the database cannot be used. */
  ping(): Promise<void>;
  /** Resolves once the writes made so far are on disk (for stores that commit before syncing). */
  durable?(): Promise<void>;
}

/** Workspaces, API keys, the topic catalog, webhooks, and reading events and deliveries: what the API administers. */
export interface AdminStore {
  createWorkspace(ws: Workspace): Promise<void>;
  listWorkspaces(page: PageRequest): Promise<Page<Workspace>>;
  getWorkspace(id: string): Promise<Workspace | null>;
  updateWorkspace(id: string, patch: Partial<Pick<Workspace, 'name' | 'uri' | 'webhooksEnabled'>>, now: number): Promise<Workspace | null>;
  /** Deletes it with everything it holds (src/store/cascade.ts lists the order). */
  deleteWorkspace(id: string): Promise<boolean>;

  createKey(key: ApiKey, hash: string): Promise<void>;
  listKeys(workspaceId: string, page: PageRequest): Promise<Page<ApiKey>>;
  revokeKey(workspaceId: string, id: string, now: number): Promise<boolean>;
  findKeyByHash(hash: string): Promise<ApiKey | null>;

  seedTopics(topics: readonly TopicRecord[]): Promise<void>;
  listTopics(): Promise<TopicRecord[]>;
  getTopic(name: string): Promise<TopicRecord | null>;
  /** Adds a topic or replaces one (its schema too: null clears it); schemaVersion moves on every put. */
  putTopic(topic: TopicRecord): Promise<TopicRecord>;

  createWebhook(webhook: Webhook): Promise<void>;
  listWebhooks(workspaceId: string, topic: string | undefined, page: PageRequest): Promise<Page<Webhook>>;
  getWebhook(workspaceId: string, id: string): Promise<Webhook | null>;
  /** A webhook by id alone, for Herald's own bookkeeping (never for API callers). */
  findWebhook(id: string): Promise<Webhook | null>;
  updateWebhook(workspaceId: string, id: string, patch: WebhookPatch, now: number): Promise<Webhook | null>;
  /** Deletes it and cancels its pending deliveries. */
  deleteWebhook(workspaceId: string, id: string, now: number): Promise<boolean>;

  listEvents(workspaceId: string, topic: string | undefined, page: PageRequest): Promise<Page<EventRecord>>;
  getEvent(workspaceId: string, id: string): Promise<EventRecord | null>;

  listDeliveries(workspaceId: string, filter: DeliveryFilter, page: PageRequest): Promise<Page<Delivery>>;
  getDelivery(workspaceId: string, id: string): Promise<{ delivery: Delivery; attempts: Attempt[] } | null>;
  /** Queues one more attempt now; false when there is no such delivery or its webhook was deleted. */
  retryDelivery(workspaceId: string, id: string, now: number): Promise<boolean>;
  /** Queues a webhook's failed deliveries created in [since, until) for a new cycle of retries. */
  recoverDeliveries(workspaceId: string, webhookId: string, since: number, until: number, now: number): Promise<number>;
  /**
   * Queues a workspace's deliveries in a window for a new cycle of retries, in transactions of
   * a bounded number of rows (so that a large window never holds the database for long).
   * Returns how many were queued.
   */
  retryDeliveries(workspaceId: string, window: RetryWindow, now: number): Promise<number>;
}

/** Portal sessions (CONTRACT section 6): links that open a workspace's page once; only hashes are stored. */
export interface PortalStore {
  createPortalSession(session: PortalSession, tokenHash: string): Promise<void>;
  /** Newest first, revoked and expired ones too. */
  listPortalSessions(workspaceId: string, page: PageRequest): Promise<Page<PortalSession>>;
  /** Revokes one session (`id`) or all of the workspace's (null); how many there were. */
  revokePortalSessions(workspaceId: string, id: string | null, now: number): Promise<number>;
  /**
   * Opens the link whose token hashes to `tokenHash`, once: in one transaction, linkRefusal
   * (src/domain/portal.ts) decides, and an accepted link is marked used with the hash of the
   * credential it gives. Returns the session (null when there is none) and the refusal.
   */
  openPortalLink(tokenHash: string, sessionHash: string, now: number): Promise<{ session: PortalSession | null; refusal: PortalRefusal | null }>;
  /** The session whose credential hashes to `sessionHash`, whatever its state (sessionRefusal decides). */
  findPortalSession(sessionHash: string): Promise<PortalSession | null>;
}

/** Storing events and their deliveries. */
export interface PublishStore {
  /**
   * Stores events and their deliveries, for one or more workspaces, in one transaction (so
   * that publishes arriving together share one commit). What to write is decided before the
   * transaction by planPublish (src/domain/publish-plan.ts), and decided again when a
   * workspace or webhook changed meanwhile. A batch whose workspace no longer exists comes
   * back as null.
   */
  publish(batches: PublishBatch[], now: number): Promise<(PublishOutcome[] | null)[]>;
  /** Fans the event out again to the webhooks that match now; returns how many deliveries were queued, or null when there is no such event. */
  replayEvent(workspaceId: string, id: string, now: number): Promise<number | null>;
  /** replayEvent for every event of a window, oldest first, in transactions of a bounded number of events. */
  replayEvents(workspaceId: string, window: ReplayWindow, now: number): Promise<{ events: number; deliveries: number }>;
  /** Creates an event and a delivery that is already claimed by the caller, for a test send. */
  createTestDelivery(workspaceId: string, webhookId: string, event: EventRecord, deliveryId: string, leaseUntil: number): Promise<ClaimedDelivery>;
}

/** The delivery queue: what the worker claims, records and gives back. */
export interface QueueStore {
  /**
   * Calls `onWork` whenever another process queues work (a multi-node store's LISTEN/NOTIFY);
   * returns the unsubscribe. Absent where one process owns the database.
   */
  listen?(onWork: () => void): Promise<() => Promise<void>>;
  /**
   * Claims up to `limit` due deliveries until `leaseUntil`, passing over those of the webhooks
   * in `skipWebhooks` (held back as a whole by the worker's limiter: claimed, they would only
   * be given back, while healthy deliveries due after them wait), but for manual retries.
   */
  claimDue(now: number, limit: number, leaseUntil: number, skipWebhooks?: readonly string[]): Promise<ClaimedDelivery[]>;
  /**
   * Claims the earliest due delivery of each of these webhooks, until `leaseUntil`: the next
   * probe of webhooks whose hold has just run out, without their other due deliveries (which
   * would only be given back once the probe holds the webhook again).
   */
  claimFirstDue(now: number, webhookIds: readonly string[], leaseUntil: number): Promise<ClaimedDelivery[]>;
  /** Pending deliveries, and when the earliest due one (at or before now) became due. */
  queueStats(now: number): Promise<{ pending: number; oldestDueAt: number | null }>;
  /** When the earliest pending delivery is due, or null when none is pending. */
  nextDueAt(): Promise<number | null>;
  /**
   * Records attempt results in one transaction; results whose claim is stale are ignored.
   * With a health policy, also updates each webhook's health in the same transaction
   * (planHealth in src/domain/health.ts decides): opening a circuit pushes the webhook's
   * pending deliveries to its end, and a webhook failing for too long is disabled. Returns
   * what changed.
   */
  recordResults(results: AttemptResult[], now: number, health?: HealthPolicy): Promise<HealthEffect[]>;
  /**
   * Gives claimed deliveries back, due again at `at` (now, at shutdown), or at `now` when a
   * manual retry was asked for during the claim (src/store/manual-retry.ts).
   */
  releaseClaims(claims: { seq: number; claim: number; at: number }[], now: number): Promise<void>;
  /**
   * Holds back every delivery of each webhook that is due at `now` (not the claimed ones, nor
   * manual retries) until `until`: a webhook that may not take an attempt for a while is held back in one
   * statement, rather than each of its deliveries being claimed and given back. With `dueAfter`,
   * only those that came due after it (the worker's sweeps, which look at what came due since
   * the last one: a pass over every due delivery took 90 ms with 200,000 queued).
   */
  holdWebhooks(holds: { webhookId: string; until: number }[], now: number, dueAfter?: number): Promise<void>;
}

/** Per-webhook rate limits, shared by every worker of the database. */
export interface RateStore {
  /**
   * Takes up to `count` sends of a webhook limited to `perSecond` requests per second, at
   * `now`: how many may go now, and when the next may. Atomic, and shared by every worker of
   * the database, so the limit holds across nodes (takeRate in src/domain/rate.ts decides).
   */
  takeRateTokens(webhookId: string, perSecond: number, count: number, now: number): Promise<RateGrant>;
}

/** Deleting old events. */
export interface RetentionStore {
  /**
   * Deletes up to `limit` events created before `before` whose deliveries are all finished,
   * with their deliveries and attempts. Returns how many events went.
   */
  purge(before: number, limit: number): Promise<number>;
}

/** Copying a whole database (herald copy; the tables are in portable.ts). */
export interface CopyStore {
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

/** Everything: what each adapter implements. */
export interface Store extends StoreLifecycle, AdminStore, PortalStore, PublishStore, QueueStore, RateStore, RetentionStore, CopyStore {}
