// A readable, normalised description of the schema that the migrations produce — tables,
// columns (type, nullability, default, key), indexes and foreign keys, sorted by name — for
// each adapter. The manifests are committed (migrations/schema.<kind>.txt, written by
// scripts/schema-manifest.ts) and test/store/schema-manifest.test.ts compares them with a
// freshly migrated database, so that a migration that changes one store's schema, or makes
// the two differ, shows up as a diff in review.
import pg from 'pg';
import { PostgresStore } from './postgres/postgres-store.js';
import { SqliteStore } from './sqlite/sqlite-store.js';

type Row = Record<string, any>;

const HEADER = (kind: string) =>
  `# The ${kind} schema after every migration (written by scripts/schema-manifest.ts; checked by test/store/schema-manifest.test.ts).\n`;

/** The manifest of a fresh in-memory SQLite database after migrate(). */
export async function sqliteManifest(): Promise<string> {
  const store = new SqliteStore({ path: ':memory:' });
  try {
    await store.migrate();
    const db = store.db;
    const tables = db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as Row[];
    const out: string[] = [HEADER('SQLite')];
    for (const t of tables) {
      out.push(`table ${t.name}${/WITHOUT ROWID/i.test(t.sql) ? ' (without rowid)' : ''}`);
      const columns = db.prepare(`PRAGMA table_info(${t.name})`).all() as Row[];
      for (const c of columns) {
        out.push(`  column ${c.name} ${c.type.toLowerCase()}${c.notnull || c.pk ? ' not null' : ''}${c.dflt_value !== null ? ` default ${c.dflt_value}` : ''}${c.pk ? ` primary key (${c.pk})` : ''}`);
      }
      const indexes = db.prepare(`PRAGMA index_list(${t.name})`).all() as Row[];
      const lines: string[] = [];
      // An INTEGER PRIMARY KEY is the rowid and has no index of its own; listed as PostgreSQL lists its key.
      const key = columns.filter((c) => c.pk).sort((a, b) => a.pk - b.pk).map((c) => c.name);
      if (key.length > 0 && !indexes.some((i) => i.origin === 'pk')) lines.push(`  unique index (primary key) (${key.join(', ')})`);
      for (const i of indexes) {
        const indexColumns = (db.prepare(`PRAGMA index_info(${i.name})`).all() as Row[]).sort((a, b) => a.seqno - b.seqno).map((c) => c.name);
        const sql = (db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`).get(i.name) as Row | undefined)?.sql as string | undefined;
        const where = sql?.match(/\sWHERE\s(.+)$/is)?.[1]?.trim();
        // Indexes SQLite makes for UNIQUE and PRIMARY KEY constraints have generated names.
        const name = i.origin === 'c' ? i.name : `(${i.origin === 'pk' ? 'primary key' : 'unique constraint'})`;
        lines.push(`  ${i.unique ? 'unique ' : ''}index ${name} (${indexColumns.join(', ')})${where ? ` where ${normaliseWhere(where)}` : ''}`);
      }
      out.push(...lines.sort());
      for (const f of db.prepare(`PRAGMA foreign_key_list(${t.name})`).all() as Row[]) {
        out.push(`  foreign key (${f.from}) references ${f.table}(${f.to}) on delete ${f.on_delete.toLowerCase()}`);
      }
    }
    return out.join('\n') + '\n';
  } finally {
    await store.close();
  }
}

/** The manifest of a fresh schema `schema` (created, migrated, then dropped) on the server at `connectionString`. */
export async function postgresManifest(connectionString: string, schema: string): Promise<string> {
  const store = new PostgresStore({ connectionString, schema, poolSize: 1 });
  const admin = new pg.Client({ connectionString });
  await admin.connect();
  try {
    await store.migrate();
    const q = async (text: string) => (await admin.query(text, [schema])).rows as Row[];
    const tables = await q(
      `SELECT c.relname AS name, c.relpersistence, array_to_string(c.reloptions, ', ') AS options FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY c.relname`,
    );
    const columns = await q(
      `SELECT table_name, column_name, data_type, is_nullable, column_default, is_identity, identity_generation, ordinal_position
       FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
    );
    const keys = await q(
      `SELECT tc.table_name, kcu.column_name, kcu.ordinal_position FROM information_schema.table_constraints tc
       JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
       WHERE tc.table_schema = $1 AND tc.constraint_type = 'PRIMARY KEY'`,
    );
    const indexes = await q(
      `SELECT i.tablename, i.indexname, i.indexdef, x.indisprimary, EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.contype = 'u') AS constraint
       FROM pg_indexes i JOIN pg_class c ON c.relname = i.indexname JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = i.schemaname
       JOIN pg_index x ON x.indexrelid = c.oid
       WHERE i.schemaname = $1 ORDER BY i.tablename, i.indexname`,
    );
    const foreign = await q(
      `SELECT c.conrelid::regclass::text AS table_name, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c
       JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = $1 AND c.contype = 'f' ORDER BY 1, 2`,
    );
    const out: string[] = [HEADER('PostgreSQL')];
    for (const t of tables) {
      out.push(`table ${t.name}${t.relpersistence === 'u' ? ' (unlogged)' : ''}${t.options ? ` (${t.options})` : ''}`);
      for (const c of columns.filter((c) => c.table_name === t.name)) {
        const pk = keys.find((k) => k.table_name === t.name && k.column_name === c.column_name);
        const identity = c.is_identity === 'YES' ? ` generated ${c.identity_generation.toLowerCase()} as identity` : '';
        const dflt = c.column_default !== null ? ` default ${String(c.column_default).replace(/::[a-z ]+$/, '')}` : '';
        out.push(`  column ${c.column_name} ${c.data_type}${c.is_nullable === 'NO' ? ' not null' : ''}${dflt}${identity}${pk ? ` primary key (${pk.ordinal_position})` : ''}`);
      }
      const lines: string[] = [];
      for (const i of indexes.filter((i) => i.tablename === t.name)) {
        const def = String(i.indexdef);
        const columnsOf = def.match(/USING \w+ \((.+?)\)(?: WHERE|$)/)?.[1] ?? '?';
        const where = def.match(/ WHERE (.+)$/)?.[1];
        const name = i.indisprimary ? '(primary key)' : i.constraint ? '(unique constraint)' : i.indexname;
        lines.push(`  ${def.startsWith('CREATE UNIQUE') ? 'unique ' : ''}index ${name} (${columnsOf})${where ? ` where ${normaliseWhere(where)}` : ''}`);
      }
      out.push(...lines.sort());
      for (const f of foreign.filter((f) => f.table_name.replace(/^.*\./, '') === t.name)) {
        const m = String(f.def).match(/FOREIGN KEY \((.+?)\) REFERENCES (?:\w+\.)?(\w+)\((.+?)\)(?: ON DELETE (\w+(?: \w+)?))?/);
        out.push(m ? `  foreign key (${m[1]}) references ${m[2]}(${m[3]}) on delete ${(m[4] ?? 'no action').toLowerCase()}` : `  foreign key ${f.def}`);
      }
    }
    return out.join('\n') + '\n';
  } finally {
    await store.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await admin.end();
  }
}

/** A partial index's condition in one spelling for both: no outer parentheses, no casts, single spaces. */
function normaliseWhere(where: string): string {
  let w = where.trim().replace(/\s+/g, ' ').replace(/::text/g, '');
  while (w.startsWith('(') && w.endsWith(')')) w = w.slice(1, -1);
  return w;
}
