// The SQLite plumbing under SqliteStore: the connection and its pragmas, prepared statements,
// write transactions behind the shared write lock, durable() (the WAL's fdatasync off the
// event loop), who checkpoints the WAL, migrations, and the version that tells a publish its
// plan is stale.
import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { readMigrations } from '../migrations.js';
import type { Row } from '../rows.js';
import { CHECKPOINT_SETTINGS, Checkpointer, type CheckpointSettings } from './checkpointer.js';
import { DueMark, WriteLock } from './write-lock.js';

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
  /**
   * Who checkpoints the WAL: 'on-commit' (default) SQLite itself, in the commit that takes the
   * WAL past 1,000 pages, on the committing thread; 'thread' a thread this connection starts
   * (checkpointer.ts), sharing its write lock; 'elsewhere' another connection of this process
   * that has that thread (and this write lock). See checkpointer.ts for why.
   */
  checkpoints?: 'on-commit' | 'thread' | 'elsewhere';
  /** The checkpoint thread's settings (tests); CHECKPOINT_SETTINGS by default. */
  checkpointSettings?: CheckpointSettings;
}

/**
 * One connection. better-sqlite3 is synchronous, so each statement runs to completion on the
 * caller's turn of the event loop; only taking the write lock waits.
 */
export class SqliteConnection {
  readonly db: Database.Database;
  private readonly cache = new Map<string, Statement>();
  private readonly walPath: string | null;
  private readonly durability: 'full' | 'normal';
  private readonly writeLock: WriteLock | null;
  private wal: FileHandle | null = null;
  private readonly checkpointer: Checkpointer | null = null;
  private syncing: Promise<void> | null = null;
  private nextSync: Promise<void> | null = null;
  /** total_changes() as of the start of the last completed sync. */
  private syncedChanges = 0;
  /**
   * Bumped by every write here of what a publish plans from (workspaces, webhooks, events): a
   * publish planned before it is planned again. Only this process writes those (the delivery
   * thread's auto-disable aside, which is as a disable right after the publish).
   */
  planVersion = 0;
  /** See markDue: the write lock's, shared by its connections, or this connection's own. */
  private readonly dueMark: DueMark;

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
    // and many commits share one sync. SQLite still syncs around checkpoints itself
    // (which Herald's connections leave to a thread of their own: `checkpoints` below).
    this.db.pragma('synchronous = NORMAL');
    this.walPath = options.path === ':memory:' ? null : options.path + '-wal';
    this.durability = options.durability ?? 'full';
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('temp_store = MEMORY');
    this.db.pragma('cache_size = -16384'); // 16 MiB: the hot part of the queue is small
    const checkpoints = this.walPath === null ? 'on-commit' : (options.checkpoints ?? 'on-commit');
    // The checkpoint thread finishes a checkpoint under the write lock: a connection without a
    // shared one takes a lock of its own (free, and so taken at once, but for the thread's turn).
    this.writeLock = options.writeLock ?? (checkpoints === 'thread' ? new WriteLock() : null);
    this.dueMark = this.writeLock?.due ?? new DueMark();
    if (checkpoints !== 'on-commit') this.db.pragma('wal_autocheckpoint = 0');
    if (checkpoints === 'thread') {
      const settings = options.checkpointSettings ?? CHECKPOINT_SETTINGS;
      const onDeath = () => this.db.open && this.db.pragma('wal_autocheckpoint = 1000');
      this.checkpointer = new Checkpointer({ ...settings, path: options.path, writeLock: this.writeLock!.buffer }, this.writeLock!, onDeath);
    }
  }

  /** Prepared once, reused on every call. */
  sql(text: string): Statement {
    let stmt = this.cache.get(text);
    if (!stmt) {
      stmt = this.db.prepare(text);
      this.cache.set(text, stmt);
    }
    return stmt;
  }

  /**
   * Runs `fn` in a write transaction (BEGIN IMMEDIATE: SQLite's write lock from the start),
   * holding the write lock shared with the process's other connections first. Every write
   * of the store goes through here.
   */
  async write<T>(fn: () => T): Promise<T> {
    const run = () => this.db.transaction(fn).immediate();
    // Without waiting when the lock is free: then `fn` runs on the caller's turn.
    return this.writeLock ? this.writeLock.hold(run) : run();
  }

  /**
   * The due mark: the earliest due time that writes have given deliveries since a claim took it
   * (queue.ts claimPassingOver, which must not trust that it has passed a row that a write made
   * due behind where it stopped: a publish takes its time, then waits for the write lock).
   * Every write that makes deliveries due at a time not later than its own lowers it, inside
   * its transaction; shared by the process's connections to the database, through the lock.
   */
  markDue(at: number): void {
    this.dueMark.lower(at);
  }

  /** The due mark, cleared (see markDue); null when nothing was made due since. */
  takeDueMark(): number | null {
    return this.dueMark.take();
  }

  /**
   * Between the write transactions of a long piece of work: lets the other writers have their
   * turn first (the other threads' through the write lock; this thread's on its event loop).
   */
  async yieldWrites(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    await this.writeLock?.yieldToWaiting();
  }

  /** As write, for a transaction of its own that awaits while it writes (herald copy's import). */
  async writeWhile<T>(fn: () => Promise<T>): Promise<T> {
    return this.writeLock ? this.writeLock.holdWhile(fn) : fn();
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

  async migrate(): Promise<void> {
    this.db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)');
    const migrations = readMigrations('sqlite');
    await this.write(() => {
      const done = new Set(this.db.prepare('SELECT version FROM schema_migrations').all().map((r: any) => r.version as number));
      for (const m of migrations) {
        if (done.has(m.version)) continue;
        this.db.exec(m.sql);
        this.db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(m.version, m.name, Date.now());
      }
    });
  }

  async ping(): Promise<void> {
    // A write, not a read: SELECT 1 succeeds on a full disk or a read-only file, where every
    // publish fails. BEGIN IMMEDIATE takes the write lock, as a publish does.
    const probe = this.sql('INSERT INTO health_probe (id, checked_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at');
    await this.write(() => probe.run(Date.now()));
  }

  async close(): Promise<void> {
    await this.checkpointer?.stop();
    await this.syncing?.catch(() => undefined);
    await this.nextSync?.catch(() => undefined);
    await this.wal?.close().catch(() => undefined);
    this.wal = null;
    if (this.db.open) this.db.close();
  }
}
