// What several route files do alike: read a page request, answer a page, read and write times.
import { badInput } from '../problems.js';
import type { Page, PageRequest } from '../../store/store.js';

export function pageRequest(query: { limit?: string; cursor?: string }): PageRequest {
  let limit = 50;
  if (query.limit !== undefined) {
    if (!/^\d{1,4}$/.test(query.limit) || Number(query.limit) < 1 || Number(query.limit) > 500) {
      throw badInput('query.limit', 'must be a whole number from 1 to 500');
    }
    limit = Number(query.limit);
  }
  if (query.cursor === undefined || query.cursor === '') return { limit };
  const decoded = Buffer.from(query.cursor, 'base64url').toString('utf8');
  if (!/^p\d{1,15}$/.test(decoded)) throw badInput('query.cursor', 'is not a cursor this API gave out');
  return { limit, cursor: Number(decoded.slice(1)) };
}

/** A store's page as the API answers it (the shape of listOf in schemas.ts). */
export function pageResponse<T, R>(page: Page<T>, present: (row: T) => R): { data: R[]; next_cursor: string | null } {
  return {
    data: page.rows.map(present),
    next_cursor: page.next === null ? null : Buffer.from(`p${page.next}`).toString('base64url'),
  };
}

export function parseTime(path: string, value: string): number {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) throw badInput(path, 'must be an ISO 8601 date-time');
  return ms;
}

/** A stored time (ms since the epoch) as the API writes it: ISO 8601. */
export function iso(ms: number): string;
export function iso(ms: number | null): string | null;
export function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/**
 * A time window [since, until) from `since` and an optional `until` (default: now); 400
 * naming the field. A `since` after a given `until` is refused; after the default one, the
 * window is merely empty.
 */
export function parseWindow(body: { since: string; until?: string }): { since: number; until: number } {
  const since = parseTime('since', body.since);
  if (body.until === undefined) return { since, until: Date.now() + 1 };
  const until = parseTime('until', body.until);
  if (since > until) throw badInput('since', 'must not be after until');
  return { since, until };
}
