import { badInput } from '../problems.js';
import type { Page, PageRequest } from '../../store/store.js';

export const pageQuery = {
  limit: { type: 'string', description: 'page size, 1 to 500 (default 50)' },
  cursor: { type: 'string', description: 'next_cursor of the previous page' },
} as const;

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

export function pageResponse<T, R>(page: Page<T>, present: (row: T) => R) {
  return {
    data: page.rows.map(present),
    next_cursor: page.next === null ? null : Buffer.from(`p${page.next}`).toString('base64url'),
  };
}

/** Path parameter schemas: ids are bounded so that odd input is a 404 or a 400, never a 500. */
export const idParam = { type: 'string', minLength: 1, maxLength: 128 } as const;
export const wsParams = {
  type: 'object',
  properties: { ws: idParam },
  required: ['ws'],
} as const;

export function withId(name: string) {
  return {
    type: 'object',
    properties: { ws: idParam, [name]: idParam },
    required: ['ws', name],
  } as const;
}

export const isoDateTime = { type: 'string', maxLength: 64 } as const;

export function parseTime(path: string, value: string): number {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) throw badInput(path, 'must be an ISO 8601 date-time');
  return ms;
}
