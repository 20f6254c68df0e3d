import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Store } from './store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import { PostgresStore } from './postgres/postgres-store.js';
import type { WriteLock } from './sqlite/write-lock.js';

/**
 * The store that the configuration names: PostgreSQL for HERALD_DATABASE_URL, else SQLite in
 * the data directory (with `writeLock` when other threads of this process write to it too).
 */
export function openStore(config: Config, log: Logger, writeLock?: WriteLock): Store {
  if (config.databaseUrl && /^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    return new PostgresStore({
      connectionString: config.databaseUrl,
      poolSize: config.databasePoolSize,
      schema: config.databaseSchema,
      onError: (err) => log.warn({ err }, 'PostgreSQL connection error'),
    });
  }
  if (config.databaseUrl) throw new Error('HERALD_DATABASE_URL must start with postgres:// or postgresql://');
  return new SqliteStore({ path: sqlitePath(config), writeLock });
}

export function sqlitePath(config: Config): string {
  return join(resolve(config.dataDir), 'herald.db');
}
