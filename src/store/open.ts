import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Store } from './store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';
import { PostgresStore } from './postgres/postgres-store.js';

/** The store that the configuration names: PostgreSQL for HERALD_DATABASE_URL, else SQLite in the data directory. */
export function openStore(config: Config, log: Logger): Store {
  if (config.databaseUrl && /^postgres(ql)?:\/\//.test(config.databaseUrl)) {
    return new PostgresStore({
      connectionString: config.databaseUrl,
      poolSize: config.databasePoolSize,
      schema: config.databaseSchema,
      onError: (err) => log.warn({ err }, 'PostgreSQL connection error'),
    });
  }
  if (config.databaseUrl) throw new Error('HERALD_DATABASE_URL must start with postgres:// or postgresql://');
  return new SqliteStore({ path: sqlitePath(config) });
}

export function sqlitePath(config: Config): string {
  return join(resolve(config.dataDir), 'herald.db');
}
