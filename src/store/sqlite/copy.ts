// Export and import of whole tables on SQLite, for `herald copy` (the tables and the portable
// form are in ../portable.ts). SQLite's topics have no seq column: their rowid is the order.
import type Database from 'better-sqlite3';
import {
  PORTABLE_TABLES, pageOf, portableTable, toPortable,
  type ExportPage, type ImportBatch, type PortableRow, type PortableTable, type PortableValue, type TableCounts, type TableName,
} from '../portable.js';

/** The SQL expression of a column (topics.seq is the rowid). */
function column(table: PortableTable, name: string): string {
  return table.name === 'topics' && name === 'seq' ? 'rowid' : name;
}

export function exportRows(db: Database.Database, name: TableName, after: PortableValue[] | null, limit: number): ExportPage {
  const table = portableTable(name);
  const select = Object.keys(table.columns).map((c) => (column(table, c) === c ? c : `${column(table, c)} AS ${c}`)).join(', ');
  const key = table.key.map((k) => column(table, k)).join(', ');
  const where = after === null ? '' : `WHERE (${key}) > (${table.key.map(() => '?').join(', ')})`;
  const rows = db.prepare(`SELECT ${select} FROM ${table.name} ${where} ORDER BY ${key} LIMIT ?`).all(...(after ?? []), limit) as Record<string, unknown>[];
  return pageOf(table, rows.map((r) => toPortable(table, r)), limit);
}

/**
 * Inserts every batch in one transaction (BEGIN IMMEDIATE … COMMIT around the awaits: this
 * store's other callers, if any, wait for it), or nothing when a batch or the source throws.
 */
export async function importRows(db: Database.Database, batches: AsyncIterable<ImportBatch>): Promise<void> {
  db.exec('BEGIN IMMEDIATE');
  try {
    for await (const batch of batches) {
      const table = portableTable(batch.table);
      if (batch.rows.length > 0) insert(db, table, batch.rows);
    }
    db.exec('COMMIT');
  } catch (err) {
    if (db.inTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

function insert(db: Database.Database, table: PortableTable, rows: PortableRow[]): void {
  // A topic the target already has (Herald's built-in ones) keeps its place and takes the copy's text.
  const columns = Object.keys(table.columns).filter((c) => !(table.name === 'topics' && c === 'seq'));
  const upsert = table.name === 'topics' ? ' ON CONFLICT (name) DO UPDATE SET label = excluded.label, description = excluded.description, sample = excluded.sample, schema = excluded.schema, schema_version = excluded.schema_version' : '';
  const stmt = db.prepare(`INSERT INTO ${table.name} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})${upsert}`);
  for (const row of rows) {
    stmt.run(...columns.map((c) => {
      const v = row[c] ?? null;
      return typeof v === 'boolean' ? (v ? 1 : 0) : v;
    }));
  }
}

export function countRows(db: Database.Database): TableCounts {
  const counts = {} as TableCounts;
  for (const table of PORTABLE_TABLES) {
    counts[table.name] = Number((db.prepare(`SELECT count(*) AS n FROM ${table.name}`).get() as { n: number }).n);
  }
  return counts;
}
