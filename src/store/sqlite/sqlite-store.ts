import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { newId } from '../../domain/ids.js';
import { planHealth, type HealthEffect, type HealthPolicy, type WebhookHealth } from '../../domain/health.js';
import { takeRate, type RateGrant } from '../../domain/rate.js';
import { readMigrations } from '../migrations.js';
import type { ExportPage, ImportBatch, PortableValue, TableCounts, TableName } from '../portable.js';
import * as copy from './copy.js';
import type { WriteLock } from './write-lock.js';
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
  type PublishInput,
  type PublishOutcome,
  type Store,
  type TopicRecord,
  type Webhook,
  type WebhookPatch,
  type Workspace,
} from '../store.js';
import { previousSecretsColumn, paged, rowToAttempt, rowToClaimed, rowToClaimedWebhook, rowToDelivery, rowToEvent, rowToKey, rowToTopic, rowToWebhook, rowToWorkspace, type Row } from '../rows.js';

export interface SqliteOptions {
  /** Path of the database file, or ':memory:'. */
  path: string;
  /**
   * 'full' (default): a publish (and every other API write) is answered only once its commit
   * has reached the disk, so it survives a power cut, not only a crash of the process.
   * 'normal': answered once written to the operating system (survives a crash of Herald).
   */
  durability?: 'full' | 'normal';
  /** Shared with the other threads of this process that open the same database. */
  writeLock?: WriteLock;
}

/**
 * The embedded store. better-sqlite3 is synchronous, so each method runs to completion on
 * the caller's turn of the event loop; the async signatures are the Store interface's.
 */
export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly db: Database.Database;
  private readonly cache = new Map<string, Statement>();
  private readonly walPath: string | null;
  private readonly durability: 'full' | 'normal';
  private readonly writeLock: WriteLock | null;
  private wal: FileHandle | null = null;
  private syncing: Promise<void> | null = null;
  private nextSync: Promise<void> | null = null;
  /** total_changes() as of the start of the last completed sync. */
  private syncedChanges = 0;
  /** Bumped by every change to a workspace or webhook made here: a publish planned before it is planned again. */
  private publishSettings = 0;

  constructor(options: SqliteOptions) {
    if (options.path !== ':memory:') {
      // The database holds webhook secrets: only its owner may read it (SQLite gives its
      // -wal and -shm files the database file's mode).
      mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
      if (!existsSync(options.path)) writeFileSync(options.path, '', { mode: 0o600 });
    }
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    // Commits write the WAL without waiting for the disk, which would stall the event loop
    // (better-sqlite3 is synchronous); durable() then syncs the WAL on libuv's thread pool,
    // and many commits share one sync. SQLite still syncs around checkpoints itself.
    this.db.pragma('synchronous = NORMAL');
    this.walPath = options.path === ':memory:' ? null : options.path + '-wal';
    this.durability = options.durability ?? 'full';
    this.writeLock = options.writeLock ?? null;
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('temp_store = MEMORY');
    this.db.pragma('cache_size = -16384'); // 16 MiB: the hot part of the queue is small
  }

  /**
   * Resolves once every commit made before the call is on disk: an fdatasync of the WAL file
   * (Linux flushes a file's data whichever descriptor wrote it), off the event loop. A sync
   * already under way may have started before the caller's commit, so callers that arrive
   * during one share the next. Queue bookkeeping (claims, attempt results) does not wait for
   * it: a power cut can at most make some attempts happen again, and at-least-once holds.
   */
  durable(): Promise<void> {
    if (this.walPath === null || this.durability === 'normal') return Promise.resolve();
    const changes = (this.sql('SELECT total_changes() AS n').get() as Row).n as number;
    if (changes === this.syncedChanges && !this.syncing) return Promise.resolve(); // nothing new
    if (!this.syncing) {
      this.syncing = this.syncWal().then(
        () => {
          this.syncedChanges = Math.max(this.syncedChanges, changes);
          this.syncing = null;
        },
        (err) => {
          this.syncing = null;
          throw err;
        },
      );
      return this.syncing;
    }
    if (!this.nextSync) {
      this.nextSync = this.syncing.then(() => {
        this.nextSync = null;
        return this.durable();
      });
    }
    return this.nextSync;
  }

  private async syncWal(): Promise<void> {
    if (!this.wal) this.wal = await open(this.walPath!, 'r');
    await this.wal.datasync();
  }

  /** Prepared once, reused on every call. */
  private sql(text: string): Statement {
    let stmt = this.cache.get(text);
    if (!stmt) {
      stmt = this.db.prepare(text);
      this.cache.set(text, stmt);
    }
    return stmt;
  }

  async migrate(): Promise<void> {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    const migrations = readMigrations('sqlite');
    return this.write(() => {
      const done = new Set(this.db.prepare('SELECT version FROM schema_migrations').all().map((r: any) => r.version as number));
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      }
    });
  }

  async close(): Promise<void> {
    await this.syncing?.catch(() => undefined);
    await this.nextSync?.catch(() => undefined);
    await this.wal?.close().catch(() => undefined);
    this.wal = null;
    if (this.db.open) this.db.close();
  }

  async ping(): Promise<void> {
    // A write, not a read: SELECT 1 succeeds on a full disk or a read-only file, where every
    // publish fails. BEGIN IMMEDIATE takes the write lock, as a publish does.
    const probe = this.sql('INSERT INTO health_probe (id, checked_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at');
    await this.write(() => probe.run(Date.now()));
  }

  // ---- workspaces -----------------------------------------------------------------------

  async createWorkspace(ws: Workspace): Promise<void> {
    try {
      this.sql('INSERT INTO workspaces (id, name, uri, webhooks_enabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(ws.id, ws.name, ws.uri, ws.webhooksEnabled ? 1 : 0, ws.createdAt, ws.updatedAt);
    } catch (err: any) {
      if (err?.code === 'SQLITE_CONSTRAINT_UNIQUE') throw new ConflictError(`workspace ${ws.id} already exists`);
      throw err;
    }
  }

  async listWorkspaces(page: PageRequest): Promise<Page<Workspace>> {
    const rows = this.sql('SELECT * FROM workspaces WHERE seq < ? ORDER BY seq DESC LIMIT ?').all(page.cursor ?? Number.MAX_SAFE_INTEGER, page.limit + 1) as Row[];
    return paged(rows, page.limit, rowToWorkspace);
  }

  async getWorkspace(id: string): Promise<Workspace | null> {
    const row = this.sql('SELECT * FROM workspaces WHERE id = ?').get(id) as Row | undefined;
    return row ? rowToWorkspace(row) : null;
  }

  async updateWorkspace(id: string, patch: Partial<Pick<Workspace, 'name' | 'uri' | 'webhooksEnabled'>>, now: number): Promise<Workspace | null> {
    const row = this.sql(
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
    this.publishSettings++;
    return row ? rowToWorkspace(row) : null;
  }

  async deleteWorkspace(id: string): Promise<boolean> {
    return this.write(() => {
      this.sql('DELETE FROM attempts WHERE delivery_seq IN (SELECT seq FROM deliveries WHERE workspace_id = ?)').run(id);
      this.sql('DELETE FROM deliveries WHERE workspace_id = ?').run(id);
      this.sql('DELETE FROM events WHERE workspace_id = ?').run(id);
      this.sql('DELETE FROM webhook_health WHERE webhook_id IN (SELECT id FROM webhooks WHERE workspace_id = ?)').run(id);
      this.sql('DELETE FROM webhook_rate WHERE webhook_id IN (SELECT id FROM webhooks WHERE workspace_id = ?)').run(id);
      this.sql('DELETE FROM webhooks WHERE workspace_id = ?').run(id);
      this.sql('DELETE FROM api_keys WHERE workspace_id = ?').run(id);
      this.publishSettings++;
      return this.sql('DELETE FROM workspaces WHERE id = ?').run(id).changes > 0;
    });
  }

  // ---- API keys -------------------------------------------------------------------------

  async createKey(key: ApiKey, hash: string): Promise<void> {
    this.sql('INSERT INTO api_keys (id, workspace_id, name, key_hash, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(key.id, key.workspaceId, key.name, hash, key.createdAt);
  }

  async listKeys(workspaceId: string, page: PageRequest): Promise<Page<ApiKey>> {
    const rows = this.sql('SELECT * FROM api_keys WHERE workspace_id = ? AND revoked_at IS NULL AND seq < ? ORDER BY seq DESC LIMIT ?')
      .all(workspaceId, page.cursor ?? Number.MAX_SAFE_INTEGER, page.limit + 1) as Row[];
    return paged(rows, page.limit, rowToKey);
  }

  async revokeKey(workspaceId: string, id: string, now: number): Promise<boolean> {
    return this.sql('UPDATE api_keys SET revoked_at = ? WHERE workspace_id = ? AND id = ? AND revoked_at IS NULL').run(now, workspaceId, id).changes > 0;
  }

  async findKeyByHash(hash: string): Promise<ApiKey | null> {
    const row = this.sql('SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL').get(hash) as Row | undefined;
    return row ? rowToKey(row) : null;
  }

  // ---- topics ---------------------------------------------------------------------------

  async seedTopics(topics: readonly TopicRecord[]): Promise<void> {
    const insert = this.sql('INSERT OR IGNORE INTO topics (name, label, description, sample) VALUES (?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const t of topics) insert.run(t.name, t.label, t.description, JSON.stringify(t.sample));
    })();
  }

  async listTopics(): Promise<TopicRecord[]> {
    return (this.sql('SELECT rowid, * FROM topics ORDER BY rowid').all() as Row[]).map(rowToTopic);
  }

  async getTopic(name: string): Promise<TopicRecord | null> {
    const row = this.sql('SELECT * FROM topics WHERE name = ?').get(name) as Row | undefined;
    return row ? rowToTopic(row) : null;
  }

  async putTopic(topic: TopicRecord): Promise<void> {
    this.sql(
      `INSERT INTO topics (name, label, description, sample) VALUES (?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET label = excluded.label, description = excluded.description, sample = excluded.sample`,
    ).run(topic.name, topic.label, topic.description, JSON.stringify(topic.sample));
  }

  // ---- webhooks -------------------------------------------------------------------------

  async createWebhook(w: Webhook): Promise<void> {
    this.sql(
      `INSERT INTO webhooks (id, workspace_id, topic, url, secret, prefix, filter, headers, description, enabled, disabled_reason,
         rate_limit, previous_secrets, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      w.id, w.workspaceId, w.topic, w.url, w.secret, w.prefix, w.filter === null ? null : JSON.stringify(w.filter),
      JSON.stringify(w.headers), w.description, w.enabled ? 1 : 0, w.disabledReason, w.rateLimit,
      previousSecretsColumn(w.previousSecrets), w.createdAt, w.updatedAt,
    );
    this.publishSettings++;
  }

  async listWebhooks(workspaceId: string, topic: string | undefined, page: PageRequest): Promise<Page<Webhook>> {
    const rows = this.sql(
      'SELECT * FROM webhooks WHERE workspace_id = ? AND (? IS NULL OR topic = ?) AND seq < ? ORDER BY seq DESC LIMIT ?',
    ).all(workspaceId, topic ?? null, topic ?? null, page.cursor ?? Number.MAX_SAFE_INTEGER, page.limit + 1) as Row[];
    return paged(rows, page.limit, rowToWebhook);
  }

  async getWebhook(workspaceId: string, id: string): Promise<Webhook | null> {
    const row = this.sql('SELECT * FROM webhooks WHERE workspace_id = ? AND id = ?').get(workspaceId, id) as Row | undefined;
    return row ? rowToWebhook(row) : null;
  }

  async findWebhook(id: string): Promise<Webhook | null> {
    const row = this.sql('SELECT * FROM webhooks WHERE id = ?').get(id) as Row | undefined;
    return row ? rowToWebhook(row) : null;
  }

  async updateWebhook(workspaceId: string, id: string, patch: WebhookPatch, now: number): Promise<Webhook | null> {
    // Read and rewritten in one write transaction: the delivery thread may disable it meanwhile.
    return this.write(() => {
      const row = this.sql('SELECT * FROM webhooks WHERE workspace_id = ? AND id = ?').get(workspaceId, id) as Row | undefined;
      if (!row) return null;
      const current = rowToWebhook(row);
      const next: Webhook = { ...current, ...stripUndefined(patch), updatedAt: Math.max(now, current.updatedAt + 1) };
      this.sql(
        `UPDATE webhooks SET topic = ?, url = ?, secret = ?, prefix = ?, filter = ?, headers = ?, description = ?,
           enabled = ?, disabled_reason = ?, rate_limit = ?, previous_secrets = ?, updated_at = ? WHERE workspace_id = ? AND id = ?`,
      ).run(
        next.topic, next.url, next.secret, next.prefix, next.filter === null ? null : JSON.stringify(next.filter),
        JSON.stringify(next.headers), next.description, next.enabled ? 1 : 0, next.disabledReason, next.rateLimit,
        previousSecretsColumn(next.previousSecrets), next.updatedAt, workspaceId, id,
      );
      // Switched back on: its receiver gets a fresh start.
      if (patch.enabled === true && !current.enabled) this.sql('DELETE FROM webhook_health WHERE webhook_id = ?').run(id);
      this.publishSettings++;
      return next;
    });
  }

  async deleteWebhook(workspaceId: string, id: string, now: number): Promise<boolean> {
    return this.write(() => {
      const gone = this.sql('DELETE FROM webhooks WHERE workspace_id = ? AND id = ?').run(workspaceId, id).changes > 0;
      if (gone) {
        // claim + 1: the result of an attempt still in flight is stale and cannot revive the delivery.
        this.sql(`UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, claim = claim + 1, updated_at = ? WHERE webhook_id = ? AND status = 'pending'`).run(now, id);
        this.sql('DELETE FROM webhook_health WHERE webhook_id = ?').run(id);
        this.sql('DELETE FROM webhook_rate WHERE webhook_id = ?').run(id);
        this.publishSettings++;
      }
      return gone;
    });
  }

  // ---- events ---------------------------------------------------------------------------

  async publish(batches: PublishBatch[], planner: FanOutPlanner, now: number): Promise<(PublishOutcome[] | null)[]> {
    // What needs no write lock is done before taking it: reading the workspaces and their
    // webhooks, building the bodies, matching filters, making delivery ids. Should a workspace
    // or webhook change on this connection while the lock is awaited, the plan is made again
    // under the lock. (A webhook the delivery thread disables meanwhile is as one disabled
    // right after the publish: its delivery is closed when claimed.)
    const plan = () => batches.map((b) => this.planBatch(b.workspaceId, b.inputs, planner, now));
    const settings = this.publishSettings;
    let planned = plan();
    return this.write(() => {
      if (this.publishSettings !== settings) planned = plan();
      return planned.map((p) => (p === null ? null : this.writeBatch(p, now)));
    });
  }

  private planBatch(workspaceId: string, inputs: PublishInput[], planner: FanOutPlanner, now: number): PlannedBatch | null {
    const wsRow = this.sql('SELECT * FROM workspaces WHERE id = ?').get(workspaceId) as Row | undefined;
    if (!wsRow) return null;
    const workspace = rowToWorkspace(wsRow);
    const byTopic = new Map<string, Webhook[]>();
    const events = inputs.map((input): PlannedEvent => {
      const { body, addedFields } = planner.body(workspace, input.data);
      let targets: Webhook[] = [];
      if (workspace.webhooksEnabled) {
        let webhooks = byTopic.get(input.topic);
        if (!webhooks) {
          webhooks = this.enabledWebhooks(workspaceId, input.topic);
          byTopic.set(input.topic, webhooks);
        }
        targets = webhooks.filter((w) => planner.matches(w, body));
      }
      return { input, body, addedFields, targets: targets.map((w) => ({ id: newId('dlv', now), webhook: w })) };
    });
    return { workspaceId, events };
  }

  private writeBatch({ workspaceId, events }: PlannedBatch, now: number): PublishOutcome[] {
    const insertEvent = this.sql(
      'INSERT INTO events (id, workspace_id, topic, body, added_fields, idempotency_key, deliveries, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    return events.map(({ input, body, addedFields, targets }) => {
      const earlier = this.findEarlierEvent(workspaceId, input, now);
      if (earlier) return { event: earlier, created: false };
      const info = insertEvent.run(input.id, workspaceId, input.topic, body, addedFields.length ? addedFields.join(',') : null, input.idempotencyKey, targets.length, now);
      this.queueDeliveries(workspaceId, Number(info.lastInsertRowid), targets, now);
      return {
        event: { id: input.id, workspaceId, topic: input.topic, body, addedFields, createdAt: now, deliveries: targets.length },
        created: true,
      };
    });
  }

  private findEarlierEvent(workspaceId: string, input: PublishInput, now: number): EventRecord | null {
    let row: Row | undefined;
    if (input.clientId) {
      row = this.sql('SELECT * FROM events WHERE workspace_id = ? AND id = ?').get(workspaceId, input.id) as Row | undefined;
    }
    if (!row && input.idempotencyKey !== null) {
      row = this.sql('SELECT * FROM events WHERE workspace_id = ? AND idempotency_key = ? AND created_at > ? ORDER BY seq DESC LIMIT 1')
        .get(workspaceId, input.idempotencyKey, now - 24 * 3600 * 1000) as Row | undefined;
    }
    return row ? rowToEvent(row) : null;
  }

  private enabledWebhooks(workspaceId: string, topic: string): Webhook[] {
    return (this.sql('SELECT * FROM webhooks WHERE workspace_id = ? AND topic = ? AND enabled = 1 ORDER BY seq').all(workspaceId, topic) as Row[]).map(rowToWebhook);
  }

  private queueDeliveries(workspaceId: string, eventSeq: number, targets: { id: string; webhook: Webhook }[], now: number): void {
    const insert = this.sql(
      `INSERT INTO deliveries (id, workspace_id, event_seq, webhook_id, url, status, next_attempt_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
    );
    for (const { id, webhook } of targets) insert.run(id, workspaceId, eventSeq, webhook.id, webhook.url, now, now, now);
  }

  async listEvents(workspaceId: string, topic: string | undefined, page: PageRequest): Promise<Page<EventRecord>> {
    const rows = this.sql(
      'SELECT * FROM events WHERE workspace_id = ? AND (? IS NULL OR topic = ?) AND seq < ? ORDER BY seq DESC LIMIT ?',
    ).all(workspaceId, topic ?? null, topic ?? null, page.cursor ?? Number.MAX_SAFE_INTEGER, page.limit + 1) as Row[];
    return paged(rows, page.limit, rowToEvent);
  }

  async getEvent(workspaceId: string, id: string): Promise<EventRecord | null> {
    const row = this.sql('SELECT * FROM events WHERE workspace_id = ? AND id = ?').get(workspaceId, id) as Row | undefined;
    return row ? rowToEvent(row) : null;
  }

  async replayEvent(workspaceId: string, id: string, planner: FanOutPlanner, now: number): Promise<number | null> {
    return this.write(() => {
      const row = this.sql('SELECT * FROM events WHERE workspace_id = ? AND id = ?').get(workspaceId, id) as Row | undefined;
      if (!row) return null;
      const targets = this.enabledWebhooks(workspaceId, row.topic)
        .filter((w) => planner.matches(w, row.body))
        .map((webhook) => ({ id: newId('dlv', now), webhook }));
      this.queueDeliveries(workspaceId, row.seq, targets, now);
      this.sql('UPDATE events SET deliveries = deliveries + ? WHERE seq = ?').run(targets.length, row.seq);
      return targets.length;
    });
  }

  // ---- deliveries -----------------------------------------------------------------------

  async listDeliveries(workspaceId: string, filter: DeliveryFilter, page: PageRequest): Promise<Page<Delivery>> {
    const rows = this.sql(
      `SELECT d.*, e.id AS event_id, e.topic AS topic FROM deliveries d JOIN events e ON e.seq = d.event_seq
       WHERE d.workspace_id = ? AND (? IS NULL OR d.webhook_id = ?) AND (? IS NULL OR e.id = ?) AND (? IS NULL OR d.status = ?)
         AND d.seq < ? ORDER BY d.seq DESC LIMIT ?`,
    ).all(
      workspaceId, filter.webhookId ?? null, filter.webhookId ?? null, filter.eventId ?? null, filter.eventId ?? null,
      filter.status ?? null, filter.status ?? null, page.cursor ?? Number.MAX_SAFE_INTEGER, page.limit + 1,
    ) as Row[];
    return paged(rows, page.limit, rowToDelivery);
  }

  async getDelivery(workspaceId: string, id: string): Promise<{ delivery: Delivery; attempts: Attempt[] } | null> {
    const row = this.sql(
      'SELECT d.*, e.id AS event_id, e.topic AS topic FROM deliveries d JOIN events e ON e.seq = d.event_seq WHERE d.id = ? AND d.workspace_id = ?',
    ).get(id, workspaceId) as Row | undefined;
    if (!row) return null;
    const attempts = (this.sql('SELECT * FROM attempts WHERE delivery_seq = ? ORDER BY number').all(row.seq) as Row[]).map(rowToAttempt);
    return { delivery: rowToDelivery(row), attempts };
  }

  async retryDelivery(workspaceId: string, id: string, now: number): Promise<boolean> {
    // One more attempt: a new cycle that allows exactly one (not when its webhook is gone: nothing could claim it).
    return this.sql(
      `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, cycle_start = attempts, cycle_limit = 1, updated_at = ?
       WHERE id = ? AND workspace_id = ? AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = deliveries.webhook_id)`,
    ).run(now, now, id, workspaceId).changes > 0;
  }

  async recoverDeliveries(workspaceId: string, webhookId: string, since: number, until: number, now: number): Promise<number> {
    return this.sql(
      `UPDATE deliveries SET status = 'pending', next_attempt_at = ?, cycle_start = attempts, cycle_limit = NULL, updated_at = ?
       WHERE workspace_id = ? AND webhook_id = ? AND status = 'failed' AND created_at >= ? AND created_at < ?`,
    ).run(now, now, workspaceId, webhookId, since, until).changes;
  }

  async createTestDelivery(workspaceId: string, webhookId: string, event: EventRecord, deliveryId: string, leaseUntil: number): Promise<ClaimedDelivery> {
    return this.write(() => {
      const info = this.sql(
        'INSERT INTO events (id, workspace_id, topic, body, added_fields, deliveries, created_at) VALUES (?, ?, ?, ?, ?, 1, ?)',
      ).run(event.id, workspaceId, event.topic, event.body, event.addedFields.join(',') || null, event.createdAt);
      const webhook = this.sql('SELECT url FROM webhooks WHERE id = ?').get(webhookId) as Row;
      this.sql(
        `INSERT INTO deliveries (id, workspace_id, event_seq, webhook_id, url, status, next_attempt_at, claim, cycle_limit, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'pending', ?, 1, 1, ?, ?)`,
      ).run(deliveryId, workspaceId, Number(info.lastInsertRowid), webhookId, webhook.url, leaseUntil, event.createdAt, event.createdAt);
      return this.claimedBySql('WHERE d.id = ?', deliveryId)[0]!;
    });
  }

  // ---- the queue ------------------------------------------------------------------------

  private claimedBySql(where: string, ...params: unknown[]): ClaimedDelivery[] {
    const rows = this.sql(
      `SELECT d.seq, d.id, d.claim, d.workspace_id, d.attempts, d.cycle_start, d.cycle_limit,
              e.id AS event_id, e.topic, e.body,
              w.id AS webhook_id, w.url, w.secret, w.prefix, w.headers, w.enabled, w.updated_at AS webhook_version,
              w.rate_limit, w.previous_secrets, h.open_until
       FROM deliveries d JOIN events e ON e.seq = d.event_seq JOIN webhooks w ON w.id = d.webhook_id
       LEFT JOIN webhook_health h ON h.webhook_id = d.webhook_id ${where}`,
    ).all(...params) as Row[];
    return rows.map(rowToClaimed);
  }

  /** Runs `fn` in a write transaction (BEGIN IMMEDIATE: the write lock from the start). */
  private async write<T>(fn: () => T): Promise<T> {
    const run = () => this.db.transaction(fn).immediate();
    return this.writeLock ? this.writeLock.hold(run) : run();
  }

  async claimDue(now: number, limit: number, leaseUntil: number): Promise<ClaimedDelivery[]> {
    // One statement picks the batch, earliest due first, and one takes it; then each event,
    // and each webhook once per batch (most batches hold many deliveries of few webhooks), is
    // read by its key.
    return this.write(() => {
      const due = this.sql(`SELECT seq FROM deliveries WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY next_attempt_at, seq LIMIT ?`)
        .pluck().all(now, limit) as number[];
      if (due.length === 0) return [];
      const taken = this.sql(
        `UPDATE deliveries SET next_attempt_at = ?, claim = claim + 1 WHERE seq IN (SELECT value FROM json_each(?))
         RETURNING seq, id, claim, workspace_id, attempts, cycle_start, cycle_limit, event_seq, webhook_id`,
      ).all(leaseUntil, JSON.stringify(due)) as Row[];
      // RETURNING gives no order: back to the order picked.
      const order = new Map(due.map((seq, i) => [seq, i]));
      taken.sort((a, b) => order.get(a.seq)! - order.get(b.seq)!);
      const readEvent = this.sql('SELECT id, topic, body FROM events WHERE seq = ?');
      const readWebhook = this.sql(
        `SELECT w.id AS webhook_id, w.url, w.secret, w.prefix, w.headers, w.enabled, w.updated_at AS webhook_version,
                w.rate_limit, w.previous_secrets, h.open_until
         FROM webhooks w LEFT JOIN webhook_health h ON h.webhook_id = w.id WHERE w.id = ?`,
      );
      const webhooks = new Map<string, ClaimedDelivery['webhook'] | null>();
      const claimed: ClaimedDelivery[] = [];
      for (const row of taken) {
        let webhook = webhooks.get(row.webhook_id);
        if (webhook === undefined) {
          const w = readWebhook.get(row.webhook_id) as Row | undefined;
          webhook = w ? rowToClaimedWebhook(w) : null;
          webhooks.set(row.webhook_id, webhook);
        }
        const event = readEvent.get(row.event_seq) as Row | undefined;
        if (!webhook || !event) {
          // Deleting a webhook or workspace cancels or removes its deliveries with it; should
          // one be left over all the same, it has nowhere to go.
          this.sql(`UPDATE deliveries SET status = 'cancelled', next_attempt_at = NULL, updated_at = ? WHERE seq = ?`).run(now, row.seq);
          continue;
        }
        claimed.push({
          seq: row.seq, id: row.id, claim: row.claim, workspaceId: row.workspace_id, eventId: event.id, topic: event.topic, body: event.body,
          attempts: row.attempts, cycleStart: row.cycle_start, cycleLimit: row.cycle_limit, webhook,
        });
      }
      return claimed;
    });
  }

  async queueStats(now: number): Promise<{ pending: number; oldestDueAt: number | null }> {
    const row = this.sql(
      `SELECT count(*) AS pending, min(CASE WHEN next_attempt_at <= ? THEN next_attempt_at END) AS oldest
       FROM deliveries WHERE status = 'pending'`,
    ).get(now) as Row;
    return { pending: row.pending, oldestDueAt: row.oldest ?? null };
  }

  async nextDueAt(): Promise<number | null> {
    const row = this.sql(`SELECT min(next_attempt_at) AS due FROM deliveries WHERE status = 'pending'`).get() as Row;
    return row.due ?? null;
  }

  async recordResults(results: AttemptResult[], now: number, health?: HealthPolicy): Promise<HealthEffect[]> {
    const update = this.sql(
      `UPDATE deliveries SET status = ?, attempts = attempts + ?, next_attempt_at = ?, last_status_code = coalesce(?, last_status_code),
         last_error = ?, url = ?, updated_at = ?, cycle_limit = CASE WHEN ? = 'pending' THEN cycle_limit ELSE NULL END
       WHERE seq = ? AND claim = ?`,
    );
    const insertAttempt = this.sql(
      `INSERT OR IGNORE INTO attempts (delivery_seq, number, started_at, duration_ms, status_code, error, response_body, request_headers)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    // Serialised before the write lock is taken.
    const requestHeaders = results.map((r) => (r.attempt ? JSON.stringify(r.attempt.requestHeaders) : null));
    return this.write(() => {
      const outcomes: { webhookId: string; ok: boolean }[] = [];
      for (const [i, r] of results.entries()) {
        const a = r.attempt;
        const changed = update.run(
          r.status, a ? 1 : 0, r.nextAttemptAt, a?.statusCode ?? null, a ? a.error : 'webhook disabled', r.url, now, r.status, r.seq, r.claim,
        ).changes;
        if (changed > 0 && a) {
          insertAttempt.run(r.seq, a.number, a.startedAt, a.durationMs, a.statusCode, a.error, a.responseBody, requestHeaders[i]);
          outcomes.push({ webhookId: r.webhookId, ok: r.status === 'succeeded' });
        }
      }
      return health ? this.applyHealth(health, outcomes, now) : [];
    });
  }

  private applyHealth(policy: HealthPolicy, outcomes: { webhookId: string; ok: boolean }[], now: number): HealthEffect[] {
    const current = new Map<string, WebhookHealth>();
    const read = this.sql('SELECT * FROM webhook_health WHERE webhook_id = ?');
    for (const id of new Set(outcomes.filter((o) => !o.ok).map((o) => o.webhookId))) {
      const row = read.get(id) as Row | undefined;
      if (row) current.set(id, { consecutiveFailures: row.consecutive_failures, failingSince: row.failing_since, openUntil: row.open_until });
    }
    const plan = planHealth(policy, outcomes, current, now);
    const heal = this.sql('DELETE FROM webhook_health WHERE webhook_id = ?');
    for (const id of plan.healed) heal.run(id);
    const write = this.sql(
      `INSERT INTO webhook_health (webhook_id, consecutive_failures, failing_since, open_until, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (webhook_id) DO UPDATE SET consecutive_failures = excluded.consecutive_failures,
         failing_since = excluded.failing_since, open_until = excluded.open_until, updated_at = excluded.updated_at`,
    );
    for (const [id, h] of plan.failing) write.run(id, h.consecutiveFailures, h.failingSince, h.openUntil, now);
    const effects: HealthEffect[] = [];
    for (const effect of plan.effects) {
      if (effect.kind === 'circuit-opened') {
        // Its deliveries wait for the circuit, without counting as attempts.
        this.sql(`UPDATE deliveries SET next_attempt_at = ? WHERE webhook_id = ? AND status = 'pending' AND next_attempt_at < ?`)
          .run(effect.until, effect.webhookId, effect.until);
      } else {
        const changed = this.sql('UPDATE webhooks SET enabled = 0, disabled_reason = ?, updated_at = ? WHERE id = ? AND enabled = 1')
          .run(effect.reason, now, effect.webhookId).changes;
        // Failures of attempts still in flight when it was disabled do not disable it (nor announce it) again.
        if (changed === 0) continue;
      }
      effects.push(effect);
    }
    return effects;
  }

  async releaseClaims(claims: { seq: number; claim: number; at: number }[]): Promise<void> {
    const release = this.sql(`UPDATE deliveries SET next_attempt_at = ? WHERE seq = ? AND claim = ? AND status = 'pending'`);
    return this.write(() => {
      for (const c of claims) release.run(c.at, c.seq, c.claim);
    });
  }

  async holdWebhooks(holds: { webhookId: string; until: number }[], now: number): Promise<void> {
    if (holds.length === 0) return;
    // One pass over the due deliveries for every webhook, not one over each webhook's (all of
    // its deliveries, however old, on the webhook index).
    const hold = this.sql(
      `UPDATE deliveries INDEXED BY deliveries_due
       SET next_attempt_at = (SELECT h.value ->> 'until' FROM json_each(@holds) AS h WHERE h.value ->> 'webhookId' = deliveries.webhook_id)
       WHERE status = 'pending' AND next_attempt_at <= @now AND coalesce(cycle_limit, 0) <> 1
         AND webhook_id IN (SELECT value ->> 'webhookId' FROM json_each(@holds))`,
    );
    const params = { holds: JSON.stringify(holds), now };
    return this.write(() => {
      hold.run(params);
    });
  }

  async takeRateTokens(webhookId: string, perSecond: number, count: number, now: number): Promise<RateGrant> {
    return this.write(() => {
      const row = this.sql('SELECT tat FROM webhook_rate WHERE webhook_id = ?').get(webhookId) as Row | undefined;
      const grant = takeRate(row ? Number(row.tat) : null, perSecond, count, now);
      this.sql(
        `INSERT INTO webhook_rate (webhook_id, tat, granted, updated_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (webhook_id) DO UPDATE SET tat = excluded.tat, granted = excluded.granted, updated_at = excluded.updated_at`,
      ).run(webhookId, grant.tat, grant.granted, now);
      return { granted: grant.granted, retryAt: grant.retryAt };
    });
  }

  async purge(before: number, limit: number): Promise<number> {
    return this.write(() => {
      // Oldest first (seq order follows time), skipping events that still have work pending.
      const events = this.sql(
        `SELECT seq FROM events e WHERE e.created_at < ?
           AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.event_seq = e.seq AND d.status = 'pending')
         ORDER BY seq LIMIT ?`,
      ).all(before, limit) as Row[];
      const deleteAttempts = this.sql('DELETE FROM attempts WHERE delivery_seq IN (SELECT seq FROM deliveries WHERE event_seq = ?)');
      const deleteDeliveries = this.sql('DELETE FROM deliveries WHERE event_seq = ?');
      const deleteEvent = this.sql('DELETE FROM events WHERE seq = ?');
      for (const { seq } of events) {
        deleteAttempts.run(seq);
        deleteDeliveries.run(seq);
        deleteEvent.run(seq);
      }
      return events.length;
    });
  }

  // ---- copying a whole database (copy.ts) ------------------------------------------------

  async exportRows(table: TableName, after: PortableValue[] | null, limit: number): Promise<ExportPage> {
    return copy.exportRows(this.db, table, after, limit);
  }

  importRows(batches: AsyncIterable<ImportBatch>): Promise<void> {
    return copy.importRows(this.db, batches);
  }

  async countRows(): Promise<TableCounts> {
    return copy.countRows(this.db);
  }
}

function stripUndefined<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** An event ready to be written: its body, and the webhooks it goes to with the new deliveries' ids. */
interface PlannedEvent {
  input: PublishInput;
  body: string;
  addedFields: string[];
  targets: { id: string; webhook: Webhook }[];
}

interface PlannedBatch {
  workspaceId: string;
  events: PlannedEvent[];
}
