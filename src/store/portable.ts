// The portable form of Herald's tables, for copying a whole database from one store to another
// (`herald copy`, src/store/copy.ts): the tables in an order that satisfies their references,
// their columns as both adapters name them, and how each column's value travels:
//   int  — a JS number (times in ms, seqs, counts)
//   bool — true or false (SQLite stores 0/1)
//   json — the JSON text exactly as stored (key order and escapes kept)
//   text — a string
// Rows keep their seq, so ids, references (deliveries → events, attempts → deliveries) and
// list order survive the copy. The queue's bookkeeping (claim, next_attempt_at, cycles) and
// each webhook's health travel too; a webhook's rate state (webhook_rate) does not: it only
// says what was sent in the last second. Nor do portal sessions (portal_sessions): they live an
// hour or so, and the platform asks for new ones.

export type ColumnKind = 'int' | 'bool' | 'json' | 'text';
export type PortableValue = string | number | boolean | null;
export type PortableRow = Record<string, PortableValue>;

export interface PortableTable {
  name: TableName;
  /** The columns that order the rows and page through them (unique together). */
  key: string[];
  columns: Record<string, ColumnKind>;
}

export type TableName = 'workspaces' | 'api_keys' | 'topics' | 'webhooks' | 'webhook_health' | 'events' | 'deliveries' | 'attempts';

/** Every table, parents before children. */
export const PORTABLE_TABLES: readonly PortableTable[] = [
  {
    name: 'workspaces',
    key: ['seq'],
    columns: { seq: 'int', id: 'text', name: 'text', uri: 'text', webhooks_enabled: 'bool', created_at: 'int', updated_at: 'int' },
  },
  {
    name: 'api_keys',
    key: ['seq'],
    columns: { seq: 'int', id: 'text', workspace_id: 'text', name: 'text', key_hash: 'text', created_at: 'int', revoked_at: 'int' },
  },
  {
    // seq is the catalog's order (SQLite's rowid); a target keeps its own seq for a topic it
    // already has (Herald's built-in ones), and a copied topic replaces its label and sample.
    name: 'topics',
    key: ['seq'],
    columns: { seq: 'int', name: 'text', label: 'text', description: 'text', sample: 'json', schema: 'json', schema_version: 'int' },
  },
  {
    name: 'webhooks',
    key: ['seq'],
    columns: {
      seq: 'int', id: 'text', workspace_id: 'text', topic: 'text', url: 'text', secret: 'text', prefix: 'text', filter: 'json',
      headers: 'json', description: 'text', enabled: 'bool', disabled_reason: 'text', rate_limit: 'int', previous_secrets: 'json',
      signing: 'text', signing_key: 'text', public_key: 'text', previous_signing_keys: 'json',
      ordering: 'text', paused: 'bool', turn_seq: 'int', created_at: 'int', updated_at: 'int',
    },
  },
  {
    name: 'webhook_health',
    key: ['webhook_id'],
    columns: { webhook_id: 'text', consecutive_failures: 'int', failing_since: 'int', open_until: 'int', updated_at: 'int' },
  },
  {
    name: 'events',
    key: ['seq'],
    columns: {
      seq: 'int', id: 'text', workspace_id: 'text', topic: 'text', body: 'text', added_fields: 'text', idempotency_key: 'text',
      deliveries: 'int', created_at: 'int', traceparent: 'text',
    },
  },
  {
    name: 'deliveries',
    key: ['seq'],
    columns: {
      seq: 'int', id: 'text', workspace_id: 'text', event_seq: 'int', webhook_id: 'text', url: 'text', status: 'text', attempts: 'int',
      next_attempt_at: 'int', last_status_code: 'int', last_error: 'text', claim: 'int', cycle_start: 'int', cycle_limit: 'int',
      leased_until: 'int', retry_requested: 'bool', created_at: 'int', updated_at: 'int',
    },
  },
  {
    name: 'attempts',
    key: ['delivery_seq', 'number'],
    columns: {
      delivery_seq: 'int', number: 'int', started_at: 'int', duration_ms: 'int', status_code: 'int', error: 'text',
      response_body: 'text', request_headers: 'json',
    },
  },
];

export function portableTable(name: TableName): PortableTable {
  const table = PORTABLE_TABLES.find((t) => t.name === name);
  if (!table) throw new Error(`no table ${name}`);
  return table;
}

/** One page of a table's rows, in key order; `next` continues after it, null on the last page. */
export interface ExportPage {
  rows: PortableRow[];
  next: PortableValue[] | null;
}

/** A batch of rows of one table, as importRows() takes them. */
export interface ImportBatch {
  table: TableName;
  rows: PortableRow[];
}

/** Rows per table. */
export type TableCounts = Record<TableName, number>;

/** A row from the database into portable form (SQLite's 0/1 flags to booleans, int8 strings to numbers). */
export function toPortable(table: PortableTable, row: Record<string, unknown>): PortableRow {
  const out: PortableRow = {};
  for (const [column, kind] of Object.entries(table.columns)) {
    const v = row[column];
    if (v === null || v === undefined) out[column] = null;
    else if (kind === 'int') out[column] = Number(v);
    else if (kind === 'bool') out[column] = v === true || v === 1;
    else out[column] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}

/** The page after `rows` (a full page of `limit` rows may be followed by more). */
export function pageOf(table: PortableTable, rows: PortableRow[], limit: number): ExportPage {
  const last = rows[rows.length - 1];
  return { rows, next: rows.length === limit && last ? table.key.map((k) => last[k]!) : null };
}
