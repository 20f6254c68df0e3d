import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Store } from './store.js';
import { SqliteStore, type SqliteOptions } from './sqlite/sqlite-store.js';
import { PostgresStore } from './postgres/postgres-store.js';
import type { WriteLock } from './sqlite/write-lock.js';

/** How a store is shared with the delivery thread, which opens the same database on its own. */
export interface StoreSharing {
  /** SQLite: the write lock both threads' connections take. */
  writeLock?: WriteLock;
  /** SQLite: who checkpoints the WAL (SqliteOptions.checkpoints); Herald's own connections leave it to a thread. */
  checkpoints?: SqliteOptions['checkpoints'];
  /** PostgreSQL: this thread's part of HERALD_DATABASE_POOL_SIZE. */
  poolSize?: number;
}

/** The parts of HERALD_DATABASE_POOL_SIZE for the main thread and the delivery thread (at least one each). */
export function splitPool(size: number): { main: number; delivery: number } {
  const delivery = Math.max(1, Math.floor(size / 2));
  return { main: Math.max(1, size - delivery), delivery };
}

/**
 * The store that the configuration names: PostgreSQL for HERALD_DATABASE_URL, else SQLite in
 * the data directory; `share` when the delivery thread opens it too.
 */
export function openStore(config: Config, log: Logger, share: StoreSharing = {}): Store {
  if (config.databaseUrl && /^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    return new PostgresStore({
      connectionString: config.databaseUrl,
      poolSize: share.poolSize ?? config.databasePoolSize,
      schema: config.databaseSchema,
      onError: (err) => log.warn({ err }, 'PostgreSQL connection error'),
    });
  }
  if (config.databaseUrl) throw new Error('HERALD_DATABASE_URL must start with postgres:// or postgresql://');
  return new SqliteStore({ path: sqlitePath(config), writeLock: share.writeLock, checkpoints: share.checkpoints });
}

function sqlitePath(config: Config): string {
  return join(resolve(config.dataDir), 'herald.db');
}
