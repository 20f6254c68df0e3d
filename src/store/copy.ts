// Copies a whole Herald database from one store to another — typically from the embedded
// SQLite to PostgreSQL when one machine is no longer enough (`herald copy`). Only through the
// Store interface: each table in turn (parents first), page by page, into one transaction on
// the target, so that a copy that fails half-way leaves the target as empty as it found it.
//
// What travels: workspaces, API keys (hashed, so they keep working), the topic catalog,
// webhooks with their secrets as stored (encrypted ones need the same HERALD_ENCRYPTION_KEY),
// their health (open circuits, failing-since), events, deliveries with their state (pending
// ones keep next_attempt_at, attempts and retry cycle, so they are delivered from where they
// were), and every attempt. Every row keeps its id and seq, so lists, cursors and references
// are the same on both sides.
//
// The target must hold no Herald data (topics aside: `herald migrate` seeds them): a copy
// never merges into or overwrites another deployment. The source must not change meanwhile
// (stop Herald first): the rows copied are counted against the source's before and after,
// and a difference rolls the copy back.
import type { CopyStore } from './store.js';
import { PORTABLE_TABLES, type ImportBatch, type PortableValue, type TableCounts, type TableName } from './portable.js';

export interface CopyOptions {
  /** Rows per page read from the source and per INSERT on the target (default 500). */
  batchSize?: number;
  /** Called after each batch with the table and how many of its rows are copied so far. */
  onProgress?(table: TableName, copied: number, total: number): void;
}

/** A copy that was refused or did not complete; its message says why and what to do. */
export class CopyError extends Error {}

/** Copies everything from `source` to the empty `target`; returns how many rows of each table were copied. */
export async function copyStore(source: CopyStore, target: CopyStore, options: CopyOptions = {}): Promise<TableCounts> {
  const batchSize = options.batchSize ?? 500;
  const held = describeCounts(await target.countRows(), (t) => t !== 'topics');
  if (held) {
    throw new CopyError(
      `the target database already holds Herald data (${held}); herald copy only fills an empty database, so that nothing is ` +
        'merged or overwritten. Copy into a new database, or a new schema (HERALD_DATABASE_SCHEMA), or empty this one first.',
    );
  }
  const before = await source.countRows();
  const copied = Object.fromEntries(PORTABLE_TABLES.map((t) => [t.name, 0])) as TableCounts;

  async function* batches(): AsyncGenerator<ImportBatch> {
    for (const table of PORTABLE_TABLES) {
      let after: PortableValue[] | null = null;
      do {
        const page = await source.exportRows(table.name, after, batchSize);
        if (page.rows.length > 0) yield { table: table.name, rows: page.rows };
        copied[table.name] += page.rows.length;
        options.onProgress?.(table.name, copied[table.name], before[table.name]);
        after = page.next;
      } while (after !== null);
    }
    // Still inside the target's transaction: a source that changed rolls everything back.
    const now = await source.countRows();
    const changed = PORTABLE_TABLES.filter((t) => before[t.name] !== now[t.name] || copied[t.name] !== now[t.name]);
    if (changed.length > 0) {
      const what = changed.map((t) => `${t.name}: ${before[t.name]} before, ${copied[t.name]} copied, ${now[t.name]} now`).join('; ');
      throw new CopyError(`the source database changed during the copy (${what}); stop Herald before copying. Nothing was copied.`);
    }
  }

  await target.importRows(batches());

  const after = await target.countRows();
  const short = PORTABLE_TABLES.filter((t) => (t.name === 'topics' ? after[t.name] < copied[t.name] : after[t.name] !== copied[t.name]));
  if (short.length > 0) {
    throw new CopyError(`the target does not hold what was copied (${short.map((t) => `${t.name}: ${copied[t.name]} copied, ${after[t.name]} there`).join('; ')})`);
  }
  return copied;
}

/** "3 workspaces, 120 events" for the tables that `include` keeps and that hold rows; '' when none do. */
export function describeCounts(counts: TableCounts, include: (table: TableName) => boolean = () => true): string {
  return PORTABLE_TABLES.filter((t) => include(t.name) && counts[t.name] > 0)
    .map((t) => `${counts[t.name]} ${counts[t.name] === 1 ? one(t.name) : t.name.replace('_', ' ')}`)
    .join(', ');
}

function one(table: TableName): string {
  return table === 'deliveries' ? 'delivery' : table === 'webhook_health' ? 'webhook health' : table.replace('_', ' ').replace(/s$/, '');
}
