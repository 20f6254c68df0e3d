// `herald copy --from <SQLite data directory or file> --to postgres://…`: moves a Herald from
// its embedded SQLite to PostgreSQL (or back), with every workspace, key, webhook, event and
// pending delivery. The copying itself is src/store/copy.ts; this opens the two databases,
// migrates them, reports progress and says what else the new nodes need.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Store } from '../store/store.js';
import { SqliteStore } from '../store/sqlite/sqlite-store.js';
import { PostgresStore } from '../store/postgres/postgres-store.js';
import { copyStore, CopyError, describeCounts } from '../store/copy.js';
import type { TableCounts, TableName } from '../store/portable.js';

export { CopyError } from '../store/copy.js';

export interface CopyCommand {
  /** A SQLite data directory (holding herald.db) or database file, or a postgres:// URL. */
  from: string;
  /** A postgres:// URL, or a SQLite data directory or database file. */
  to: string;
  /** PostgreSQL schema of the source / the target, when it is PostgreSQL. */
  fromSchema?: string;
  toSchema?: string;
  batchSize?: number;
  print(line: string): void;
}

const isPostgres = (location: string) => /^postgres(ql)?:\/\//.test(location);

/** The SQLite database file of a data directory or a file path; must exist unless `create`. */
function sqlitePath(location: string, create: boolean): string {
  const path = resolve(location);
  const directory = existsSync(path) ? statSync(path).isDirectory() : !/\.(db|sqlite3?)$/.test(path);
  const file = directory ? join(path, 'herald.db') : path;
  if (!create && !existsSync(file)) throw new CopyError(`no Herald database at ${file} (give the data directory, HERALD_DATA_DIR, or the herald.db file)`);
  return file;
}

function open(location: string, schema: string | undefined, role: 'source' | 'target'): Store {
  const path = isPostgres(location) ? null : sqlitePath(location, role === 'target');
  try {
    if (path === null) return new PostgresStore({ connectionString: location, schema, poolSize: 2 });
    return new SqliteStore({ path });
  } catch (err) {
    throw new CopyError(`cannot open the ${role} ${shown(location, schema)}: ${(err as Error).message}`);
  }
}

/** Brings a database to this version's schema; a failure says which database could not be reached. */
async function migrate(store: Store, location: string, schema: string | undefined, role: 'source' | 'target'): Promise<void> {
  try {
    await store.migrate();
  } catch (err) {
    throw new CopyError(`cannot prepare the ${role} ${shown(location, schema)}: ${(err as Error).message}`);
  }
}

/** Where a database is, for messages, without the password. */
function shown(location: string, schema: string | undefined): string {
  if (!isPostgres(location)) return sqlitePath(location, true);
  const url = new URL(location);
  if (url.password) url.password = '***';
  return `${url.toString()}${schema ? ` (schema ${schema})` : ''}`;
}

export async function runCopy(command: CopyCommand): Promise<TableCounts> {
  const { print } = command;
  if (resolve(command.from) === resolve(command.to) && command.fromSchema === command.toSchema) {
    throw new CopyError('--from and --to are the same database');
  }
  const source = open(command.from, command.fromSchema, 'source');
  let target: Store | null = null;
  try {
    target = open(command.to, command.toSchema, 'target');
    print(`herald copy: from ${shown(command.from, command.fromSchema)}`);
    print(`             to   ${shown(command.to, command.toSchema)}`);
    // Both at this version's schema: the source as Herald would migrate it on its next start.
    await migrate(source, command.from, command.fromSchema, 'source');
    await migrate(target, command.to, command.toSchema, 'target');
    const started = Date.now();
    // A line when a table starts, every 10 s on a long one, and when it is done.
    const shownAt = new Map<TableName, { copied: number; at: number }>();
    const counts = await copyStore(source, target, {
      batchSize: command.batchSize,
      onProgress(table, copied, total) {
        const last = shownAt.get(table);
        if (last && (last.copied === copied || (copied < total && Date.now() - last.at < 10_000))) return;
        shownAt.set(table, { copied, at: Date.now() });
        print(`  ${table.padEnd(15)} ${copied} of ${total}`);
      },
    });
    print(`copied ${describeCounts(counts) || 'nothing (the source is empty)'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (isPostgres(command.to)) {
      print('');
      print('Before starting Herald on PostgreSQL:');
      print('  - the admin key is not in the database: give every node the same HERALD_ADMIN_KEY');
      if (!isPostgres(command.from)) {
        const keyFile = join(resolve(command.from), 'admin.key');
        if (existsSync(keyFile)) print(`    (the key this SQLite Herald used is in ${keyFile})`);
      }
      print('  - webhook secrets were copied as stored: if HERALD_ENCRYPTION_KEY was set, set the same one on every node');
      print('  - HERALD_DATABASE_URL (and HERALD_DATABASE_SCHEMA) as given to --to (and --to-schema)');
    }
    return counts;
  } finally {
    await source.close();
    await target?.close();
  }
}
