// Export and import of whole tables on PostgreSQL, for `herald copy` (the tables and the
// portable form are in ../portable.ts). An import is one transaction on one connection, one
// INSERT … SELECT FROM unnest() per batch, with the rows' own seqs (OVERRIDING SYSTEM VALUE);
// afterwards each identity sequence is moved past the largest seq, so new rows follow.
import type { Pool, PoolClient } from 'pg';
import {
  PORTABLE_TABLES, pageOf, portableTable, toPortable,
  type ColumnKind, type ExportPage, type ImportBatch, type PortableRow, type PortableTable, type PortableValue, type TableCounts, type TableName,
} from '../portable.js';

const ARRAY_TYPE: Record<ColumnKind, string> = { int: 'bigint[]', bool: 'boolean[]', json: 'text[]', text: 'text[]' };

export async function exportRows(pool: Pool, name: TableName, after: PortableValue[] | null, limit: number): Promise<ExportPage> {
  const table = portableTable(name);
  // json columns as their stored text: node-pg would parse them, and lose nothing but key order and escapes — still too much.
  const select = Object.entries(table.columns).map(([c, kind]) => (kind === 'json' ? `${c}::text AS ${c}` : c)).join(', ');
  const key = table.key.join(', ');
  const values: unknown[] = [...(after ?? []), limit];
  const where = after === null ? '' : `WHERE (${key}) > (${table.key.map((_, i) => `$${i + 1}`).join(', ')})`;
  const { rows } = await pool.query(`SELECT ${select} FROM ${table.name} ${where} ORDER BY ${key} LIMIT $${values.length}`, values);
  return pageOf(table, rows.map((r) => toPortable(table, r)), limit);
}

export async function importRows(client: PoolClient, batches: AsyncIterable<ImportBatch>): Promise<void> {
  const touched = new Set<PortableTable>();
  for await (const batch of batches) {
    const table = portableTable(batch.table);
    if (batch.rows.length === 0) continue;
    if (table.name === 'events') await releaseKeys(client, batch.rows);
    await insert(client, table, table.name === 'events' ? lastKeyHolders(batch.rows) : batch.rows);
    touched.add(table);
  }
  for (const table of touched) {
    if (!('seq' in table.columns) || table.name === 'topics') continue;
    await client.query(`SELECT setval(pg_get_serial_sequence($1, 'seq'), (SELECT max(seq) FROM ${table.name}))`, [table.name]);
  }
}

async function insert(client: PoolClient, table: PortableTable, rows: PortableRow[]): Promise<void> {
  // A topic the target already has (Herald's built-in ones) keeps its place and takes the copy's text.
  const columns = Object.entries(table.columns).filter(([c]) => !(table.name === 'topics' && c === 'seq'));
  const names = columns.map(([c]) => c);
  const values = columns.map(([c, kind]) => rows.map((r) => {
    const v = r[c] ?? null;
    // PostgreSQL text cannot hold U+0000 (SQLite's can, in a receiver's answer): the same replacement as recordResults.
    return typeof v === 'string' && kind === 'text' && v.includes('\0') ? v.replaceAll('\0', '\uFFFD') : v;
  }));
  const unnest = columns.map(([, kind], i) => `$${i + 1}::${ARRAY_TYPE[kind]}`).join(', ');
  const selected = columns.map(([c, kind]) => (kind === 'json' ? `u.${c}::json` : `u.${c}`)).join(', ');
  const overriding = names.includes('seq') ? 'OVERRIDING SYSTEM VALUE' : '';
  const upsert = table.name === 'topics'
    ? 'ON CONFLICT (name) DO UPDATE SET label = excluded.label, description = excluded.description, sample = excluded.sample, schema = excluded.schema, schema_version = excluded.schema_version'
    : '';
  await client.query(
    `INSERT INTO ${table.name} (${names.join(', ')}) ${overriding}
     SELECT ${selected} FROM unnest(${unnest}) AS u(${names.join(', ')}) ${upsert}`,
    values,
  );
}

/**
 * SQLite lets an idempotency key that a workspace reused after 24 hours stay on the older
 * event too; here it is unique, held by the newest event (as PostgreSQL's publish does it).
 * Rows come in seq order, so a later row takes the key from an earlier one.
 */
async function releaseKeys(client: PoolClient, rows: PortableRow[]): Promise<void> {
  const keyed = rows.filter((r) => r.idempotency_key !== null);
  if (keyed.length === 0) return;
  await client.query(
    `UPDATE events e SET idempotency_key = NULL FROM unnest($1::text[], $2::text[]) AS k(workspace_id, idempotency_key)
     WHERE e.workspace_id = k.workspace_id AND e.idempotency_key = k.idempotency_key`,
    [keyed.map((r) => r.workspace_id), keyed.map((r) => r.idempotency_key)],
  );
}

/** The rows of one batch, each key kept only by the last row that holds it. */
function lastKeyHolders(rows: PortableRow[]): PortableRow[] {
  const holder = new Map<string, PortableRow>();
  for (const r of rows) if (r.idempotency_key !== null) holder.set(`${r.workspace_id}\n${r.idempotency_key}`, r);
  return rows.map((r) => (r.idempotency_key === null || holder.get(`${r.workspace_id}\n${r.idempotency_key}`) === r ? r : { ...r, idempotency_key: null }));
}

export async function countRows(pool: Pool): Promise<TableCounts> {
  const { rows } = await pool.query(`SELECT ${PORTABLE_TABLES.map((t) => `(SELECT count(*) FROM ${t.name}) AS ${t.name}`).join(', ')}`);
  const counts = {} as TableCounts;
  for (const table of PORTABLE_TABLES) counts[table.name] = Number(rows[0][table.name]);
  return counts;
}
